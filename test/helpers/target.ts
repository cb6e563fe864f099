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
  const dir = mkdtempSync(join(tmpdir(), "sprout-root-"));
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
  return new Proxy(root, {
    get(target, key) {
      if (key === "isSystemRoot") return true;
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return (overrides as Record<string | symbol, unknown>)[key];
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
