// growpart: grow the partition behind "/" (or the listed mount points and
// devices) to fill its disk, with growpart from cloud-guest-utils, in the local
// stage before anything fills the filesystem. cloud-init's keys and meanings:
// mode auto|growpart|off, devices, ignore_growroot_disabled, and the file
// /etc/growroot-disabled. A partition that cannot grow is "unchanged"; the
// filesystem on it is grown by the resizefs module that runs next.
import { blockDeviceByMajMin, blockDeviceByName, blockDeviceByPath, readSysNumber, type BlockDevice } from "../../agent/block-topology";
import type { Host } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import { mountAt, parseMountinfo } from "../../agent/mountinfo";
import type { Module, ModuleResult } from "../../agent/types";
import { parseGrowpartOutput } from "./parse";
import { describeFailure } from "../../agent/target-command";

const GROWPART_TIMEOUT_MS = 120_000;
const PVRESIZE_TIMEOUT_MS = 60_000;
export const GROWROOT_DISABLED = "/etc/growroot-disabled";
const INSTALL_HINT = "install the cloud-guest-utils package (it provides growpart), or set growpart: {mode: off}";

export const GROWPART_SCHEMA = {
  growpart: {
    type: "object",
    description: "Grow partitions to fill their disk at boot (on by default for /). The filesystem on them is grown by resize_rootfs.",
    default: { mode: "auto", devices: ["/"] },
    examples: [{ mode: "auto", devices: ["/", "/dev/vdb1"] }],
    properties: {
      mode: {
        type: ["string", "boolean"],
        enum: ["auto", "growpart", "off", false],
        description: "auto: use growpart when installed; growpart: require it (an error when missing); off (or false): do nothing.",
        default: "auto",
        examples: ["off"],
      },
      devices: {
        type: "array",
        items: { type: "string" },
        description: "Mount points or device paths whose partition to grow.",
        default: ["/"],
        examples: [["/", "/var"]],
      },
      ignore_growroot_disabled: {
        type: "boolean",
        description: "Grow even when /etc/growroot-disabled exists.",
        default: false,
        examples: [true],
      },
    },
  },
} as const;

/** The partition behind a mount point or device path, or why there is nothing to grow there. */
export interface GrowTarget {
  entry: string;
  /** The partition to grow. */
  part: BlockDevice;
  /** Its disk. */
  disk: BlockDevice;
  /** Set when the partition is an LVM physical volume under the mounted device: pvresize it after growing. */
  pv: boolean;
}

export function findGrowTarget(h: Host, entry: string, mountinfo: string | null): GrowTarget | { entry: string; nothing: string } {
  let dev: BlockDevice | null;
  if (entry.startsWith("/dev/")) {
    dev = blockDeviceByPath(h.root, entry);
    if (!dev) return { entry, nothing: `${entry}: no such block device in /sys/class/block` };
  } else {
    if (mountinfo === null) return { entry, nothing: `${entry}: cannot read /proc/self/mountinfo` };
    const m = mountAt(parseMountinfo(mountinfo).entries, entry);
    if (!m) return { entry, nothing: `${entry} is not a mount point` };
    // A subdirectory of a filesystem mounted there (a chroot, a bind mount) is not the machine's disk to grow.
    if (m.fsRoot !== "/") return { entry, nothing: `${entry} is ${m.fsRoot} of ${m.source} (a bind mount or chroot), not a whole filesystem: not grown` };
    // major:minor finds the device even when mountinfo says /dev/root or a by-uuid path.
    dev = blockDeviceByMajMin(h.root, m.majMin) ?? (m.source.startsWith("/dev/") && m.source !== "/dev/root" ? blockDeviceByPath(h.root, m.source) : null);
    if (!dev) return { entry, nothing: `${entry} is on ${m.fsType} (${m.source}), not a block device` };
  }
  let pv = false;
  if (dev.dm) {
    const lvm = dev.dm.uuid.startsWith("LVM-");
    if (!lvm || dev.dm.slaves.length !== 1) {
      return { entry, nothing: `${dev.dev} is device-mapper ${dev.dm.name} (${dev.dm.uuid.split("-")[0] || "unknown type"}, ${dev.dm.slaves.length} devices underneath): only an LVM volume on one partition is grown` };
    }
    const slave = blockDeviceByName(h.root, dev.dm.slaves[0]!);
    if (!slave) return { entry, nothing: `${dev.dev}: its physical volume ${dev.dm.slaves[0]} is not in /sys/class/block` };
    dev = slave;
    pv = true;
  }
  if (dev.partition === null || dev.disk === null) return { entry, nothing: `${dev.dev} is a whole disk, not a partition: there is no partition to grow` };
  const disk = blockDeviceByName(h.root, dev.disk);
  if (!disk) return { entry, nothing: `${dev.dev}: its disk ${dev.disk} is not in /sys/class/block` };
  return { entry, part: dev, disk, pv };
}

/** Another program holding the disk's lock (udev, a partitioner) makes growpart wait without end: ask first. */
async function diskIsBusy(h: Host, diskPath: string): Promise<boolean> {
  if (!h.run.which("flock")) return false;
  const r = await h.run.run(["flock", "--nonblock", "--exclusive", diskPath, "true"], { timeoutMs: 5000 });
  return r.code === 1;
}

/** growpart grows a partition only by more than this (its FUDGE, 1 MiB), in /sys's 512-byte sectors. */
const GROWPART_FUDGE_SECTORS = 2048;

/** 512-byte sectors between the partition's end and the disk's end, from /sys; null when /sys does not say. */
function roomAfter(h: Host, t: GrowTarget): number | null {
  const start = readSysNumber(h.root, `/sys/class/block/${t.part.name}/start`);
  const size = readSysNumber(h.root, `/sys/class/block/${t.part.name}/size`);
  const disk = readSysNumber(h.root, `/sys/class/block/${t.disk.name}/size`);
  if (start === null || size === null || disk === null || start + size > disk) return null;
  return disk - (start + size);
}

async function grow(h: Host, t: GrowTarget): Promise<{ changed: boolean; detail: string }> {
  // Devices are the kernel's, named from /sys: /dev/<name> of the running system, whatever --root is.
  const diskPath = t.disk.dev;
  const what = `${t.part.dev} (partition ${t.part.partition} of ${t.disk.dev})`;
  // Every boot after the first: /sys says the partition already reaches the disk's end,
  // where growpart would answer NOCHANGE (it grows only by more than 1 MiB). No flock, no growpart.
  const room = roomAfter(h, t);
  if (room !== null && room <= GROWPART_FUDGE_SECTORS) return { changed: false, detail: `${what}: it ends ${room === 0 ? "at" : `${room} sectors before`} the disk's end, so it cannot be grown (growpart not run)` };
  if (t.disk.readOnly || t.part.readOnly) throw new Error(`${what} is read-only: not grown (make the disk writable, e.g. \`blockdev --setrw ${t.disk.dev}\`, and boot again)`);
  if (await diskIsBusy(h, diskPath)) throw new Error(`${what}: the disk is busy (another program holds its lock); not grown, nothing changed (run \`growpart ${t.disk.dev} ${t.part.partition}\` once it is free)`);
  const r = await h.run.run(["growpart", diskPath, String(t.part.partition)], { timeoutMs: GROWPART_TIMEOUT_MS, env: { LANG: "C", LC_ALL: "C" } });
  if (r.spawnError) throw new Error(`growpart could not run (${r.spawnError}): ${INSTALL_HINT}`);
  if (r.timedOut) throw new Error(`growpart ${t.disk.dev} ${t.part.partition} did not finish within ${GROWPART_TIMEOUT_MS / 1000} s and was stopped; check the disk`);
  const out = parseGrowpartOutput(r.code, r.stdout.toString(), r.stderr.toString());
  if (out.kind === "failed") throw new Error(`growpart ${t.disk.dev} ${t.part.partition} failed: ${out.reason}`);
  if (out.kind === "nochange") return { changed: false, detail: `${what}: ${out.reason}` };
  let detail = `${what} grown${out.oldSectors !== null ? ` from ${out.oldSectors} to ${out.newSectors} sectors` : ""}`;
  if (t.pv) {
    const pvr = await h.run.run(["pvresize", t.part.dev], { timeoutMs: PVRESIZE_TIMEOUT_MS, env: { LVM_SUPPRESS_FD_WARNINGS: "1" } });
    if (pvr.code !== 0) throw new Error(`${detail}, but pvresize ${t.part.dev} failed (${describeFailure(pvr, PVRESIZE_TIMEOUT_MS)}); run it by hand (lvm2 package)`);
    detail += `; physical volume resized (extend the logical volume with lvextend to use the space)`;
  }
  return { changed: true, detail };
}

export const growpart: Module = {
  id: "growpart",
  stage: "local",
  frequency: "always",
  schema: { type: "object", description: "Grow the root partition (and others listed) to fill the disk, with growpart from cloud-guest-utils.", properties: GROWPART_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    const gp = isPlainObject(cfg.growpart) ? cfg.growpart : {};
    const mode = gp.mode === false ? "off" : gp.mode ?? "auto";
    if (mode === "off") return { status: "skipped", detail: "growpart: mode is off" };
    if (mode !== "auto" && mode !== "growpart") return { status: "skipped", errors: [`growpart: mode ${JSON.stringify(mode)} is not auto, growpart or off; nothing grown (fix the growpart: key)`] };
    if (h.root.exists(GROWROOT_DISABLED) && gp.ignore_growroot_disabled !== true) return { status: "skipped", detail: `${GROWROOT_DISABLED} exists (remove it, or set growpart: {ignore_growroot_disabled: true})` };
    const devices = gp.devices === undefined ? ["/"] : gp.devices;
    if (!Array.isArray(devices) || devices.some((d) => typeof d !== "string")) return { status: "skipped", errors: ["growpart: devices must be a list of mount points or device paths, e.g. [\"/\"]"] };
    if (!h.run.which("growpart")) {
      const msg = `growpart is not installed: ${INSTALL_HINT}`;
      if (mode === "growpart") return { status: "skipped", errors: [msg] };
      h.log.warn(msg);
      return { status: "skipped", detail: msg };
    }
    let mountinfo: string | null = null;
    try {
      mountinfo = h.root.tryReadText("/proc/self/mountinfo", 4 * 1024 * 1024);
    } catch {
      // reported per device below
    }
    const details: string[] = [];
    const errors: string[] = [];
    let changed = false;
    for (const entry of devices as string[]) {
      const t = findGrowTarget(h, entry, mountinfo);
      if ("nothing" in t) {
        details.push(t.nothing);
        continue;
      }
      try {
        const res = await grow(h, t);
        changed ||= res.changed;
        details.push(res.detail);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return { status: changed ? "changed" : "unchanged", detail: details.join("; "), errors };
  },
};
