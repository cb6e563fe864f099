import { RESCUE_STATE, DONE_MARKER, rescueMessage, type RescueState } from "../../modules/rescue/state";
import { createHost } from "../host";
import { UsageError } from "./args";
import type { Command } from "./types";

function readState(text: string | null): RescueState | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as RescueState;
  } catch {
    return null;
  }
}

export const rescueCommand: Command = {
  name: "rescue",
  summary: "rescue mode: what happened (status) and finishing it (done)",
  usage: "sprout rescue status|done [--format text|json]",
  options: {
    format: { type: "string", help: "status: text (default) or json", value: "text|json" },
  },
  details:
    "status prints what the boot found (the same message as at login). done writes the DONE marker at the top of the rescue volume, so the next boot uses the normal root filesystem.\nExit status: 0 done; status: 0 in rescue mode, 1 not in rescue mode.",
  async run(a, g) {
    const sub = a.positionals[0];
    if (a.positionals.length !== 1 || (sub !== "status" && sub !== "done")) throw new UsageError("rescue needs status or done");
    const format = (a.options.format as string | undefined) ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--format must be text or json, not ${JSON.stringify(format)}`);
    const h = createHost({ root: g.root, logFile: null });
    const state = readState(h.root.tryReadText(RESCUE_STATE));
    if (sub === "status") {
      if (!state) {
        g.out(format === "json" ? '{"active": false}\n' : `not in rescue mode (no ${RESCUE_STATE}: sprout has not run this boot, or it found no rescue volume)\n`);
        return 1;
      }
      const now = { ...state, done: state.active && h.root.exists(DONE_MARKER) };
      g.out(format === "json" ? JSON.stringify(now, null, 1) + "\n" : rescueMessage(now));
      return now.active ? 0 : 1;
    }
    if (!state?.active) {
      g.err("sprout rescue done: this boot is not in rescue mode, so there is nothing to finish (see `sprout rescue status`)\n");
      return 1;
    }
    // The rescue volume is this boot's root filesystem: its top is "/".
    h.root.writeAtomic(DONE_MARKER, `rescue finished ${h.clock.now().toISOString()} (sprout rescue done)\n`);
    g.out(`wrote ${DONE_MARKER} on the rescue volume ${state.device ?? ""}.\nReboot: the next boot uses the normal root filesystem${state.target?.device ? ` (${state.target.device})` : ""}; the rescue volume is no longer booted while it has ${DONE_MARKER}.\nUnmount what you mounted first${state.target?.mounted ? ` (umount ${state.target.mountPoint})` : ""}.\n`);
    return 0;
  },
};
