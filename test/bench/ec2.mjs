// `sprout boot` on EC2 as a whole process (Node start included), first boot of a
// fresh --root whose DMI says EC2 and whose config points at the IMDS mock, run as
// a separate process (test/imds-mock/serve.mjs) so it answers while the boot runs.
//   bench()        the mock answering at once (target: median under 150 ms)
//   benchHanging() a mock that never answers, datasource.Ec2.max_wait: 3 (target: under 4 s)
// test/bench/run.mjs calls bench() and benchHanging() (ec2-hanging.mjs); run alone,
// `node test/bench/ec2.mjs` prints both lines.
// Each root's /run is a tmpfs, as on a machine (machine-root.mjs).
// The boots use a code cache of their own (SPROUT_CODE_CACHE_DIR in a temp dir) filled
// as the package fills it on a machine, by packaging/bin/warm-code-cache: sharing
// /var/cache/sprout with the other benches would measure EC2 boots on a cache whose
// content depends on which bench ran first for this build.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { mountRunTmpfs, unmountRun } from "./machine-root.mjs";

// As in run.mjs: a booting machine's units do not set NODE_EXTRA_CA_CERTS (~50 ms per Node start here).
delete process.env.NODE_EXTRA_CA_CERTS;

const SERVE = new URL("../imds-mock/serve.mjs", import.meta.url).pathname;
const BUNDLE = new URL("../../dist/sprout.js", import.meta.url).pathname;
const WARM_CODE_CACHE = new URL("../../packaging/bin/warm-code-cache", import.meta.url).pathname;

function quantiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10;
  return { median_ms: q(0.5), p90_ms: q(0.9), max_ms: Math.round(s[s.length - 1] * 10) / 10 };
}

async function startMock(args) {
  const p = spawn(process.execPath, [SERVE, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: p.stdout }).once("line", resolve);
    p.once("exit", (code) => reject(new Error(`imds mock exited with ${code}`)));
  });
  return { url: JSON.parse(line).url, stop: () => p.kill("SIGTERM") };
}

function ec2Root(url, ec2) {
  const dir = mkdtempSync(join(tmpdir(), "sprout-bench-ec2-"));
  const files = {
    "proc/cmdline": "root=/dev/vda1 ro\n",
    "sys/class/dmi/id/product_uuid": "ec2e1916-9099-7caf-fd21-012345abcdef\n",
    "sys/class/dmi/id/sys_vendor": "Amazon EC2\n",
    "etc/sprout/config.d/50-imds.yaml": JSON.stringify({ datasource: { Ec2: { metadata_urls: [url], timeout: 1, ...ec2 } } }),
  };
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

/** Boots fresh roots `runs` times after `warmup` unmeasured boots; wall time of each `node dist/sprout.js boot`. */
function timeBoots(url, ec2, runs, warmup) {
  const samples = [];
  const codes = new Set();
  const cacheDir = mkdtempSync(join(tmpdir(), "sprout-bench-ec2-cache-"));
  const env = { ...process.env, SPROUT_CODE_CACHE_DIR: cacheDir };
  spawnSync("sh", [WARM_CODE_CACHE], { stdio: "ignore", timeout: 60_000, env: { ...env, SPROUT_JS: BUNDLE } });
  let runOnTmpfs = true;
  for (let i = 0; i < warmup + runs; i++) {
    const dir = ec2Root(url, ec2);
    const mounted = mountRunTmpfs(dir);
    runOnTmpfs &&= mounted;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [BUNDLE, "--root", dir, "boot", "--quiet"], { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000, env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    unmountRun(dir, mounted);
    rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0 && r.status !== 2) throw new Error(`sprout boot exited ${r.status}: ${r.stderr}`);
    codes.add(r.status);
    if (i >= warmup) samples.push(ms);
  }
  rmSync(cacheDir, { recursive: true, force: true });
  return { ...quantiles(samples), exit_codes: [...codes], run_on_tmpfs: runOnTmpfs };
}

export async function bench(opts = {}) {
  const mock = await startMock(["--user-data", new URL("./seed/user-data", import.meta.url).pathname]);
  try {
    return { name: "boot-ec2-imdsv2", bench: "boot-ec2-imdsv2", runs: opts.runs ?? 20, target_ms: 150, ...timeBoots(mock.url, {}, opts.runs ?? 20, 2) };
  } finally {
    mock.stop();
  }
}

export async function benchHanging(opts = {}) {
  const runs = Math.min(opts.runs ?? 3, 3);
  const mock = await startMock(["--hang"]);
  try {
    return { name: "boot-ec2-hanging-max-wait-3", bench: "boot-ec2-hanging-max-wait-3", runs, target_ms: 4000, ...timeBoots(mock.url, { max_wait: 3 }, runs, 0) };
  } finally {
    mock.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench({ runs: Number(process.env.BENCH_RUNS || 20) })));
  console.log(JSON.stringify(await benchHanging()));
}
