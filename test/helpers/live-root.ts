// One module run on the running system ("/") without touching the machine:
// ./live-root-driver.ts, bundled with esbuild, runs it as root in a private
// mount namespace whose /etc is an overlay and whose /run is a tmpfs (see
// there). For modules that mount, swap on or otherwise act on the live
// system: mounts. Needs root, unshare and overlayfs (loopUnavailable() and
// `unshare --mount true` tell).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import type { ModuleResult } from "../../agent/types";
import type { LiveJob } from "./live-root-driver";

export interface LiveOutput {
  /** The last run's result, and every run's. */
  result: ModuleResult;
  results: ModuleResult[];
  /** /etc/fstab after the run, null when there is none. */
  fstab: string | null;
  /** /proc/self/mountinfo and /proc/swaps as the module left them, inside the namespace. */
  mountinfo: string;
  swaps: string;
  /** The files asked for in `read`, null where missing. */
  read: Record<string, string | null>;
}

/**
 * Runs `job.module` in a namespace; `scratch` (a temp folder the caller removes) holds the
 * bundle, the overlay's upper layer, and `systemctl.calls`: a stub systemctl's argv, one call per line.
 */
export function runModuleLive(scratch: string, job: Omit<LiveJob, "scratch" | "stubBin">): LiveOutput {
  const driver = join(scratch, "live-root-driver.cjs");
  buildSync({ entryPoints: [join(__dirname, "live-root-driver.ts")], bundle: true, platform: "node", format: "cjs", target: "node18", outfile: driver, logLevel: "error" });
  const stubBin = join(scratch, "stub-bin");
  mkdirSync(stubBin, { recursive: true });
  // systemctl is a recorder: the machine's systemd (if any) is not the namespace's to reload.
  writeFileSync(join(stubBin, "systemctl"), `#!/bin/sh\necho "$@" >> ${scratch}/systemctl.calls\n`);
  chmodSync(join(stubBin, "systemctl"), 0o755);
  const full: LiveJob = { ...job, scratch, stubBin };
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", process.execPath, driver, JSON.stringify(full)], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`live-root driver failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as LiveOutput;
}
