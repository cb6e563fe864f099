// Temporary target roots for tests: a directory laid out like a machine's /, and a Host on it.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createHost } from "../../agent/host";
import type { Host, TargetRoot } from "../../agent/host/types";

export interface TempRoot {
  dir: string;
  /** Writes a file under the root (creating directories). */
  write(path: string, content: string | Uint8Array, mode?: number): void;
  host(): Host;
  cleanup(): void;
}

export function tempRoot(files: Record<string, string | Uint8Array> = {}): TempRoot {
  // In the run's folder (test/temp-dir-setup.ts) when vitest made one, so no root outlives the run.
  const dir = mkdtempSync(join(process.env.SPROUT_TEST_TMP ?? tmpdir(), "sprout-root-"));
  const write = (path: string, content: string | Uint8Array, mode = 0o644) => {
    const p = join(dir, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content, { mode });
  };
  for (const [p, c] of Object.entries(files)) write(p, c);
  return {
    dir,
    write,
    host: () => createHost({ root: dir, logFile: "/var/log/sprout.log" }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The same target root presented as the running system (isSystemRoot true), for code
 * that acts on the live machine only there: every call still goes to the temp root
 * itself, so paths resolve under its directory and nothing reaches this machine's files.
 */
export function asRunningSystem(root: TargetRoot, overrides: Partial<TargetRoot> = {}): TargetRoot {
  return withOverrides(root, { isSystemRoot: true, ...overrides });
}

/** The same target root with `overrides` in place of some of its members; everything else goes to the root itself. */
export function withOverrides(root: TargetRoot, overrides: Partial<TargetRoot>): TargetRoot {
  return new Proxy(root, {
    get(target, key) {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return (overrides as Record<string | symbol, unknown>)[key];
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The root with `path` a device that opens and shows a size but answers every read with
 * the kernel's EIO, as qemu's empty CD drive did in a VM boot. (A real one needs
 * device-mapper's error target, which this machine's kernel lacks.)
 */
export function withUnreadableDevice(root: TargetRoot, path: string): TargetRoot {
  const eio = () => Object.assign(new Error("EIO: i/o error, read"), { code: "EIO", errno: -5, syscall: "read" });
  return withOverrides(root, {
    openBlock: (p: string) =>
      p !== path
        ? root.openBlock(p)
        : {
            path,
            size: 1024 * 1024,
            read: () => {
              throw eio();
            },
            close: () => undefined,
          },
  });
}
