// /etc/fstab as cloud-init's cc_mounts edits it (pure: text and config in, text
// and findings out). The lines cloud-init owns carry `comment=cloudconfig` in
// their options; every other line is the user's and is kept exactly as it was,
// in its place. A rerun drops the old owned lines and appends the new ones.
import { type DeviceView, type Resolution, resolveDeviceName } from "./devices";

export const OWNED_MARK = "comment=cloudconfig";
export type Fields = [string, string, string, string, string, string];
type Field = string | null;

/** One `mounts:` entry or a default mount, after normalising: the six fstab fields. */
export interface PlannedLine {
  /** Where it came from, for messages: "mounts entry 2 (sdb on /data)", "swap file", "default ephemeral0". */
  origin: string;
  fields: Fields;
  /** Whether the device behind it exists now (null: cannot tell, or not a device path). */
  exists: boolean | null;
}

export interface FstabPlan {
  lines: PlannedLine[];
  /** Entries that cannot be used: each names the entry and what to do. */
  errors: string[];
  /** Worth telling (a name mapped, an entry skipped as cloud-init skips it). */
  notes: string[];
}

/** cloud-init's mount_default_fields when systemd runs the machine, and when not (Debian has no `nobootwait`). */
export function builtinDefaultFields(systemdUnit: string | null, usesSystemd: boolean): Field[] {
  const opts = usesSystemd ? `defaults,nofail${systemdUnit ? `,x-systemd.requires=${systemdUnit}` : ""},_netdev` : "defaults,nofail";
  return [null, null, "auto", opts, "0", "2"];
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A value for a one-line message: quoted when it holds control characters. */
function printable(s: string): string {
  return /[\x00-\x1f]/.test(s) ? JSON.stringify(s) : s;
}

/** A YAML scalar as fstab text: numbers unquoted in YAML (`0`, `2`) are the strings cloud-init makes of them. */
function fieldText(v: unknown): string | null | undefined {
  if (v === null) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

export function parseDefaultFields(value: unknown, builtin: Field[]): { fields: Field[]; error: string | null } {
  if (value === undefined) return { fields: builtin, error: null };
  const bad = (why: string) => ({
    fields: builtin,
    error: `mount_default_fields ${why}: it must be a list of 6 values (strings or null), e.g. [null, null, auto, "defaults,nofail", "0", "2"]; the built-in defaults (${builtin.slice(2).join(" ")}) are used`,
  });
  if (!Array.isArray(value)) return bad(`is ${describe(value)}`);
  if (value.length !== 6) return bad(`has ${value.length} values`);
  const fields: Field[] = [];
  for (const [i, v] of value.entries()) {
    const t = fieldText(v);
    if (t === undefined) return bad(`value ${i + 1} is ${describe(v)}`);
    // cloud-init's own example writes Python's None, which YAML reads as a string: it means "no value".
    fields.push(t === "None" ? null : t);
  }
  return { fields, error: null };
}

/** fstab(5) separates fields by blanks: a blank inside a path is written octal-escaped. */
function escapePath(s: string): string {
  return s.replace(/\\/g, "\\134").replace(/ /g, "\\040").replace(/\t/g, "\\011");
}

/** Checks one filled-in entry; returns why it cannot be written, or null. */
function fieldProblem(f: Fields): string | null {
  for (const [i, v] of f.entries()) {
    if (v === "") return `field ${i + 1} is empty`;
    if (/[\n\r\0]/.test(v)) return `field ${i + 1} contains a line break`;
  }
  if (f[0].startsWith("#")) return `the device ${JSON.stringify(f[0])} starts with #, which makes the line a comment`;
  const swap = f[2] === "swap";
  if (!f[1].startsWith("/") && !(swap && (f[1] === "none" || f[1] === "swap"))) {
    return `the mount point ${JSON.stringify(f[1])} is not an absolute path (write it like /data${swap ? ", or none for swap" : ""})`;
  }
  for (const i of [2, 3]) if (/\s/.test(f[i]!)) return `field ${i + 1} ${JSON.stringify(f[i])} contains a blank (options are separated by commas only, e.g. defaults,nofail)`;
  for (const i of [4, 5]) if (!/^\d+$/.test(f[i]!)) return `field ${i + 1} ${JSON.stringify(f[i])} is not a number (fs_freq and fs_passno are 0, 1 or 2)`;
  return null;
}

/** The fstab lines of /etc/fstab that a `mounts:` entry may not duplicate: device -> the user's line. */
export function userDevices(fstab: string): Map<string, string> {
  const devs = new Map<string, string>();
  for (const line of splitLines(fstab)) {
    if (line.includes(OWNED_MARK)) continue;
    const first = line.trim().split(/\s+/)[0];
    if (first && !first.startsWith("#") && !devs.has(first)) devs.set(first, line);
  }
  return devs;
}

export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export interface PlanInput {
  mounts: unknown;
  defaults: Field[];
  view: DeviceView;
  aliases: Record<string, string>;
  /** The current /etc/fstab ("" when there is none). */
  fstab: string;
  /** The default mounts (ephemeral0 on /mnt, the swap device) when the datasource maps them. */
  defaultMounts: boolean;
}

/**
 * cloud-init's order: each entry's device name resolved, missing fields filled
 * from mount_default_fields, an entry with no mount point (`[sdb]`, `[swap, null]`)
 * removes the earlier entries of that device and keeps the default mount of it out,
 * then the default mounts for devices no entry names.
 */
export function planMounts(input: PlanInput): FstabPlan {
  const errors: string[] = [];
  const notes: string[] = [];
  const userDevs = userDevices(input.fstab);
  type Work = PlannedLine & { mountPoint: string | null; resolution: Resolution };
  const work: Work[] = [];
  const mounts = input.mounts === undefined || input.mounts === null ? [] : input.mounts;
  if (!Array.isArray(mounts)) {
    errors.push(`mounts is ${describe(mounts)}: it must be a list of entries like [/dev/vdb, /data, ext4, "defaults,nofail", "0", "2"]; no mounts: entry applied`);
  } else {
    for (const [i, entry] of mounts.entries()) {
      const n = `mounts entry ${i + 1}`;
      if (!Array.isArray(entry)) {
        errors.push(`${n} is ${describe(entry)}, not a list: write it as [device, mount point, type, options, freq, passno], e.g. [/dev/vdb, /data, ext4, "defaults,nofail"]; skipped`);
        continue;
      }
      if (entry.length === 0 || entry.length > 6) {
        errors.push(`${n} has ${entry.length} fields: an fstab entry has 1 to 6 (device, mount point, type, options, freq, passno); skipped`);
        continue;
      }
      const raw = entry.map(fieldText);
      const badAt = raw.findIndex((v) => v === undefined);
      if (badAt >= 0) {
        errors.push(`${n}: field ${badAt + 1} is ${describe(entry[badAt])}; fields are strings (or numbers for freq and passno); skipped`);
        continue;
      }
      const spec = raw[0];
      if (spec === null || spec === undefined || spec === "") {
        errors.push(`${n} has no device (its first field is ${describe(entry[0])}); skipped`);
        continue;
      }
      const resolution = resolveDeviceName(spec, input.view, input.aliases);
      const filled = input.defaults.map((d, j) => (raw[j] === undefined || raw[j] === null ? d : raw[j]!)) as Field[];
      const device = resolution.kind === "unmapped" ? resolution.name : resolution.spec;
      const origin = `${n} (${printable(spec)}${filled[1] ? ` on ${printable(filled[1])}` : ""})`;
      if (resolution.kind === "device" && resolution.note) notes.push(`${origin}: ${resolution.note}`);
      if (filled[1] === null) {
        // No mount point: remove what earlier entries said about this device.
        for (const w of work) if (w.fields[0] === device) w.mountPoint = null;
        work.push({ origin, fields: [device, "", "", "", "", ""], exists: null, mountPoint: null, resolution });
        continue;
      }
      if (resolution.kind === "unmapped") {
        notes.push(`${origin}: skipped: the datasource's block-device-mapping has no ${resolution.name} (only EC2 meta-data maps such names; name the device, e.g. /dev/vdb)`);
        work.push({ origin, fields: [device, "", "", "", "", ""], exists: null, mountPoint: null, resolution });
        continue;
      }
      if (resolution.kind === "device" && userDevs.has(device)) {
        notes.push(`${origin}: skipped: /etc/fstab already has a line for ${device} (${userDevs.get(device)!.trim()}); edit that line instead`);
        work.push({ origin, fields: [device, "", "", "", "", ""], exists: null, mountPoint: null, resolution });
        continue;
      }
      if (filled.some((f) => f === null)) {
        errors.push(`${origin}: field ${filled.indexOf(null) + 1} is null and mount_default_fields gives no value for it; skipped`);
        continue;
      }
      const fields = [device, ...filled.slice(1)] as Fields;
      const problem = fieldProblem(fields);
      if (problem) {
        errors.push(`${origin}: ${problem}; skipped`);
        continue;
      }
      work.push({ origin, fields, exists: resolution.kind === "device" ? resolution.exists : null, mountPoint: fields[1], resolution });
    }
  }

  if (input.defaultMounts) {
    for (const [name, fields] of [
      ["ephemeral0", ["ephemeral0", "/mnt", "auto", input.defaults[3] ?? "defaults,nofail", "0", "2"]],
      ["swap", ["swap", "none", "swap", "sw", "0", "0"]],
    ] as Array<[string, Fields]>) {
      const r = resolveDeviceName(name, input.view, input.aliases);
      // Only a device the machine has now: the default mounts are for instance-store disks that come with the instance.
      if (r.kind !== "device" || r.exists === false || userDevs.has(r.spec)) continue;
      if (work.some((w) => w.fields[0] === r.spec)) continue;
      work.push({ origin: `the default mount of ${name} (${r.spec})`, fields: [r.spec, ...fields.slice(1)] as Fields, exists: r.exists, mountPoint: fields[1], resolution: r });
    }
  }

  const lines: PlannedLine[] = [];
  for (const w of work) {
    if (w.mountPoint === null) continue;
    lines.push({ origin: w.origin, fields: w.fields, exists: w.exists });
  }
  return { lines, errors, notes };
}

/** Whether the options let the machine boot without the device (systemd would otherwise wait 90 s and stop in emergency mode). */
export function bootsWithoutDevice(options: string): boolean {
  return options.split(",").some((o) => o === "nofail" || o === "noauto" || o === "nobootwait");
}

export function ownedLine(f: Fields): string {
  return [escapePath(f[0]), escapePath(f[1]), f[2], `${f[3]},${OWNED_MARK}`, f[4], f[5]].join("\t");
}

/** The new /etc/fstab: the user's lines as they were, then the owned lines. */
export function renderFstab(current: string, owned: string[]): string {
  const kept = splitLines(current).filter((l) => !l.includes(OWNED_MARK));
  const all = [...kept, ...owned];
  return all.length === 0 ? "" : `${all.join("\n")}\n`;
}

export function ownedLines(fstab: string): string[] {
  return splitLines(fstab).filter((l) => l.includes(OWNED_MARK));
}
