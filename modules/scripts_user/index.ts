// scripts_user and its siblings: the shell-script parts of user-data and
// vendor-data (written to the instance's scripts/ by user-data processing), and
// the admin's /var/lib/sprout/scripts/per-boot, per-instance and per-once
// directories. Each file runs through runUserScript, so its output is framed in
// /var/log/user_data.log; every failing script is one error in status.json.
import type { Module, ModuleContext, ModuleFrequency, ModuleResult } from "../../agent/types";
import { scriptDirs } from "../../agent/userdata/consume";

export const SCRIPTS_DIR = "/var/lib/sprout/scripts";

/**
 * Why a file cannot run as a program, or null when it can: not a regular file,
 * not executable, no #! line (and not a binary), or an interpreter that is not installed.
 */
export function whyNotRunnable(ctx: ModuleContext, path: string): string | null {
  const root = ctx.host.root;
  const st = root.stat(path);
  if (!st || st.kind !== "file") return `${path} is not a regular file`;
  if ((st.mode & 0o111) === 0) return `${path} is not executable; make it so with chmod +x ${path}`;
  const head = root.readFile(path, 64 * 1024).subarray(0, 256);
  if (head.subarray(0, 4).toString("latin1") === "\x7fELF") return null;
  if (head.subarray(0, 2).toString("latin1") !== "#!") return `${path} has no interpreter line; start it with one, e.g. #!/bin/sh`;
  const rawLine = head.toString("utf8").split("\n")[0]!;
  const line = rawLine.slice(2).trim();
  const interpreter = line.split(/\s+/)[0] ?? "";
  if (!interpreter) return `${path} has an empty #! line; name the interpreter, e.g. #!/bin/sh`;
  // The kernel reads the #! line up to the newline: a CR before it becomes part of the name.
  if (rawLine.endsWith("\r")) return `${path} has Windows line endings (CR LF): its #! line names "${line}\\r", which no system has (the script would fail to start); save it with Unix line endings (dos2unix, or your editor's LF setting)`;
  if (ctx.host.run.which(interpreter) === null) return `${path} wants the interpreter ${interpreter}, which is not installed (or not executable)`;
  return null;
}

/** Runs one script file; returns the error, or null when it succeeded. */
export async function runScriptFile(ctx: ModuleContext, name: string, path: string, env?: Record<string, string>): Promise<string | null> {
  const why = whyNotRunnable(ctx, path);
  if (why) {
    // Still framed in the log, so a person reading it sees the script was skipped and why.
    ctx.host.root.append(ctx.paths.userDataLog, `--- sprout: SKIPPED ${name}: ${why}\n`, 0o600);
    return `${name}: ${why}`;
  }
  const res = await ctx.runUserScript(name, [ctx.host.root.resolve(path)], env ? { env } : {});
  return res.ok ? null : `${name} failed: ${res.failure}`;
}

/** Runs every file of a directory in name order; a missing directory is nothing to do. */
export async function runScriptsDir(ctx: ModuleContext, dir: string): Promise<ModuleResult> {
  const root = ctx.host.root;
  if (root.stat(dir)?.kind !== "dir") return { status: "skipped", detail: `no ${dir}` };
  const names = root.readdir(dir).filter((n) => !n.startsWith("."));
  if (names.length === 0) return { status: "skipped", detail: `${dir} is empty` };
  const errors: string[] = [];
  for (const name of names) {
    const err = await runScriptFile(ctx, name, `${dir}/${name}`);
    if (err) errors.push(err);
  }
  return { status: "changed", detail: `${names.length - errors.length} of ${names.length} scripts in ${dir} succeeded`, errors };
}

const EMPTY = { type: "object", properties: {} };

function scriptsModule(id: string, frequency: ModuleFrequency, description: string, dir: (ctx: ModuleContext) => string): Module {
  return { id, stage: "final", frequency, schema: { ...EMPTY, description }, run: (_cfg, ctx) => runScriptsDir(ctx, dir(ctx)) };
}

export const scriptsVendor = scriptsModule("scripts_vendor", "per-instance", "Run the shell-script parts of vendor-data, once per instance, before the user's.", (ctx) => scriptDirs(ctx.paths).vendor);
export const scriptsPerOnce = scriptsModule("scripts_per_once", "once", `Run the scripts in ${SCRIPTS_DIR}/per-once once, on the first boot ever.`, () => `${SCRIPTS_DIR}/per-once`);
export const scriptsPerBoot = scriptsModule("scripts_per_boot", "always", `Run the scripts in ${SCRIPTS_DIR}/per-boot on every boot.`, () => `${SCRIPTS_DIR}/per-boot`);
export const scriptsPerInstance = scriptsModule("scripts_per_instance", "per-instance", `Run the scripts in ${SCRIPTS_DIR}/per-instance on the first boot of each instance.`, () => `${SCRIPTS_DIR}/per-instance`);
export const scriptsUser = scriptsModule("scripts_user", "per-instance", "Run the shell-script parts of user-data (#! parts, MIME text/x-shellscript, #include'd scripts), once per instance.", (ctx) => scriptDirs(ctx.paths).user);
