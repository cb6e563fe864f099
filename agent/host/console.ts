// The console (stdout and stderr), written with write(2) on file descriptors 1 and 2.
// Not process.stdout/stderr: Node makes those streams on first use and, for a pipe or
// the journal's socket, loads net and the stream machinery (several ms; on Debian's
// Node 18, which compiles every built-in from source, more). A line to the console
// needs none of it.
import * as fs from "node:fs";

/** How long a full non-blocking pipe may hold a write up before the rest is dropped. */
const FULL_PIPE_BOUND_MS = 2000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data` to fd 1 or 2. A reader that went away (EPIPE, `sprout status | head`)
 * ends sprout quietly with the exit code it has so far; a console that is closed (EBADF) or
 * broken takes nothing, and the boot goes on.
 */
export function writeConsole(fd: 1 | 2, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  let waited = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPIPE") process.exit(process.exitCode ?? 0);
      // A pipe its parent made non-blocking, full for now: wait a little, within a bound.
      if (code === "EAGAIN" && waited < FULL_PIPE_BOUND_MS) {
        Atomics.wait(pause, 0, 0, 5);
        waited += 5;
        continue;
      }
      return;
    }
  }
}
