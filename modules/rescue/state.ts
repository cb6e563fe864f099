// Rescue mode's documents, without I/O: /run/sprout/rescue.env as the initramfs
// writes it, /run/sprout/rescue.json as sprout records it, and the message a
// person logging in (or running `sprout rescue status`) reads.

export const RESCUE_ENV = "/run/sprout/rescue.env";
export const RESCUE_STATE = "/run/sprout/rescue.json";
export const RESCUE_MOTD = "/run/motd.d/sprout-rescue";
/** At the top of the rescue volume: the initramfs does not boot a volume that has it. */
export const DONE_MARKER = "/DONE";

export interface RescueState {
  active: boolean;
  device: string | null;
  label: string | null;
  /** How sprout knows: the initramfs's rescue.env, or the label of the root filesystem. */
  source: "rescue.env" | "root label";
  reason: string | null;
  target: {
    label: string;
    device: string | null;
    mountPoint: string;
    mounted: boolean;
    /** Why it is not mounted, for the person reading the message. */
    problem: string | null;
  } | null;
  done: boolean;
}

/** KEY='value' lines (a literal ' written as '\''), KEY=value, comments; anything else is ignored. */
export function parseRescueEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let raw = m[2]!.trim();
    let value = "";
    // Concatenated shell words: 'abc'\''def' or plain characters.
    while (raw.length > 0) {
      if (raw.startsWith("'")) {
        const end = raw.indexOf("'", 1);
        if (end < 0) {
          value += raw.slice(1);
          raw = "";
        } else {
          value += raw.slice(1, end);
          raw = raw.slice(end + 1);
        }
      } else if (raw.startsWith("\\") && raw.length > 1) {
        value += raw[1];
        raw = raw.slice(2);
      } else if (raw.startsWith('"')) {
        const end = raw.indexOf('"', 1);
        value += raw.slice(1, end < 0 ? undefined : end);
        raw = end < 0 ? "" : raw.slice(end + 1);
      } else {
        const word = /^[^'"\\\s]+/.exec(raw)?.[0] ?? raw[0]!;
        if (/^\s/.test(word)) break;
        value += word;
        raw = raw.slice(word.length);
      }
    }
    out[m[1]!] = value;
  }
  return out;
}

/** What a person in rescue mode needs to know, in a few lines. */
export function rescueMessage(s: RescueState): string {
  if (!s.active) return "This machine booted normally (not in rescue mode).\n";
  const lines = [
    "*** RESCUE MODE ***",
    `This machine booted from the rescue volume ${s.device ?? "(unknown device)"}${s.label ? ` (label ${s.label})` : ""}, not from its own root filesystem.`,
  ];
  const t = s.target;
  if (t?.mounted) {
    lines.push(`The original root filesystem ${t.device} (label ${t.label}) is mounted read-only at ${t.mountPoint}.`);
    lines.push(`To repair it: mount -o remount,rw ${t.mountPoint}  (or chroot ${t.mountPoint} after that)`);
  } else if (t) {
    lines.push(`The original root filesystem (label ${t.label}) is not mounted: ${t.problem ?? "unknown reason"}.`);
    lines.push(`To repair it: find it with \`blkid\` and mount it, e.g. mount /dev/vdb1 ${t.mountPoint}`);
  }
  if (s.done) lines.push(`Rescue is marked finished (${DONE_MARKER} is on the rescue volume): the next boot uses the normal root filesystem.`);
  else {
    lines.push("When you are done: run `sprout rescue done`, then reboot. The next boot uses the normal root filesystem");
    lines.push("(the rescue volume gets a DONE marker and is no longer booted; you can also detach it).");
  }
  return lines.join("\n") + "\n";
}
