// A bench root's /run as a booting machine has it: a tmpfs (systemd mounts one before
// any unit starts). Without it the root's /run is a folder on the disk the temp dir is
// on, and each replacement of a /run file (status.json as a stage starts) costs a flush
// that ext4 does on a rename over an existing file: about 1 ms here, which no boot pays.
// Mounting needs root; elsewhere /run stays a folder and the bench says so.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const canMount = typeof process.getuid === "function" && process.getuid() === 0;

/** Mounts a tmpfs at DIR/run; true when it did. */
export function mountRunTmpfs(dir) {
  if (!canMount) return false;
  mkdirSync(join(dir, "run"), { recursive: true });
  return spawnSync("mount", ["-t", "tmpfs", "-o", "mode=0755,size=16m", "sprout-bench-run", join(dir, "run")], { stdio: "ignore" }).status === 0;
}

/** Undoes mountRunTmpfs, before the root is removed. */
export function unmountRun(dir, mounted) {
  if (mounted) spawnSync("umount", [join(dir, "run")], { stdio: "ignore" });
}
