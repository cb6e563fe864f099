// power_state_change: reboot, power off or halt once the boot is done. The
// module decides (condition, mode, delay, message) and records the request in
// /run/sprout/power-state.json; `sprout boot` carries it out after writing its
// status, and only when the target is the running system — a --root run (an
// image, a test) is never powered off.
import { isPlainObject } from "../../agent/merge";
import type { Module, ModuleResult } from "../../agent/types";
import { POWER_STATE_FILE, type PowerRequest } from "./request";

export { carryOutPowerState, POWER_STATE_FILE, type PowerRequest } from "./request";

const MODES = { poweroff: "--poweroff", reboot: "--reboot", halt: "--halt" } as const;

export const POWER_STATE_SCHEMA = {
  power_state: {
    type: "object",
    description: "Reboot, power off or halt at the end of the boot.",
    required: ["mode"],
    properties: {
      mode: { type: "string", enum: Object.keys(MODES), description: "What to do.", examples: ["reboot"] },
      delay: {
        oneOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: "^(now|\\+?[0-9]+)$" }],
        description: 'When: "now", or minutes as a number or "+N".',
        default: "now",
        examples: ["+5", "now"],
      },
      message: { type: "string", description: "The message shutdown sends to logged-in users.", examples: ["Rebooting after the first boot"] },
      timeout: { type: "number", minimum: 0, description: "Seconds the condition command may run.", default: 30, examples: [10] },
      condition: {
        oneOf: [{ type: "boolean" }, { type: "string" }, { type: "array", items: { type: "string" } }],
        description: "Only when this holds: a boolean, or a command (string for /bin/sh, or argv) that must exit 0.",
        default: true,
        examples: ["test -f /var/tmp/reboot_me"],
      },
    },
    examples: [{ mode: "reboot", delay: "+1", message: "Rebooting", condition: true }],
  },
} as const;

/** The shutdown argv for a power_state mapping; throws with what to fix. */
export function shutdownArgv(ps: Record<string, unknown>): string[] {
  const mode = ps.mode;
  if (typeof mode !== "string" || !(mode in MODES)) throw new Error(`power_state.mode must be poweroff, reboot or halt, not ${JSON.stringify(mode)}`);
  const d = ps.delay ?? "now";
  let when: string;
  if (d === "now") when = "now";
  else if (typeof d === "number" && Number.isInteger(d) && d >= 0) when = `+${d}`;
  else if (typeof d === "string" && /^\+?\d+$/.test(d)) when = `+${d.replace(/^\+/, "")}`;
  else throw new Error(`power_state.delay must be "now" or minutes ("+5" or 5), not ${JSON.stringify(d)}`);
  const argv = ["shutdown", MODES[mode as keyof typeof MODES], when];
  if (ps.message !== undefined && ps.message !== null) argv.push(Array.isArray(ps.message) ? ps.message.join(" ") : String(ps.message));
  return argv;
}

export const powerStateChange: Module = {
  id: "power_state_change",
  stage: "final",
  frequency: "per-instance",
  schema: { type: "object", description: "Reboot, power off or halt after the boot, when a condition holds.", properties: POWER_STATE_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const ps = cfg.power_state;
    if (ps === undefined || ps === null) return { status: "skipped", detail: "no power_state" };
    if (!isPlainObject(ps)) return { status: "unchanged", errors: ["power_state must be a mapping with mode:"] };
    let argv: string[];
    try {
      argv = shutdownArgv(ps);
    } catch (err) {
      return { status: "unchanged", errors: [(err as Error).message] };
    }
    const cond = ps.condition ?? true;
    if (cond === false) return { status: "skipped", detail: "condition is false" };
    if (cond !== true) {
      const cmd = typeof cond === "string" ? ["/bin/sh", "-c", cond] : Array.isArray(cond) ? cond.map(String) : null;
      if (!cmd) return { status: "unchanged", errors: ["power_state.condition must be true, false, a command string or a list"] };
      const timeoutMs = (typeof ps.timeout === "number" && ps.timeout > 0 ? ps.timeout : 30) * 1000;
      const res = await ctx.host.run.run(cmd, { timeoutMs, cwd: ctx.host.root.isSystemRoot ? "/" : ctx.host.root.dir });
      if (res.code !== 0) return { status: "skipped", detail: `condition ${JSON.stringify(cond)} did not hold (${res.spawnError ?? (res.timedOut ? "timed out" : `exit ${res.code}`)})` };
    }
    const req: PowerRequest = { argv, mode: String(ps.mode) };
    ctx.host.root.writeAtomic(POWER_STATE_FILE, JSON.stringify(req) + "\n", { mode: 0o600 });
    return { status: "changed", detail: `${argv.join(" ")} after the boot${ctx.host.root.isSystemRoot ? "" : " (not carried out: the target is not the running system)"}` };
  },
};
