// What /sys/class/block says about a block device: its disk, partition number,
// read-only flag and, for device-mapper, the devices underneath. Read through
// the target root, so a test can point /sys and /dev of a temporary root at the
// real ones and name real loop devices.
import type { TargetRoot } from "./host/types";

export interface BlockDevice {
  /** Kernel name: "vda1", "loop0p1", "dm-0". */
  name: string;
  /** /dev/<name> of the running system: the kernel's device, the same under any --root. */
  dev: string;
  /** Partition number, or null for a whole disk or a device-mapper device. */
  partition: number | null;
  /** Kernel name of the disk holding the partition; null when this is not a partition. */
  disk: string | null;
  readOnly: boolean;
  /** For device-mapper: its dm name ("vg-root") and uuid ("LVM-...", "CRYPT-..."). */
  dm: { name: string; uuid: string; slaves: string[] } | null;
}

const base = (p: string) => p.replace(/\/+$/, "").split("/").pop() ?? "";

function readSys(root: TargetRoot, path: string): string | null {
  try {
    return root.tryReadText(path, 4096)?.trim() ?? null;
  } catch {
    return null;
  }
}

/** A whole number /sys shows (a partition's number, start or size in 512-byte sectors), or null. */
export function readSysNumber(root: TargetRoot, path: string): number | null {
  const text = readSys(root, path);
  return text && /^\d+$/.test(text) ? Number(text) : null;
}

/** The device named `name` in /sys/class/block, or null when there is none. */
export function blockDeviceByName(root: TargetRoot, name: string): BlockDevice | null {
  const sys = `/sys/class/block/${name}`;
  const link = root.readlink(sys);
  if (link === null && !root.exists(sys)) return null;
  const partition = readSysNumber(root, `${sys}/partition`);
  // A partition's sysfs directory sits inside its disk's: .../block/loop0/loop0p1.
  const segs = (link ?? "").split("/").filter(Boolean);
  const disk = partition !== null && segs.length >= 2 ? segs[segs.length - 2]! : null;
  let dm: BlockDevice["dm"] = null;
  const dmName = readSys(root, `${sys}/dm/name`);
  if (dmName !== null) {
    let slaves: string[] = [];
    try {
      slaves = root.readdir(`${sys}/slaves`).sort();
    } catch {
      // no slaves directory: nothing underneath we could grow
    }
    dm = { name: dmName, uuid: readSys(root, `${sys}/dm/uuid`) ?? "", slaves };
  }
  return { name, dev: `/dev/${name}`, partition, disk, readOnly: readSys(root, `${sys}/ro`) === "1", dm };
}

/** The device with this major:minor (from mountinfo), or null (tmpfs, overlay, a device /sys does not show). */
export function blockDeviceByMajMin(root: TargetRoot, majMin: string): BlockDevice | null {
  const link = root.readlink(`/sys/dev/block/${majMin}`);
  return link ? blockDeviceByName(root, base(link)) : null;
}

/**
 * The device a /dev path names, following symlinks such as /dev/disk/by-uuid/…,
 * /dev/disk/by-label/… and /dev/mapper/vg-root (which point at ../dm-0).
 */
export function blockDeviceByPath(root: TargetRoot, devPath: string): BlockDevice | null {
  let p = devPath;
  for (let hops = 0; hops < 16; hops++) {
    const target = root.readlink(p);
    if (target === null) break;
    p = target.startsWith("/") ? target : `${p.replace(/\/[^/]*$/, "")}/${target}`;
  }
  return blockDeviceByName(root, base(p));
}
