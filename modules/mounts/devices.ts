// What the first field of a `mounts:` entry names, as cloud-init's cc_mounts
// reads it: `sdb`/`xvdb`/`vdc1`/`sr0` are /dev/ names with the /dev/ left off;
// `ephemeral0`, `swap`, `ami`, `root`, `ebsN` are names from the datasource's
// block-device-mapping (EC2's meta-data); `NAME.N` is partition N of NAME; a whole
// disk that has a partition 1 means that partition. Anything else (LABEL=, UUID=,
// tmpfs, server:/export, a file to bind) is written as it is.
import { blockDeviceByName } from "../../agent/block-topology";
import type { TargetRoot } from "../../agent/host/types";

const SHORT_DEVICE = /^x?[shv]d[a-z][0-9]*$|^sr[0-9]+$/;
const NETWORK = /^.+:/;

export function isMetaDeviceName(name: string): boolean {
  return ["ami", "root", "swap"].includes(name) || (/^(ephemeral|ebs)/.test(name) && !name.includes(":"));
}

/** How the machine's devices can be looked at. */
export interface DeviceView {
  /** False when sprout cannot see the kernel's devices (a --root target, a chroot without /sys): names are then written unchecked. */
  canCheck: boolean;
  isBlockDevice(path: string): boolean;
  /** Whether `part` is a partition of the whole disk `disk` (both /dev paths, symlinks followed). */
  isPartitionOf(part: string, disk: string): boolean;
  /** The device a block-device-mapping name stands for (`ephemeral0` -> `sdb`), or null. */
  mapName(name: string): string | null;
}

export type Resolution =
  /** Written as the user wrote it: not a device node path (LABEL=, tmpfs, nfs, a bind source). */
  | { kind: "as-written"; spec: string }
  /** A device node path; exists is null when it cannot be checked. */
  | { kind: "device"; spec: string; exists: boolean | null; note?: string }
  /** A block-device-mapping name the datasource does not map: the entry is dropped. */
  | { kind: "unmapped"; name: string };

/** cloud-init's partition suffixes: sdb1, nvme0n1p1 / loop0p1, by-id/...-part1. */
function partitionCandidates(dev: string, n: string): string[] {
  return [`${dev}${n}`, `${dev}p${n}`, `${dev}-part${n}`];
}

/** The kernel's naming: a disk whose name ends in a digit gets "p" before the partition number. */
function conventionalPartition(dev: string, n: string): string {
  return /\d$/.test(dev) ? `${dev}p${n}` : `${dev}${n}`;
}

export function resolveDeviceName(spec: string, view: DeviceView, aliases: Record<string, string>): Resolution {
  if (NETWORK.test(spec)) return { kind: "as-written", spec };
  const start = spec === "ephemeral" ? "ephemeral0" : spec;
  // NAME.N: partition N (cloud-init's "dotted" device names, e.g. ephemeral0.1).
  const dotted = /^(.+)\.(\d+)$/.exec(start);
  let name = dotted ? dotted[1]! : start;
  const partition = dotted ? dotted[2]! : null;
  name = aliases[name] ?? name;
  let dev: string;
  let note: string | undefined;
  if (isMetaDeviceName(name)) {
    const mapped = view.mapName(name);
    if (!mapped) return { kind: "unmapped", name };
    dev = mapped.startsWith("/") ? mapped : `/dev/${mapped}`;
    note = `${name} is ${dev} (block-device-mapping)`;
  } else if (SHORT_DEVICE.test(name)) dev = `/dev/${name}`;
  else if (name.startsWith("/dev/")) dev = name;
  else return { kind: "as-written", spec };

  if (!view.canCheck) return { kind: "device", spec: partition ? conventionalPartition(dev, partition) : dev, exists: null, note };
  if (partition) {
    const found = partitionCandidates(dev, partition).find((p) => view.isBlockDevice(p));
    return found ? { kind: "device", spec: found, exists: true, note } : { kind: "device", spec: conventionalPartition(dev, partition), exists: false, note };
  }
  // A whole disk with a partition 1 means that partition, as in cloud-init.
  const first = partitionCandidates(dev, "1").find((p) => view.isBlockDevice(p) && view.isPartitionOf(p, dev));
  if (first) return { kind: "device", spec: first, exists: true, note: `${note ? `${note}; ` : ""}${dev} is a partitioned disk: its partition 1 is used` };
  return { kind: "device", spec: dev, exists: view.isBlockDevice(dev), note };
}

/** Follows symlinks (up to 16) to the device's kernel name: /dev/disk/by-label/x -> sdb1. */
export function kernelName(root: TargetRoot, path: string): string {
  let p = path;
  for (let i = 0; i < 16; i++) {
    const link = root.readlink(p);
    if (link === null) break;
    p = link.startsWith("/") ? link : `${p.slice(0, p.lastIndexOf("/"))}/${link}`;
  }
  return p.split("/").filter((s) => s && s !== ".").pop() ?? "";
}

/**
 * The devices of the running system, when sprout configures it and can see them
 * (/sys/class/block). Under --root the devices are the build host's, not the
 * target's: nothing is checked then.
 */
export function deviceView(root: TargetRoot, blockDeviceMapping: Record<string, string> | null): DeviceView {
  const canCheck = root.isSystemRoot && root.exists("/sys/class/block");
  const isBlockDevice = (p: string) => root.stat(p)?.kind === "block";
  return {
    canCheck,
    isBlockDevice,
    isPartitionOf(part, disk) {
      const dev = blockDeviceByName(root, kernelName(root, part));
      return dev !== null && dev.partition !== null && dev.disk === kernelName(root, disk);
    },
    mapName(name) {
      if (!blockDeviceMapping) return null;
      // Eucalyptus names it `ephemeral`, not `ephemeral0` (cloud-init's LP: #513842).
      const found = blockDeviceMapping[name] ?? (name === "ephemeral0" ? blockDeviceMapping.ephemeral : undefined);
      if (typeof found !== "string" || found === "") return null;
      const dev = found.startsWith("/") ? found : `/dev/${found}`;
      if (!canCheck || isBlockDevice(dev)) return dev;
      // The meta-data may say sdb where the kernel named it vdb or xvdb (cloud-init's LP: #611137).
      const base = dev.split("/").pop()!;
      if (base.startsWith("sd")) {
        for (const to of ["vd", "xvd", "vtb"]) {
          const cand = `/dev/${to}${base.slice(2)}`;
          if (isBlockDevice(cand)) return cand;
        }
      }
      // An ephemeral0 in the mapping that the instance does not have (t1.micro): no fstab line for it (LP: #744019).
      return name === "ephemeral0" ? null : dev;
    },
  };
}
