import { StringDecoder } from "node:string_decoder";
import { DEFAULT_PATH } from "./host/runner";
import type { Host } from "./host/types";
import type { Paths, SproutSettings, Stage, UserScriptResult } from "./types";

export interface ScriptRun {
  host: Host;
  paths: Paths;
  instanceId: string;
  stage: Stage;
  settings: SproutSettings;
  /** Where a person watching sees the output (the console), or null. */
  echo: ((text: string) => void) | null;
}

// Control characters other than tab, newline and carriage return would garble a
// terminal that shows the log; they are written as \xNN instead.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** cloud-init's helpers for user scripts (cloud-init-per), which the package installs here. */
export const COMPAT_DIR = "/usr/lib/sprout/compat";

/**
 * What a user script's environment gets besides INSTANCE_ID: the helpers' folder at the
 * end of PATH (a real cloud-init's, when the image has one, comes first), and on a --root
 * boot SPROUT_ROOT, so the helpers keep their state in that tree.
 */
function compatEnv(host: Host): Record<string, string> {
  const env: Record<string, string> = {};
  if (host.root.exists(COMPAT_DIR)) env.PATH = `${process.env.PATH || DEFAULT_PATH}:${host.root.resolve(COMPAT_DIR)}`;
  if (!host.root.isSystemRoot) env.SPROUT_ROOT = host.root.dir;
  return env;
}

/**
 * Runs one user script with its stdout and stderr appended to
 * /var/log/user_data.log (0600), framed by a BEGIN and an END line, and echoed
 * to the console. The log never grows by more than the cap per script, and
 * binary output is made printable rather than written raw.
 */
export async function runUserScript(
  run: ScriptRun,
  name: string,
  argv: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<UserScriptResult> {
  const { host, paths } = run;
  const log = (text: string) => {
    try {
      host.root.append(paths.userDataLog, text, 0o600);
    } catch (err) {
      host.log.warn(`cannot write ${paths.userDataLog}: ${(err as Error).message}`);
    }
    host.log.scriptOutput(text, run.stage);
  };
  const started = host.clock.now();
  log(`--- sprout: BEGIN ${name} stage=${run.stage} instance=${run.instanceId} at ${started.toISOString()}\n`);
  const cap = run.settings.scriptLogCap;
  let logged = 0;
  let dropped = 0;
  let endsWithNewline = true;
  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  const timeoutMs = opts.timeoutMs ?? run.settings.scriptTimeoutMs;
  const res = await host.run.run(argv, {
    timeoutMs,
    env: { INSTANCE_ID: run.instanceId, SPROUT_STAGE: run.stage, ...compatEnv(host), ...opts.env },
    cwd: host.root.isSystemRoot ? "/" : host.root.dir,
    maxCapture: 0,
    // A `daemon &` the script leaves running writes on into this log (a per-script cap of its own).
    leftoverOutput: { appendTo: host.root.resolve(paths.userDataLog), maxBytes: cap },
    onOutput: (chunk, stream) => {
      const text = printable(decoders[stream].write(chunk));
      if (!text) return;
      run.echo?.(text);
      if (logged >= cap) {
        dropped += Buffer.byteLength(text);
        return;
      }
      const room = cap - logged;
      const piece = Buffer.byteLength(text) <= room ? text : Buffer.from(text).subarray(0, room).toString("utf8");
      logged += Buffer.byteLength(piece);
      dropped += Buffer.byteLength(text) - Buffer.byteLength(piece);
      endsWithNewline = piece.endsWith("\n");
      log(piece);
    },
  });
  if (!endsWithNewline) log("\n");
  if (dropped > 0) log(`--- sprout: ${name} printed more than ${cap} bytes; ${dropped} bytes were not logged\n`);
  if (res.outputLeftOpen) log(`--- sprout: ${name} left a process running that still holds its output; sprout did not wait for it, and what it prints goes on into this log after this script's END line\n`);
  let failure: string | null = null;
  if (res.spawnError) failure = `could not start: ${res.spawnError}`;
  else if (res.timedOut) failure = `timed out after ${Math.round(timeoutMs / 1000)} s and was killed`;
  else if (res.signal) failure = `killed by ${res.signal}`;
  else if (res.code !== 0) failure = `exit ${res.code}`;
  const exit = res.spawnError ? "not-started" : res.timedOut ? "timeout" : res.signal ? res.signal : String(res.code);
  log(`--- sprout: END ${name} exit=${exit} after ${res.durationMs} ms\n`);
  return { exitCode: res.code, ok: failure === null, failure };
}
