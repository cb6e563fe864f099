// runcmd: commands from cloud-config, run once per instance in the final stage.
// As in cloud-init they form one shell script, so `cd` and variables carry from
// one entry to the next and a failing entry does not stop the ones after it.
// Unlike cloud-init, every entry's exit status is recorded and every failure is
// reported in status.json.
import type { Module, ModuleContext, ModuleResult } from "../../agent/types";

/** One entry of runcmd or bootcmd: a shell line, a command and its arguments, or null (skipped). */
export const COMMAND_ENTRY = { oneOf: [{ type: "string" }, { type: "array", items: { type: ["string", "number", "boolean"] } }, { type: "null" }] } as const;

export const RUNCMD_SCHEMA = {
  runcmd: {
    type: "array",
    description:
      "Commands to run at the end of the first boot. A string runs in /bin/sh; a list is a command and its arguments, quoted for you. Output goes to /var/log/user_data.log.",
    items: COMMAND_ENTRY,
    examples: [["echo hello > /tmp/hello", ["ls", "-l", "/"], "systemctl restart nginx"]],
  },
} as const;

/** POSIX shell single-quoting. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface RuncmdScript {
  script: string;
  /** Entry index -> how it reads in a report. */
  labels: string[];
  errors: string[];
}

/** The shell script for a runcmd list; after each entry it records "<index> <status>" on fd 9. */
export function runcmdScript(list: unknown[], name = "runcmd"): RuncmdScript {
  const lines = ["#!/bin/sh", `# written by sprout from the ${name} of the instance's cloud-config`];
  const labels: string[] = [];
  const errors: string[] = [];
  list.forEach((entry, i) => {
    let line: string | null = null;
    if (typeof entry === "string") line = entry;
    else if (Array.isArray(entry) && entry.length > 0 && entry.every((a) => ["string", "number", "boolean"].includes(typeof a))) line = entry.map((a) => shellQuote(String(a))).join(" ");
    else if (entry === null) return;
    if (line === null) {
      errors.push(`${name}[${i}] is ${Array.isArray(entry) ? "an empty or nested list" : `a ${typeof entry}`}; write a string or a list of words`);
      return;
    }
    labels[i] = line.length > 60 ? `${line.slice(0, 57)}...` : line;
    lines.push(line, `echo "${i} $?" >&9`);
  });
  return { script: lines.join("\n") + "\n", labels, errors };
}

/**
 * Runs a runcmd-style list as one script under `name` (runcmd, bootcmd), each
 * entry's exit status recorded: every failing entry is one error.
 */
export async function runCommandList(ctx: ModuleContext, name: string, list: unknown): Promise<ModuleResult> {
  if (list === undefined || list === null) return { status: "skipped", detail: `no ${name}` };
  if (!Array.isArray(list)) return { status: "unchanged", errors: [`${name} must be a list of commands, not a ${typeof list} (${JSON.stringify(list)})`] };
  const { script, labels, errors } = runcmdScript(list, name);
  if (labels.length === 0) return { status: errors.length ? "unchanged" : "skipped", errors };
  const root = ctx.host.root;
  const scriptPath = `${ctx.paths.instanceDir}/scripts/${name}`;
  const statusPath = `${ctx.paths.instanceDir}/scripts/${name}.status`;
  // Both are rewritten on every run: a crash loses nothing worth an fsync.
  root.writeAtomic(scriptPath, script, { mode: 0o700, durable: false });
  root.writeAtomic(statusPath, "", { mode: 0o600, durable: false });
  // fd 9 carries the per-entry statuses, so the commands' own stdout stays theirs.
  const res = await ctx.runUserScript(name, ["/bin/sh", "-c", `exec 9>>"$1"; . "$2"`, name, root.resolve(statusPath), root.resolve(scriptPath)]);
  const seen = new Map<number, number>();
  for (const line of (root.tryReadText(statusPath) ?? "").split("\n")) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m) seen.set(Number(m[1]), Number(m[2]));
  }
  labels.forEach((label, i) => {
    if (label === undefined) return;
    const st = seen.get(i);
    if (st === undefined) errors.push(`${name}[${i}] (${label}) did not run: the script ended before it (${res.failure ?? "an earlier entry called exit"})`);
    else if (st !== 0) errors.push(`${name}[${i}] (${label}) exited ${st}`);
  });
  if (!res.ok && seen.size === labels.filter((l) => l !== undefined).length) errors.push(`${name}: ${res.failure}`);
  return { status: "changed", detail: `${seen.size} of ${labels.filter((l) => l !== undefined).length} commands ran`, errors };
}

export const runcmd: Module = {
  id: "runcmd",
  stage: "final",
  frequency: "per-instance",
  schema: { type: "object", description: "Run commands at the end of the first boot of an instance, each entry's exit status recorded.", properties: RUNCMD_SCHEMA },
  run: (cfg, ctx) => runCommandList(ctx, "runcmd", cfg.runcmd),
};
