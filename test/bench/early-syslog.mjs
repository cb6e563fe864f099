// What early remote syslog costs a boot: `sprout boot` on the bench seed with no
// syslog_remote, with a live UDP receiver, and with a TCP server that refuses
// connections (a dead server), all on 127.0.0.1. Target: a dead server costs at
// most the close bound (2 s) and in practice almost nothing.
import { spawnSync } from "node:child_process";
import * as dgram from "node:dgram";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BUNDLE = new URL("../../dist/sprout.js", import.meta.url).pathname;
const SEED = new URL("./seed", import.meta.url).pathname;

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10;
  return { median: q(0.5), p90: q(0.9) };
}

function root(syslog) {
  const dir = mkdtempSync(join(tmpdir(), "sprout-bench-syslog-"));
  cpSync(SEED, join(dir, "var/lib/cloud/seed/nocloud"), { recursive: true });
  mkdirSync(join(dir, "proc"), { recursive: true });
  writeFileSync(join(dir, "proc/cmdline"), "root=/dev/vda1 ro\n");
  if (syslog) {
    mkdirSync(join(dir, "etc/sprout"), { recursive: true });
    writeFileSync(join(dir, "etc/sprout/config.yaml"), `syslog_remote: ${syslog}\n`);
  }
  return dir;
}

function time(syslog, runs) {
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const dir = root(syslog);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [BUNDLE, "--root", dir, "boot", "--quiet"], { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0 && r.status !== 2) throw new Error(`sprout boot exited ${r.status}: ${r.stderr}`);
    if (i >= 2) samples.push(ms);
  }
  return stats(samples);
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

export async function bench(opts = {}) {
  const runs = Math.min(opts.runs ?? 10, 10);
  const udp = dgram.createSocket("udp4");
  await new Promise((ok) => udp.bind(0, "127.0.0.1", ok));
  let received = 0;
  udp.on("message", () => received++);
  try {
    const none = time(null, runs);
    const live = time(`udp://127.0.0.1:${udp.address().port}`, runs);
    // spawnSync held the event loop: let the receiver read what the kernel buffered.
    await new Promise((ok) => setTimeout(ok, 300));
    const perBoot = Math.round(received / (runs + 2));
    const dead = time(`tcp://127.0.0.1:${await freePort()}`, runs);
    return {
      name: "boot-early-syslog",
      bench: "boot-early-syslog",
      runs,
      target_ms: 2000,
      no_syslog_median_ms: none.median,
      udp_live_median_ms: live.median,
      udp_messages_per_boot: perBoot,
      tcp_dead_median_ms: dead.median,
      tcp_dead_p90_ms: dead.p90,
    };
  } finally {
    udp.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await bench()));
