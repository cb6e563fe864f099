import type * as ChildProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable, Stream } from "node:stream";
import { lazyBuiltin } from "../lazy-builtin";
import { monoMs } from "./clock";
import type { RunOptions, RunResult, Runner } from "./types";

// Loaded by the first command a boot runs; a boot that runs none never pays for it.
const childProcess = lazyBuiltin<typeof ChildProcess>("node:child_process");

const DEFAULT_CAPTURE = 1024 * 1024;
const KILL_GRACE_MS = 2000;
/**
 * How long after a program exits its output may take to end. It ends at once unless a
 * process the program started still holds it: `nohup server &` in runcmd. cloud-init
 * waits for the script alone, and the server keeps running; so does sprout, past this.
 */
const OUTPUT_GRACE_MS = 1000;
/** The PATH programs are looked up in when sprout's own environment has none (a bare unit). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs programs by argv (never through a shell string sprout built), always with a deadline. */
export class ProcessRunner implements Runner {
  which(name: string): string | null {
    if (name.includes("/")) return isExecutable(name) ? name : null;
    const dirs = (process.env.PATH || DEFAULT_PATH).split(":");
    for (const dir of dirs) {
      if (!dir) continue;
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
    return null;
  }

  run(argv: string[], opts: RunOptions): Promise<RunResult> {
    const started = monoMs();
    const maxCapture = opts.maxCapture ?? DEFAULT_CAPTURE;
    return new Promise((resolve) => {
      const env = opts.cleanEnv ? { ...opts.env } : { ...process.env, ...opts.env };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let dropped = 0;
      let timedOut = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      let outputLeftOpen = false;
      const finish = (code: number | null, signal: string | null, spawnError: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        if (graceTimer) clearTimeout(graceTimer);
        resolve({
          argv,
          code,
          signal,
          stdout: Buffer.concat(out, outLen),
          stderr: Buffer.concat(err, errLen),
          dropped,
          timedOut,
          spawnError,
          durationMs: Math.round(monoMs() - started),
          ...(outputLeftOpen ? { outputLeftOpen } : {}),
        });
      };
      let child: ChildProcess.ChildProcess;
      try {
        child = childProcess().spawn(argv[0]!, argv.slice(1), {
          cwd: opts.cwd,
          env: env as NodeJS.ProcessEnv,
          stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
          // Own process group, so a timeout also ends what the program started.
          detached: true,
        });
      } catch (e) {
        const timer = setTimeout(() => undefined, 0);
        void timer;
        finish(null, null, (e as Error).message);
        return;
      }
      const killGroup = (sig: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          try {
            child.kill(sig);
          } catch {
            // already gone
          }
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup("SIGTERM");
        killTimer = setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS);
        killTimer.unref();
      }, opts.timeoutMs);
      const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
        opts.onOutput?.(chunk, stream);
        const used = stream === "stdout" ? outLen : errLen;
        const room = Math.max(0, maxCapture - used);
        const keep = chunk.length <= room ? chunk : chunk.subarray(0, room);
        dropped += chunk.length - keep.length;
        if (keep.length === 0) return;
        if (stream === "stdout") {
          out.push(keep);
          outLen += keep.length;
        } else {
          err.push(keep);
          errLen += keep.length;
        }
      };
      child.stdout!.on("data", collect("stdout"));
      child.stderr!.on("data", collect("stderr"));
      child.on("error", (e: NodeJS.ErrnoException) => {
        const what = e.code === "ENOENT" ? `${argv[0]}: command not found` : e.code === "EACCES" ? `${argv[0]}: permission denied (not executable?)` : e.message;
        finish(null, null, what);
      });
      child.on("exit", (code, signal) => {
        // Killed at its deadline: the group's SIGKILL (above) ends what it started too.
        if (timedOut) return;
        // The program is done: its deadline no longer applies, and must not kill what it left running.
        clearTimeout(timer);
        graceTimer = setTimeout(() => {
          outputLeftOpen = true;
          for (const stream of [child.stdout, child.stderr]) if (stream && !stream.destroyed) handOver(stream, opts.leftoverOutput);
          finish(code, signal, null);
        }, OUTPUT_GRACE_MS);
      });
      child.on("close", (code, signal) => finish(code, signal, null));
      if (opts.input !== undefined && child.stdin) {
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input);
      }
    });
  }
}

/**
 * Gives the read end of an output pipe that a left-running process still holds to a
 * small detached reader that outlives sprout, as cloud-init's `| tee -a` output does: the
 * process never meets a closed pipe (SIGPIPE) when sprout exits, and what it prints goes
 * on to the log (up to maxBytes) or nowhere.
 */
function handOver(stream: Readable, leftover: RunOptions["leftoverOutput"]): void {
  stream.removeAllListeners("data");
  // Unbuffered (stdbuf -o0), so each line reaches the log as it comes, not when the process
  // ends; past the cap, cat drains the pipe so the process never meets a closed one.
  const copy = 'stdbuf -o0 head -c "$2" >> "$1"; exec cat > /dev/null';
  const argv = leftover ? ["sh", "-c", copy, "sh", leftover.appendTo, String(Math.max(0, leftover.maxBytes))] : ["cat"];
  try {
    const reader = childProcess().spawn(argv[0]!, argv.slice(1), { stdio: [stream as Stream, "ignore", "ignore"], detached: true });
    reader.on("error", () => undefined);
    reader.unref();
  } catch {
    // No reader: the process meets a closed pipe when it next writes, as it would have anyway.
  }
  stream.destroy();
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
