// keyboard: cloud-init's cc_keyboard. On Debian, cloud-init asks localectl, whose
// Debian patch writes /etc/default/keyboard, then restarts console-setup. localectl
// needs systemd-localed running, which an image being built or a chroot does not have
// (there cloud-init's module fails); sprout writes the same four settings into
// /etc/default/keyboard itself, keeping the file's other lines, and restarts
// console-setup only on a running system. The file is shell that console-setup
// sources: values are checked before anything is written.
import { didYouMean } from "../../agent/schema/did-you-mean";
import { systemdRunsTarget } from "../../agent/platform";
import { describeFailure } from "../../agent/target-command";
import type { Module, ModuleContext, ModuleResult } from "../../agent/types";

const KEYBOARD_FILE = "/etc/default/keyboard";
const XKB_SYMBOLS = "/usr/share/X11/xkb/symbols";
const DEFAULT_MODEL = "pc105";
const RESTART_TIMEOUT_MS = 60_000;
/** What xkb names, variants and options are made of ("ctrl:nocaps,compose:ralt", "de,us"). */
const XKB_VALUE = /^[A-Za-z0-9_,:()+.-]*$/;
/** keyboard-configuration's own file, when the image has none. */
const NEW_FILE = ["# KEYBOARD CONFIGURATION FILE", "", "# Consult the keyboard(5) manual page.", "", 'XKBMODEL=""', 'XKBLAYOUT=""', 'XKBVARIANT=""', 'XKBOPTIONS=""', "", 'BACKSPACE="guess"', ""].join("\n");

export const KEYBOARD_SCHEMA = {
  keyboard: {
    type: "object",
    description: `The keyboard layout, written to ${KEYBOARD_FILE} (console and X).`,
    required: ["layout"],
    additionalProperties: false,
    properties: {
      layout: { type: "string", description: `The XKB layout (a name in ${XKB_SYMBOLS}), or several separated by commas.`, examples: ["de", "us,de"] },
      model: { type: "string", description: "The XKB keyboard model.", default: DEFAULT_MODEL, examples: ["pc105"] },
      variant: { type: "string", description: "The XKB layout variant.", default: "", examples: ["nodeadkeys"] },
      options: { type: "string", description: "XKB options, separated by commas.", default: "", examples: ["ctrl:nocaps,compose:ralt"] },
    },
    examples: [{ layout: "de", model: "pc105", variant: "nodeadkeys", options: "compose:rwin" }, { layout: "us" }],
  },
} as const;

export interface KeyboardSettings {
  XKBMODEL: string;
  XKBLAYOUT: string;
  XKBVARIANT: string;
  XKBOPTIONS: string;
}

/** The settings keyboard: asks for, or the errors that stop it (each saying what to write). */
export function keyboardSettings(kb: unknown): KeyboardSettings | { errors: string[] } {
  if (kb === null || typeof kb !== "object" || Array.isArray(kb)) return { errors: ["keyboard must be a mapping with layout (and model, variant, options), e.g. {layout: de}"] };
  const o = kb as Record<string, unknown>;
  const errors: string[] = [];
  const value = (key: string, dflt: string | null): string => {
    const v = o[key] ?? dflt;
    if (v === null || v === "") {
      if (dflt === null) errors.push(`keyboard.${key} is required, e.g. ${key}: de`);
      return "";
    }
    if (typeof v !== "string") errors.push(`keyboard.${key} must be text, not ${typeof v}`);
    else if (!XKB_VALUE.test(v)) errors.push(`keyboard.${key} ${JSON.stringify(v)} is not an XKB name: letters, digits and _ , : ( ) + . - only`);
    return typeof v === "string" ? v : "";
  };
  const s = { XKBMODEL: value("model", DEFAULT_MODEL), XKBLAYOUT: value("layout", null), XKBVARIANT: value("variant", ""), XKBOPTIONS: value("options", "") };
  return errors.length ? { errors } : s;
}

/** The file with the four settings replaced where they are, added where they are not; every other line kept. */
export function keyboardFile(current: string | null, s: KeyboardSettings): string {
  const lines = (current ?? NEW_FILE).split("\n");
  for (const [key, v] of Object.entries(s)) {
    const line = `${key}="${v}"`;
    const at = lines.findIndex((l) => new RegExp(`^\\s*${key}=`).test(l));
    if (at >= 0) lines[at] = line;
    else lines.splice(lines.length && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length, 0, line);
  }
  return lines.join("\n");
}

function unknownLayouts(ctx: ModuleContext, layouts: string): string[] {
  const root = ctx.host.root;
  // Without xkb-data the layouts cannot be checked here; console-setup will say.
  if (root.stat(XKB_SYMBOLS)?.kind !== "dir") return [];
  const known = root.readdir(XKB_SYMBOLS);
  return layouts
    .split(",")
    .filter((l) => l && !known.includes(l))
    .map((l) => {
      const near = didYouMean(l, known);
      return `keyboard.layout ${JSON.stringify(l)} is not a layout in ${XKB_SYMBOLS}${near ? ` (did you mean ${near}?)` : ""}; nothing was written`;
    });
}

export const keyboard: Module = {
  id: "keyboard",
  stage: "config",
  frequency: "per-instance",
  schema: { type: "object", description: "Set the keyboard layout, model, variant and options.", properties: KEYBOARD_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    if (cfg.keyboard === undefined || cfg.keyboard === null) return { status: "skipped", detail: "no keyboard" };
    const s = keyboardSettings(cfg.keyboard);
    if ("errors" in s) return { status: "unchanged", errors: s.errors.map((e) => `${e}; nothing was written`) };
    const unknown = unknownLayouts(ctx, s.XKBLAYOUT);
    if (unknown.length) return { status: "unchanged", errors: unknown };
    const h = ctx.host;
    const current = h.root.tryReadText(KEYBOARD_FILE);
    const next = keyboardFile(current, s);
    const detail = `${s.XKBLAYOUT}${s.XKBVARIANT ? ` (${s.XKBVARIANT})` : ""}, model ${s.XKBMODEL}${s.XKBOPTIONS ? `, options ${s.XKBOPTIONS}` : ""}`;
    if (next === current) return { status: "unchanged", detail };
    h.root.writeAtomic(KEYBOARD_FILE, next, { mode: 0o644 });
    // As cloud-init: console-setup applies the file to the consoles now (Debian bug 926037).
    if (systemdRunsTarget(h) && (h.root.exists("/lib/systemd/system/console-setup.service") || h.root.exists("/usr/lib/systemd/system/console-setup.service"))) {
      const r = await h.run.run(["systemctl", "restart", "console-setup.service"], { timeoutMs: RESTART_TIMEOUT_MS });
      if (r.code !== 0) return { status: "changed", detail, errors: [`${KEYBOARD_FILE} is written, but systemctl restart console-setup failed (${describeFailure(r, RESTART_TIMEOUT_MS)}): the consoles get the layout at the next boot`] };
    }
    return { status: "changed", detail };
  },
};
