import type { Host, TargetRoot } from "./host/types";

export const LOCK_FILE = "/run/sprout/sprout.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid written in the lock file, or null when there is none (no lock, or not a pid). */
export function lockHolder(root: TargetRoot): number | null {
  const pid = Number((root.tryReadText(LOCK_FILE) ?? "").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export interface Lock {
  release(): void;
}

/**
 * One sprout at a time changes the machine. A second one waits for the lock up
 * to `waitMs`, then gives up with a message naming the holder. A lock left by a
 * process that died (its pid is gone) is taken over.
 */
export async function acquireLock(h: Host, waitMs: number): Promise<Lock | { heldBy: number | null }> {
  const deadline = h.clock.monoMs() + waitMs;
  for (;;) {
    if (h.root.createExclusive(LOCK_FILE, `${process.pid}\n`, 0o644)) {
      return {
        release: () => {
          if (lockHolder(h.root) === process.pid) h.root.remove(LOCK_FILE);
        },
      };
    }
    const holder = lockHolder(h.root);
    if (holder === null || !alive(holder)) {
      h.log.warn(`removing a stale lock ${LOCK_FILE}${holder !== null ? ` left by pid ${holder}, which is gone` : ""}`);
      h.root.remove(LOCK_FILE);
      continue;
    }
    if (h.clock.monoMs() >= deadline) return { heldBy: holder };
    await h.clock.sleep(Math.min(100, Math.max(1, deadline - h.clock.monoMs())));
  }
}
