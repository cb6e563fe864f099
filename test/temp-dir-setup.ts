// One temporary folder per test run for the target roots tests make (test/helpers/target.ts,
// hundreds a run), removed at its end. Most tests clean their roots, but a failing test or
// a module-level fixture leaves its folder behind, and a CI machine that runs the suite
// daily fills /tmp. SPROUT_TEST_TMP, set here before vitest forks its workers, names it.
// (Not TMPDIR: that would follow every command the tests run into their chroots, where
// the folder does not exist.)
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const runDir = mkdtempSync(join(tmpdir(), "sprout-tests-"));
  // As /tmp is: tests run sprout as another user (nobody), who must reach their folders.
  chmodSync(runDir, 0o1777);
  process.env.SPROUT_TEST_TMP = runDir;
  return () => removeUnlessMounted(runDir);
}

/**
 * Removes `dir` unless something is still mounted below it: a recursive removal would
 * go on into that mount (a loop device's filesystem, a bind mount of a chroot's /dev)
 * and delete what is not the test's. Such a folder is left and named.
 */
export function removeUnlessMounted(dir: string): void {
  const mounted = mountPointsUnder(dir);
  if (mounted.length > 0) {
    process.stderr.write(`test temp folder ${dir} kept: still mounted there: ${mounted.join(", ")}\n`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

function mountPointsUnder(dir: string): string[] {
  // mountinfo's fifth field is the mount point, with spaces and the like octal-escaped.
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  return lines
    .map((line) => line.split(" ")[4] ?? "")
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === dir || point.startsWith(dir + "/"));
}
