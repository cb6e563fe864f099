// A program of the machine being configured, run inside it: directly when the target
// is the running system, under chroot otherwise (--root on an image or a temp root),
// so the target's own tools, libraries and config files are the ones used. With a
// clean environment (the boot's PATH, the C locale) and the caller's bound.
import type { Host, RunResult, TargetRoot } from "./host/types";

const TARGET_PATH_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const TARGET_PATH = TARGET_PATH_DIRS.join(":");

/** Where `exe` is in the target (an absolute path, or a name on the boot's PATH; executable), or null. */
export function findInTarget(root: TargetRoot, exe: string): string | null {
  const candidates = exe.includes("/") ? [exe.startsWith("/") ? exe : `/${exe}`] : TARGET_PATH_DIRS.map((d) => `${d}/${exe}`);
  for (const c of candidates) {
    try {
      const st = root.stat(c);
      if (st?.kind === "file" && (st.mode & 0o111) !== 0) return c;
    } catch {
      // a path that leaves the root is not there
    }
  }
  return null;
}

export function targetArgv(h: Host, argv: string[]): string[] {
  return h.root.isSystemRoot ? argv : ["chroot", h.root.dir, ...argv];
}

/** Runs argv in the target; null when it exits 0, else a short reason (the last lines it printed, a timeout, a spawn error). */
export async function runInTarget(h: Host, argv: string[], opts: { timeoutMs: number; input?: string }): Promise<{ failure: string | null; result: RunResult }> {
  const result = await h.run.run(targetArgv(h, argv), { timeoutMs: opts.timeoutMs, input: opts.input, env: { PATH: TARGET_PATH, LC_ALL: "C" }, cleanEnv: true, maxCapture: 64 * 1024 });
  return { failure: result.code === 0 ? null : describeFailure(result, opts.timeoutMs), result };
}

/** A failed run in a few words for a message: the spawn error, the timeout, or the exit status and the last lines it printed. */
export function describeFailure(r: Pick<RunResult, "code" | "spawnError" | "timedOut" | "stderr" | "stdout">, timeoutMs: number): string {
  if (r.spawnError) return r.spawnError;
  if (r.timedOut) return `timed out after ${timeoutMs / 1000} s`;
  // The last lines say why; a tool that prints pages is cut to its last 300 characters.
  const text = (r.stderr.toString("utf8").trim() || r.stdout.toString("utf8").trim()).split("\n").slice(-3).join(" / ").slice(-300);
  return text ? `exit ${r.code}: ${text}` : `exit ${r.code}`;
}
