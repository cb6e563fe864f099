// Block devices as the kernel lists them in /sys/block (under the target root, so
// tests lay out a fake /sys and /dev). Used by the datasources that look for seed
// media (OVF transport ISOs, NoCloud cidata): no udev, no blkid, no subprocess.
import { DatasourceError } from "./errors";
import type { TargetRoot } from "./host/types";
import type { DatasourceContext } from "./types";

export interface BlockDevice {
  /** Kernel name: "sr0", "vdb", "sdb1". */
  name: string;
  /** Device node: "/dev/sr0". */
  path: string;
  /** Bytes, from /sys (0: no media, e.g. an empty CD drive). */
  size: number;
}

function sizeOf(root: TargetRoot, sysDir: string): number {
  try {
    const sectors = Number(root.tryReadText(`${sysDir}/size`, 64)?.trim());
    return Number.isFinite(sectors) && sectors > 0 ? sectors * 512 : 0;
  } catch {
    return 0;
  }
}

/**
 * Disks whose kernel name matches `match`, with their partitions when asked, in
 * name order; devices without media (size 0) are left out: opening them only fails.
 */
export function listBlockDevices(root: TargetRoot, opts: { match: RegExp; partitions?: boolean }): BlockDevice[] {
  let names: string[];
  try {
    names = root.readdir("/sys/block").sort();
  } catch {
    return [];
  }
  const out: BlockDevice[] = [];
  for (const name of names) {
    if (!opts.match.test(name)) continue;
    const sys = `/sys/block/${name}`;
    const size = sizeOf(root, sys);
    if (size > 0) out.push({ name, path: `/dev/${name}`, size });
    if (!opts.partitions) continue;
    let children: string[] = [];
    try {
      children = root.readdir(sys).filter((c) => c.startsWith(name)).sort();
    } catch {
      // no partitions listed
    }
    for (const part of children) {
      if (!root.exists(`${sys}/${part}/partition`)) continue;
      const psize = sizeOf(root, `${sys}/${part}`);
      if (psize > 0) out.push({ name: part, path: `/dev/${part}`, size: psize });
    }
  }
  return out;
}

/**
 * An error the kernel gave while a device was read (EIO from a CD drive that lists a
 * size but has no readable medium, as qemu's and VMware's empty drives can; a damaged
 * disc). A scan skips that device: it is not a seed, and not the boot's problem.
 */
export function isDeviceReadError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && /^E[A-Z0-9]+$/.test((err as NodeJS.ErrnoException).code!);
}

/** `datasource.<ds>.devices`: device nodes or image files the admin names explicitly ([] when unset). */
export function configuredDevices(ds: string, ctx: DatasourceContext, example: string): string[] {
  const v = ctx.config.devices;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((d) => typeof d !== "string" || !d.startsWith("/"))) {
    throw new DatasourceError(ds, `datasource.${ds}.devices must be a list of absolute paths`, { hint: `write e.g. 'devices: [${example}]'` });
  }
  return v as string[];
}
