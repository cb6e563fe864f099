// disk_setup: cloud-init's cc_disk_setup. disk_setup partitions whole disks (MBR or
// GPT, sizes in percent) and fs_setup makes filesystems on them, before mounts writes
// their fstab lines. Both act on the running system's disks only: under --root the
// devices are the build machine's. Nothing that holds data is written over unless
// the entry says overwrite: true: a disk with a partition table or a filesystem is
// not partitioned, and a device with a filesystem other than the one asked for is
// not formatted (cloud-init formats it when partition is a number or none; sprout
// refuses and says so). sfdisk, blkid and mkfs are the target's own.
import { blockDeviceByName } from "../../agent/block-topology";
import { isPlainObject } from "../../agent/merge";
import { findInTarget, runInTarget } from "../../agent/target-command";
import type { CloudConfig, JsonObject, Module, ModuleContext, ModuleResult } from "../../agent/types";
import { blockDeviceMapping } from "../mounts/block-device-mapping";
import { deviceView, isMetaDeviceName, kernelName } from "../mounts/devices";
import { type BlockEntry, type FsDefinition, fillCmd, findDeviceNode, mkfsArgv, parseFsDefinition } from "./fs";
import { type DiskDefinition, layoutMatches, parseDiskDefinition, parseSfdiskJson, sfdiskScript } from "./layout";

const TOOL_TIMEOUT_MS = 60_000;
const MKFS_TIMEOUT_MS = 15 * 60_000;
/** How long new partitions' device nodes may take to appear. */
const SETTLE_MS = 10_000;

const DEVICE_ALIASES_NOTE = "device_aliases (mounts' key) names devices for both";

export const DISK_SETUP_SCHEMA = {
  disk_setup: {
    type: "object",
    description: `Partition tables to make, by disk: a /dev path, a name such as ephemeral0, or an alias from ${DEVICE_ALIASES_NOTE}. A disk that has a partition table or a filesystem is left alone unless overwrite is true.`,
    additionalProperties: {
      type: "object",
      properties: {
        table_type: { type: "string", enum: ["mbr", "gpt"], default: "mbr", description: "The partition table: mbr or gpt." },
        layout: { oneOf: [{ type: "boolean" }, { type: "string", enum: ["remove"] }, { type: "array" }], default: false, description: "true: one partition; a list of sizes in percent, each a number or [percent, type]; remove: wipe the table." },
        overwrite: { type: "boolean", default: false, description: "Partition the disk even when it has a table or a filesystem." },
      },
    },
    examples: [{ ephemeral0: { table_type: "mbr", layout: true, overwrite: false } }, { "/dev/vdb": { table_type: "gpt", layout: [50, [50, 8200]] } }],
  },
  fs_setup: {
    type: "array",
    description: "Filesystems to make. A device that has another filesystem is not formatted unless overwrite is true.",
    items: {
      type: "object",
      properties: {
        device: { type: "string", description: "The disk or partition: a /dev path, ephemeral0, or an alias." },
        filesystem: { type: "string", description: "ext4, xfs, btrfs, swap, ... (mkfs.<filesystem> or mk<filesystem> in the target)." },
        label: { type: "string", description: "The filesystem's label." },
        partition: { oneOf: [{ type: "string", enum: ["auto", "any", "none"] }, { type: "integer" }], default: "any", description: "auto: the first partition with no filesystem, unless one has this label and type; any: the same, a matching type is enough; none: the device itself; N: partition N." },
        overwrite: { type: "boolean", default: false, description: "Format even when the device has a filesystem." },
        replace_fs: { type: "string", description: "With partition any: a filesystem type that may be formatted over." },
        extra_opts: { oneOf: [{ type: "array", items: { type: "string" } }, { type: "string" }], description: "More options for mkfs." },
        cmd: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }], description: "A command of your own instead of mkfs, with %(label)s, %(filesystem)s and %(device)s filled in." },
      },
    },
    examples: [[{ label: "data", filesystem: "ext4", device: "/dev/vdb", partition: "auto" }, { label: "swap", filesystem: "swap", device: "/dev/vdb", partition: 2 }]],
  },
} as const;

/** What a run did, as it goes: notes, changes (which make the status "changed") and errors. */
class Outcome {
  done: string[] = [];
  errors: string[] = [];
  didChange = false;
  note(text: string): void {
    this.done.push(text);
  }
  changed(text: string): void {
    this.done.push(text);
    this.didChange = true;
  }
}

/** Disks as the entry names them, as cloud-init resolves them: aliases, then EC2's block-device-mapping names. */
function resolveDevice(ctx: ModuleContext, cfg: CloudConfig, spec: string): { path: string; partition: string | null } | { error: string } | { unmapped: string } {
  const aliases = isPlainObject(cfg.device_aliases) ? (cfg.device_aliases as JsonObject) : {};
  const dotted = /^(.+)\.(\d+)$/.exec(spec);
  let name = dotted ? dotted[1]! : spec;
  const partition = dotted ? dotted[2]! : null;
  const alias = aliases[name];
  if (typeof alias === "string" && alias) name = alias;
  if (isMetaDeviceName(name) || name === "ephemeral") {
    const mapped = deviceView(ctx.host.root, blockDeviceMapping(ctx)).mapName(name === "ephemeral" ? "ephemeral0" : name);
    // A seed shared between clouds names ephemeral0 where there is none: skipped, as mounts drops it.
    if (!mapped) return { unmapped: `${spec}: the datasource names no such device (${name}); skipped` };
    name = mapped;
  }
  const path = name.startsWith("/") ? name : `/dev/${name}`;
  if (!path.startsWith("/dev/")) return { error: `${spec} is not a device under /dev` };
  return { path, partition };
}

/** The kernel's name for a /dev path (by-id, by-label links followed), when it is a block device here. */
function blockName(ctx: ModuleContext, path: string): string | null {
  const name = kernelName(ctx.host.root, path);
  return name && ctx.host.root.stat(`/dev/${name}`)?.kind === "block" && blockDeviceByName(ctx.host.root, name) ? name : null;
}

/** The partitions of a whole disk, in order: [number, /dev path]. */
function partitionsOf(ctx: ModuleContext, disk: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let names: string[] = [];
  try {
    names = ctx.host.root.readdir(`/sys/class/block/${disk}`);
  } catch {
    return out;
  }
  for (const n of names) {
    const dev = n.startsWith(disk) ? blockDeviceByName(ctx.host.root, n) : null;
    if (dev && dev.partition !== null && dev.disk === disk) out.push([dev.partition, `/dev/${n}`]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The filesystem on a device as blkid finds it by probing (no cache, no udev needed): type and label, empty when none. */
async function probe(ctx: ModuleContext, dev: string): Promise<{ fstype: string; label: string; ptable: string } | { error: string }> {
  const r = await runInTarget(ctx.host, ["blkid", "-p", "-o", "export", dev], { timeoutMs: TOOL_TIMEOUT_MS });
  // blkid exits 2 when it finds nothing.
  if (r.result.code === 2) return { fstype: "", label: "", ptable: "" };
  if (r.failure) return { error: `blkid -p ${dev}: ${r.failure}` };
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(r.result.stdout.toString())?.[1] ?? "";
  return { fstype: field("TYPE"), label: field("LABEL"), ptable: field("PTTYPE") };
}

async function waitForPartitions(ctx: ModuleContext, disk: string, count: number): Promise<boolean> {
  const h = ctx.host;
  // sfdisk asks the kernel to re-read the table, which a disk in use (or a loop device
  // without partscan) refuses: partx adds the partitions one by one, as cloud-init's
  // read_parttbl re-reads it.
  if (partitionsOf(ctx, disk).length < count && findInTarget(h.root, "partx")) await runInTarget(h, ["partx", "--update", `/dev/${disk}`], { timeoutMs: TOOL_TIMEOUT_MS });
  if (findInTarget(h.root, "udevadm")) await runInTarget(h, ["udevadm", "settle", `--timeout=${SETTLE_MS / 1000}`], { timeoutMs: SETTLE_MS + 5000 });
  const until = h.clock.monoMs() + SETTLE_MS;
  for (;;) {
    const parts = partitionsOf(ctx, disk);
    if (parts.length >= count && parts.every(([, p]) => h.root.stat(p)?.kind === "block")) return true;
    if (h.clock.monoMs() > until) return false;
    await h.clock.sleep(100);
  }
}

async function setUpDisk(ctx: ModuleContext, cfg: CloudConfig, spec: string, def: DiskDefinition, out: Outcome): Promise<void> {
  if (def.layout === null) return;
  const h = ctx.host;
  const dev = resolveDevice(ctx, cfg, spec);
  if ("unmapped" in dev) return void out.note(`disk_setup.${dev.unmapped}`);
  if ("error" in dev) return void out.errors.push(`disk_setup.${spec}: ${dev.error}; not partitioned`);
  const disk = blockName(ctx, dev.path);
  if (disk === null || dev.partition !== null) return void out.errors.push(`disk_setup.${spec}: ${dev.path} is not a block device here; not partitioned`);
  if (blockDeviceByName(h.root, disk)?.partition !== null) return void out.errors.push(`disk_setup.${spec}: ${dev.path} is a partition, not a whole disk; not partitioned`);
  const path = `/dev/${disk}`;
  if (def.layout === "remove") {
    // As cloud-init's purge_disk: the partitions' signatures, then the table's.
    for (const [, p] of partitionsOf(ctx, disk)) await runInTarget(h, ["wipefs", "--all", p], { timeoutMs: TOOL_TIMEOUT_MS });
    const r = await runInTarget(h, ["wipefs", "--all", path], { timeoutMs: TOOL_TIMEOUT_MS });
    if (r.failure) return void out.errors.push(`disk_setup.${spec}: wipefs --all ${path} failed: ${r.failure}`);
    // The kernel forgets the partitions the table no longer has.
    if (partitionsOf(ctx, disk).length && findInTarget(h.root, "partx")) await runInTarget(h, ["partx", "--delete", path], { timeoutMs: TOOL_TIMEOUT_MS });
    out.changed(`${path}: partition table removed`);
    return;
  }
  const listed = await runInTarget(h, ["sfdisk", "--json", path], { timeoutMs: TOOL_TIMEOUT_MS });
  const present = listed.failure ? null : parseSfdiskJson(listed.result.stdout.toString());
  if (layoutMatches(def, present)) return void out.note(`${path}: already partitioned as asked`);
  if (!def.overwrite) {
    const found = await probe(ctx, path);
    if ("error" in found) return void out.errors.push(`disk_setup.${spec}: ${found.error}; not partitioned`);
    if (present !== null || found.fstype || found.ptable) {
      const what = found.fstype ? `a ${found.fstype} filesystem${found.label ? ` labelled ${found.label}` : ""}` : "a partition table";
      return void out.note(`${path} has ${what}: not partitioned (overwrite: true replaces it)`);
    }
  }
  const sectors = Number(h.root.tryReadText(`/sys/class/block/${disk}/size`)?.trim() ?? "0");
  if (!(sectors > 0)) return void out.errors.push(`disk_setup.${spec}: cannot read the size of ${path}; not partitioned`);
  const script = sfdiskScript(def, sectors);
  const r = await runInTarget(h, ["sfdisk", "--quiet", "--wipe", "always", "--wipe-partitions", "always", path], { timeoutMs: TOOL_TIMEOUT_MS, input: script });
  if (r.failure) return void out.errors.push(`disk_setup.${spec}: sfdisk ${path} failed: ${r.failure}`);
  const count = def.layout === "whole" ? 1 : (def.layout as unknown[]).length;
  if (!(await waitForPartitions(ctx, disk, count))) out.errors.push(`disk_setup.${spec}: ${path} is partitioned, but its partitions did not appear within ${SETTLE_MS / 1000} s (the kernel did not re-read the table; a reboot will)`);
  out.changed(`${path}: ${def.tableType} table, ${count} partition${count === 1 ? "" : "s"}`);
}

async function setUpFilesystem(ctx: ModuleContext, cfg: CloudConfig, where: string, def: FsDefinition, out: Outcome): Promise<void> {
  const h = ctx.host;
  const dev = resolveDevice(ctx, cfg, def.device);
  if ("unmapped" in dev) return void out.note(`${where}: ${dev.unmapped}`);
  if ("error" in dev) return void out.errors.push(`${where}: ${dev.error}; no filesystem made`);
  const base = blockName(ctx, dev.path);
  if (base === null) return void out.errors.push(`${where}: ${dev.path} is not a block device here; no filesystem made`);
  const partition = dev.partition ?? def.partition;
  // What blkid found on each device probed, so the chosen one is not probed twice.
  const probed = new Map<string, { fstype: string; label: string; ptable: string }>();
  let target: string;
  if (/^\d+$/.test(partition)) {
    const found = partitionsOf(ctx, base).find(([n]) => n === Number(partition));
    if (!found) return void out.errors.push(`${where}: /dev/${base} has no partition ${partition}; no filesystem made`);
    target = found[1];
  } else if (partition === "none") target = `/dev/${base}`;
  else {
    // auto / any: the disk, then its partitions, as lsblk lists them for cloud-init.
    const entries: BlockEntry[] = [];
    for (const [type, p] of [["disk", `/dev/${base}`] as const, ...partitionsOf(ctx, base).map(([, p]) => ["part", p] as const)]) {
      const found = await probe(ctx, p);
      if ("error" in found) return void out.errors.push(`${where}: ${found.error}; no filesystem made`);
      probed.set(p, found);
      // A disk with a partition table counts as used, as lsblk's children do for cloud-init.
      entries.push({ path: p, type, fstype: found.fstype || (type === "disk" && found.ptable ? "(partition table)" : ""), label: found.label });
    }
    const pick = findDeviceNode(`/dev/${base}`, entries, def);
    if (pick.reuse) return void out.note(`${pick.device} already has ${def.filesystem}${def.label ? ` labelled ${def.label}` : ""}`);
    if (pick.device === null) return void out.note(`/dev/${base}: no free partition for ${def.filesystem}${def.label ? ` (${def.label})` : ""}; no filesystem made`);
    target = pick.device;
  }
  const found = probed.get(target) ?? (await probe(ctx, target));
  if ("error" in found) return void out.errors.push(`${where}: ${found.error}; no filesystem made`);
  if (found.fstype && found.fstype === def.filesystem && found.label === (def.label ?? "") && !def.overwrite) return void out.note(`${target} already has ${def.filesystem}${def.label ? ` labelled ${def.label}` : ""}`);
  const replaceable = def.replaceFs !== null && found.fstype === def.replaceFs;
  if ((found.fstype || found.ptable) && !def.overwrite && !replaceable) {
    const what = found.fstype ? `a ${found.fstype} filesystem${found.label ? ` labelled ${found.label}` : ""}` : "a partition table";
    return void out.errors.push(`${where}: ${target} has ${what}; not formatted (set overwrite: true to replace it, or name another device)`);
  }
  let argv: string[];
  if (def.cmd) argv = ["sh", "-c", fillCmd(def.cmd, def, target)];
  else {
    const fs = def.filesystem!;
    const program = findInTarget(h.root, `mkfs.${fs}`) ?? findInTarget(h.root, `mk${fs}`);
    if (!program) return void out.errors.push(`${where}: cannot make ${fs}: no mkfs.${fs} here (install its tools, e.g. xfsprogs or btrfs-progs); no filesystem made`);
    // mkfs asks before writing over a whole disk or an old filesystem; both were checked above.
    argv = mkfsArgv(program, def, target, def.overwrite || replaceable || target === `/dev/${base}`);
  }
  const r = await runInTarget(h, argv, { timeoutMs: MKFS_TIMEOUT_MS });
  if (r.failure) return void out.errors.push(`${where}: ${argv.join(" ")} failed: ${r.failure}`);
  out.changed(`${target}: ${def.filesystem ?? "cmd"}${def.label ? ` (${def.label})` : ""}`);
}

export const diskSetup: Module = {
  id: "disk_setup",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Partition disks and make filesystems on them (cloud-init's disk_setup and fs_setup), before mounts.", properties: DISK_SETUP_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const hasDisks = cfg.disk_setup !== undefined && cfg.disk_setup !== null;
    const hasFs = cfg.fs_setup !== undefined && cfg.fs_setup !== null;
    if (!hasDisks && !hasFs) return { status: "skipped", detail: "no disk_setup or fs_setup" };
    const out = new Outcome();
    if (hasDisks && !isPlainObject(cfg.disk_setup)) out.errors.push("disk_setup must be a mapping of disks to {table_type, layout, overwrite}");
    if (hasFs && !Array.isArray(cfg.fs_setup)) out.errors.push("fs_setup must be a list of {device, filesystem, label, partition}");
    const disks = isPlainObject(cfg.disk_setup) ? Object.entries(cfg.disk_setup).map(([k, v]) => [k, parseDiskDefinition(v, `disk_setup.${k}`)] as const) : [];
    const filesystems = Array.isArray(cfg.fs_setup) ? cfg.fs_setup.map((v, i) => [`fs_setup[${i}]`, parseFsDefinition(v, `fs_setup[${i}]`)] as const) : [];
    for (const [, d] of [...disks, ...filesystems]) if ("error" in d) out.errors.push(`${d.error}; that entry was skipped`);
    const h = ctx.host;
    if (!h.root.isSystemRoot || !h.root.exists("/sys/class/block")) {
      return { status: "skipped", detail: "the target is not the running system: its disks are not this machine's, so none is touched", errors: out.errors };
    }
    for (const [spec, d] of disks) if (!("error" in d)) await setUpDisk(ctx, cfg, spec, d, out);
    for (const [where, d] of filesystems) if (!("error" in d)) await setUpFilesystem(ctx, cfg, where, d, out);
    return { status: out.didChange ? "changed" : "unchanged", detail: out.done.join("; ") || "nothing to do", errors: out.errors };
  },
};
