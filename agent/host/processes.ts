// The running machine's process tree, read from /proc (always this machine's, whatever
// --root says: it is about processes, not the target's files).
import { readFileSync } from "node:fs";

/** The parent of `pid`, or null when it is gone or /proc cannot say. */
function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(ppid) && ppid >= 0 ? ppid : null;
  } catch {
    return null;
  }
}

/** Whether this process was started, directly or not, by `ancestor` (still its parent chain). */
export function isDescendantOf(ancestor: number): boolean {
  let pid: number | null = process.ppid;
  // A chain longer than this is a loop in what /proc showed, not a real process tree.
  for (let depth = 0; pid !== null && pid > 1 && depth < 256; depth++) {
    if (pid === ancestor) return true;
    pid = parentPid(pid);
  }
  return false;
}
