// fs_setup's entries, as cloud-init's cc_disk_setup reads them, without touching a
// disk: the entry checked, which block device gets the filesystem (cloud-init's
// find_device_node for partition: auto and any), and the mkfs command line.

export interface FsDefinition {
  device: string;
  filesystem: string | null;
  label: string | null;
  /** "auto" | "any" | "none" | a partition number. */
  partition: string;
  overwrite: boolean;
  replaceFs: string | null;
  extraOpts: string[];
  /** A command of the user's own (sh -c), with %(label)s, %(filesystem)s and %(device)s filled in. */
  cmd: string | null;
}

export function parseFsDefinition(raw: unknown, where: string): FsDefinition | { error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { error: `${where} must be a mapping (device, filesystem, label, partition, ...)` };
  const o = raw as Record<string, unknown>;
  const text = (k: string): string | null | { error: string } => {
    const v = o[k];
    if (v === undefined || v === null || v === "") return null;
    return typeof v === "string" || typeof v === "number" ? String(v) : { error: `${where}.${k} must be text` };
  };
  const fields: Record<string, string | null> = {};
  for (const k of ["device", "filesystem", "label", "replace_fs"]) {
    const v = text(k);
    if (v !== null && typeof v === "object") return v;
    fields[k] = v;
  }
  if (!fields.device) return { error: `${where} has no device; write device: /dev/vdb (or an alias such as ephemeral0)` };
  const partition = String(o.partition ?? "any").toLowerCase();
  if (!/^(auto|any|none|\d+)$/.test(partition)) return { error: `${where}.partition ${JSON.stringify(o.partition)} is not auto, any, none or a partition number` };
  let cmd: string | null = null;
  if (o.cmd !== undefined && o.cmd !== null && o.cmd !== "") {
    if (typeof o.cmd === "string") cmd = o.cmd;
    else if (Array.isArray(o.cmd) && o.cmd.every((a) => typeof a === "string")) cmd = (o.cmd as string[]).join(" ");
    else return { error: `${where}.cmd must be a command line` };
  }
  if (!fields.filesystem && !cmd) return { error: `${where} has neither filesystem nor cmd; write filesystem: ext4` };
  if (fields.filesystem && !/^[a-z0-9_.]+$/.test(fields.filesystem)) return { error: `${where}.filesystem ${JSON.stringify(fields.filesystem)} is not a filesystem name such as ext4, xfs or swap` };
  const opts = o.extra_opts;
  let extraOpts: string[] = [];
  if (typeof opts === "string") extraOpts = opts.split(/\s+/).filter(Boolean);
  else if (Array.isArray(opts) && opts.every((a) => typeof a === "string" || typeof a === "number")) extraOpts = opts.map(String);
  else if (opts !== undefined && opts !== null) return { error: `${where}.extra_opts must be a list of mkfs options` };
  return { device: fields.device, filesystem: fields.filesystem ?? null, label: fields.label ?? null, partition, overwrite: o.overwrite === true, replaceFs: fields.replace_fs ?? null, extraOpts, cmd };
}

/** One row of lsblk: the disk itself first, then its partitions. */
export interface BlockEntry {
  path: string;
  type: string;
  fstype: string;
  label: string;
}

/**
 * cloud-init's find_device_node for partition: auto (label and type must match to reuse)
 * and any (a matching type is enough; replace_fs names a filesystem that may be
 * formatted over). {device, reuse}: reuse means the filesystem is already there; a
 * null device means nothing is free.
 */
export function findDeviceNode(disk: string, entries: BlockEntry[], def: FsDefinition): { device: string | null; reuse: boolean } {
  const labelMatch = def.partition === "auto";
  const label = def.label ?? "";
  let rawDeviceUsed = false;
  for (const d of entries) {
    if (!labelMatch && def.replaceFs !== null && d.fstype === def.replaceFs) return { device: d.path, reuse: false };
    if (d.fstype === (def.filesystem ?? "") && (!labelMatch || d.label === label)) return { device: d.path, reuse: true };
    if (d.type === "disk" || d.type === "part") {
      if (d.type !== "disk" || d.fstype) rawDeviceUsed = true;
      if (d.type === "part" && !d.fstype) return { device: d.path, reuse: false };
    }
  }
  return rawDeviceUsed ? { device: null, reuse: false } : { device: disk, reuse: false };
}

/** mkfs's flag that makes it write over what is there. */
export function forceFlag(fs: string): string | null {
  if (fs.startsWith("ext")) return "-F";
  return ["btrfs", "xfs", "reiserfs", "swap"].includes(fs) ? "-f" : null;
}

/** The mkfs command line for an entry, given the mkfs program found in the target. */
export function mkfsArgv(program: string, def: FsDefinition, device: string, force: boolean): string[] {
  const argv = [program];
  if (def.label) argv.push("-L", def.label);
  const flag = force ? forceFlag(def.filesystem ?? "") : null;
  if (flag) argv.push(flag);
  argv.push(...def.extraOpts, device);
  return argv;
}

/** cmd with cloud-init's %(name)s fields filled in. */
export function fillCmd(cmd: string, def: FsDefinition, device: string): string {
  return cmd.replace(/%\((label|filesystem|device)\)s/g, (_, k: string) => (k === "label" ? (def.label ?? "None") : k === "filesystem" ? (def.filesystem ?? "None") : device));
}
