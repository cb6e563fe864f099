// A throwaway Debian bookworm root with the real `locales`, `ca-certificates` and
// debconf: an overlay of the cached e2e chroot and its cloud-init layer (which
// brings those packages), mounted on a temp directory. Modules run against it with
// `--root` semantics (their commands go through chroot), so tests use the tools a
// user meets without touching this machine. Only the upper layer is written; the
// mount is in this machine's namespace for the test's length (cleanup() detaches it).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createHost } from "../../agent/host";
import type { Host } from "../../agent/host/types";
// @ts-expect-error -- plain .mjs helper shared with the command line
import { ensureChroot } from "../e2e/chroot-image.mjs";
// @ts-expect-error -- plain .mjs helper shared with the bench
import { ensureCloudInitLayer } from "../bench/cloud-init-chroot.mjs";

/** Why a Debian root cannot be made here, or null. */
export function debianRootUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root (overlay mount, chroot)";
  for (const tool of ["debootstrap", "chroot", "mount"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool}: run test/install-deps.sh`;
  }
  return null;
}

export interface DebianRoot {
  /** The merged tree: the target root. */
  dir: string;
  host(): Host;
  /** Runs argv inside the root (chroot), for checking what a module did. */
  inside(argv: string[]): { code: number | null; stdout: string; stderr: string };
  cleanup(): void;
}

export function debianRoot(): DebianRoot {
  const lowers = `${ensureCloudInitLayer()}:${ensureChroot()}`;
  const base = mkdtempSync("/var/tmp/sprout-debroot-");
  for (const d of ["upper", "work", "merged"]) mkdirSync(join(base, d));
  const dir = join(base, "merged");
  const m = spawnSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lowers},upperdir=${base}/upper,workdir=${base}/work`, dir], { encoding: "utf8" });
  if (m.status !== 0) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`overlay mount failed: ${m.stderr}`);
  }
  return {
    dir,
    host: () => createHost({ root: dir, logFile: "/var/log/sprout.log" }),
    inside: (argv) => {
      const r = spawnSync("chroot", [dir, ...argv], { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, timeout: 120_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    cleanup: () => {
      // Lazily: the Host's log file inside the root stays open until the test process ends.
      spawnSync("umount", ["-l", dir]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
