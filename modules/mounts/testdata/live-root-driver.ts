// Run by loop.test.ts (bundled with esbuild) inside `unshare --mount
// --propagation private`, as root: the mounts module on the running system
// ("/"), with /etc an overlay (its fstab written by the test, the module's
// atomic write landing in the scratch folder) and /run a fresh tmpfs, so every
// mount the module makes, mount -a included, lives and dies with this mount
// namespace. Swap is not namespaced: whatever this run switched on under the
// scratch folder is switched off before it exits.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHost } from "../../../agent/host";
import type { CloudConfig } from "../../../agent/types";
import { moduleContext } from "../../../test/helpers/module-context";
import { mounts } from "..";

export interface LiveJob {
  cfg: CloudConfig;
  scratch: string;
  fstab: string;
  /** Make /run/systemd/system, so the module thinks systemd runs the machine (systemctl is a stub in stubBin). */
  systemd: boolean;
  stubBin: string;
  /** Files to read after the run (on the mounted filesystems). */
  read: string[];
}

function swapoffUnder(dir: string): void {
  for (const line of readFileSync("/proc/swaps", "utf8").split("\n").slice(1)) {
    const path = line.split(/\s+/)[0];
    if (path && path.startsWith(`${dir}/`)) execFileSync("swapoff", [path]);
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as LiveJob;
  const upper = `${job.scratch}/etc-upper`;
  const work = `${job.scratch}/etc-work`;
  mkdirSync(upper, { recursive: true });
  mkdirSync(work, { recursive: true });
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=/etc,upperdir=${upper},workdir=${work}`, "/etc"]);
  writeFileSync("/etc/fstab", job.fstab);
  execFileSync("mount", ["-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"]);
  if (job.systemd) mkdirSync("/run/systemd/system", { recursive: true });
  process.env.PATH = `${job.stubBin}:${process.env.PATH}`;
  const h = createHost({ root: "/", logFile: null });
  const out: Record<string, unknown> = {};
  try {
    out.result = await mounts.run(job.cfg, moduleContext(h, "network"));
    out.fstab = readFileSync("/etc/fstab", "utf8");
    out.mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
    out.swaps = readFileSync("/proc/swaps", "utf8");
    out.read = Object.fromEntries(job.read.map((p) => [p, existsSync(p) ? readFileSync(p, "utf8") : null]));
  } finally {
    swapoffUnder(job.scratch);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
