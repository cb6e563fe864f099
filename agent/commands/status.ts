import { createHost } from "../host";
import { isDescendantOf } from "../host/processes";
import { lockHolder } from "../lock";
import { bootState, exitCodeFor, readStatus, type StatusDoc } from "../status";
import { STAGES } from "../types";
import { UsageError } from "./args";
import type { Command } from "./types";

const DEFAULT_WAIT_S = 300;

function describe(doc: StatusDoc | null): string {
  const state = bootState(doc);
  const lines = [`status: ${state === "not-started" ? "not started" : state}`];
  if (!doc) return lines.join("\n") + "\n";
  const v = doc.v1;
  if (v.datasource) lines.push(`datasource: ${v.datasource}`, `instance-id: ${v.instance_id}`);
  for (const s of STAGES) {
    const r = v.stages[s];
    if (!r.start) continue;
    lines.push(`stage ${s}: ${r.end ? `${r.ms} ms` : "running"}${r.fatal ? ` - could not complete: ${r.fatal}` : ""}`);
  }
  if (v.errors.length) {
    lines.push(`errors (${v.errors.length}):`);
    for (const e of v.errors) lines.push(`  - ${e.stage ? `[${e.stage}] ` : ""}${e.message}${e.file && !e.message.includes(e.file) ? ` (${e.file}${e.line ? `:${e.line}` : ""})` : ""}`);
  }
  if (v.warnings.length) {
    lines.push(`warnings (${v.warnings.length}):`);
    for (const w of v.warnings) lines.push(`  - ${w}`);
  }
  if (state === "degraded" || state === "error") lines.push("details: /var/log/sprout.log, /var/log/user_data.log; `sprout analyze show` for timings");
  return lines.join("\n") + "\n";
}

/** The pid of the sprout whose boot is running and started this process (a user script's `status --wait`), or null. */
function bootRunningThis(h: ReturnType<typeof createHost>): number | null {
  const holder = lockHolder(h.root);
  return holder !== null && isDescendantOf(holder) ? holder : null;
}

export const statusCommand: Command = {
  name: "status",
  summary: "how the last boot went",
  usage: "sprout status [--wait [--timeout S]] [--format text|json]",
  options: {
    wait: { type: "boolean", short: "w", help: "wait until the boot has finished" },
    timeout: { type: "string", help: `with --wait: give up after S seconds (default ${DEFAULT_WAIT_S})`, value: "S" },
    format: { type: "string", help: "text (default) or json", value: "text|json" },
  },
  details: "Exit status: 0 the last boot finished cleanly (or is still running), 1 a stage could not complete or --wait timed out, 2 degraded.",
  async run(a, g) {
    const format = (a.options.format as string | undefined) ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--format must be text or json, not ${JSON.stringify(format)}`);
    const timeoutS = a.options.timeout === undefined ? DEFAULT_WAIT_S : Number(a.options.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS < 0) throw new UsageError(`--timeout must be a number of seconds, not ${JSON.stringify(a.options.timeout)}`);
    const h = createHost({ root: g.root, logFile: null });
    let doc = readStatus(h.root);
    const waiter = a.options.wait && !doc?.v1.done ? bootRunningThis(h) : null;
    if (waiter !== null) {
      // `cloud-init status --wait` in user-data: the boot cannot finish while its own script waits for it.
      g.err(`sprout: status --wait was run by a script of the boot it would wait for (sprout, pid ${waiter}), which cannot finish while that script waits; answering now\n`);
    } else if (a.options.wait) {
      const deadline = h.clock.monoMs() + timeoutS * 1000;
      while (!doc?.v1.done && h.clock.monoMs() < deadline) {
        await h.clock.sleep(Math.min(100, Math.max(0, deadline - h.clock.monoMs())));
        doc = readStatus(h.root);
      }
      if (!doc?.v1.done) {
        if (format === "json") g.out(JSON.stringify({ status: bootState(doc), timed_out: true, ...(doc ?? {}) }, null, 1) + "\n");
        else g.out(describe(doc) + `sprout: the boot had not finished after ${timeoutS} s of waiting\n`);
        return 1;
      }
    }
    const state = bootState(doc);
    if (format === "json") g.out(JSON.stringify({ status: state, ...(doc ?? {}) }, null, 1) + "\n");
    else g.out(describe(doc));
    return exitCodeFor(state);
  },
};
