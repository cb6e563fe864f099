// The files the ntp module writes, read by the real clients: chrony's own parser
// (`chronyd -p` prints the configuration it parsed, or fails naming the line) and
// systemd-timesyncd reading its drop-in. Both programs come unpacked from their
// Debian packages (test/helpers/unpacked-deb.ts), never installed, so no daemon is
// enabled or started on this machine. systemd-timesyncd runs in its own mount, pid
// and network namespace (only a downed loopback: no name is resolved, no packet
// leaves) with a private /run and /var/lib/systemd, and is stopped once it has read
// its configuration.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { unpackedDeb } from "../../test/helpers/unpacked-deb";
import { ntp } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

async function written(cfg: Record<string, unknown>, program: string, path: string): Promise<string> {
  root = tempRoot();
  root.write(program, "#!/bin/sh\n", 0o755);
  const res = await ntp.run({ ntp: cfg }, moduleContext(root, "config"));
  expect(res.errors).toEqual([]);
  return join(root.dir, path);
}

const chrony = unpackedDeb("chrony");
const chronyd = "tree" in chrony ? join(chrony.tree, "usr/sbin/chronyd") : "";
if (!("tree" in chrony)) console.warn(`skipping chronyd -p tests: ${chrony.unavailable}`);

describe.skipIf(!chronyd)("ntp: chronyd parses the chrony.conf sprout writes", () => {
  const parse = (file: string) => spawnSync(chronyd, ["-p", "-f", file], { encoding: "utf8", timeout: 20_000 });

  it("default pools, and servers, pools, peers and allow: chronyd -p accepts every line", async () => {
    for (const cfg of [{}, { servers: ["ntp.example.com", "192.0.2.20", "2001:db8::123"], pools: ["0.int.pool.ntp.org"], peers: ["peer1.example.com"], allow: ["192.0.2.0/24", "2001:db8::/32"] }]) {
      const r = parse(await written(cfg, "usr/sbin/chronyd", "/etc/chrony/chrony.conf"));
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const lines = r.stdout.split("\n");
      if ("servers" in cfg) {
        for (const l of ["server ntp.example.com iburst", "server 192.0.2.20 iburst", "server 2001:db8::123 iburst", "pool 0.int.pool.ntp.org iburst", "peer peer1.example.com", "allow 192.0.2.0/24", "allow 2001:db8::/32"]) expect(lines).toContain(l);
      } else {
        for (const n of [0, 1, 2, 3]) expect(lines).toContain(`pool ${n}.debian.pool.ntp.org iburst`);
      }
      expect(lines).toContain("keyfile /etc/chrony/chrony.keys");
      root.cleanup();
    }
  });

  it("the check can fail: a line sprout would refuse to write is rejected by chronyd too", () => {
    const dir = mkdtempSync(join(tmpdir(), "sprout-chrony-"));
    try {
      writeFileSync(join(dir, "bad.conf"), "server ntp.example.com iburst\nserver a b\n");
      const r = parse(join(dir, "bad.conf"));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Could not parse server directive at line 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const timesyncd = unpackedDeb("systemd-timesyncd");
const timesyncdBin = "tree" in timesyncd ? join(timesyncd.tree, "lib/systemd/systemd-timesyncd") : "";
const timesyncdWhy = !timesyncdBin ? timesyncd && "unavailable" in timesyncd ? timesyncd.unavailable : "" : process.getuid?.() !== 0 ? "needs root (mount and network namespaces)" : spawnSync("unshare", ["--mount", "--net", "--pid", "--fork", "true"]).status !== 0 ? "unshare --mount --net --pid fails here" : null;
if (timesyncdWhy) console.warn(`skipping systemd-timesyncd drop-in tests: ${timesyncdWhy}`);

/** systemd-timesyncd's log from its start until it runs (or 20 s), with `dropIn` as its only drop-in. */
function timesyncdReads(dropIn: string): Promise<string> {
  const script = `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/timesyncd.conf.d
cp "$1" /run/systemd/timesyncd.conf.d/cloud-init.conf
mkdir -p /var/lib/systemd && mount -t tmpfs tmpfs /var/lib/systemd
"$2"`;
  return new Promise((resolve) => {
    const child = spawn("unshare", ["--mount", "--net", "--pid", "--fork", "--kill-child", "--propagation", "private", "sh", "-c", script, "sh", dropIn, timesyncdBin], {
      env: { PATH: process.env.PATH, SYSTEMD_LOG_LEVEL: "debug", SYSTEMD_LOG_TARGET: "console" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    const stop = () => child.kill("SIGKILL");
    const bound = setTimeout(stop, 20_000);
    const take = (d: Buffer) => {
      log += d.toString();
      if (/running as pid/.test(log)) stop();
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", () => {
      clearTimeout(bound);
      resolve(log);
    });
  });
}

describe.skipIf(timesyncdWhy !== null)("ntp: systemd-timesyncd reads the drop-in sprout writes", () => {
  it("every server and pool becomes a system server, and no line of the drop-in is ignored", async () => {
    const file = await written({ servers: ["ntp.example.com", "192.0.2.20"], pools: ["pool.example.com"] }, "lib/systemd/systemd-timesyncd", "/etc/systemd/timesyncd.conf.d/cloud-init.conf");
    const log = await timesyncdReads(file);
    expect(log).toContain("running as pid");
    for (const s of ["ntp.example.com", "192.0.2.20", "pool.example.com"]) expect(log).toContain(`Added new system server ${s}.`);
    expect(log).not.toMatch(/cloud-init\.conf:\d+:/);
  });

  it("the check can fail: a drop-in line timesyncd does not understand is reported", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sprout-timesyncd-"));
    try {
      writeFileSync(join(dir, "bad.conf"), "[Time]\nNTP=ntp.example.com\nBogusKey=x\n");
      const log = await timesyncdReads(join(dir, "bad.conf"));
      expect(log).toMatch(/cloud-init\.conf:3: Unknown key '?BogusKey'? in section \[Time\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
