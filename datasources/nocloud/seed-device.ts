// NoCloud seed volumes: an ISO9660 or vfat volume labelled cidata (cloud-init's
// `genisoimage -V cidata` / `mkfs.vfat -n cidata` seeds) holding meta-data,
// user-data, vendor-data and network-config at its top. Found by scanning
// /sys/block (disks and their partitions) or named in datasource.NoCloud.devices
// (image files too). Read with sprout's own ISO and FAT readers: no mount, no blkid.
import { configuredDevices, isDeviceReadError, listBlockDevices } from "../../agent/seed-media";
import { DatasourceError, SproutError } from "../../agent/errors";
import type { BlockReader, Host } from "../../agent/host/types";
import { openIso } from "../../agent/iso9660";
import type { DatasourceContext } from "../../agent/types";
import { looksLikeFat, openVfat } from "../../agent/vfat";
import type { SeedFiles } from ".";

export const SEED_LABEL = "cidata";
/** Disks that can carry a seed; ram, zram, device-mapper and md devices cannot. */
const SEED_DISK = /^(sr|hd|sd|vd|xvd|nvme|mmcblk|loop)/;
const MAX_SEED_FILE = 16 * 1024 * 1024;

interface SeedVolume {
  kind: "iso9660" | "vfat";
  labels: string[];
  /** The file's bytes, null when the volume has no such file. */
  read(name: string): Buffer | null;
}

function openSeedVolume(dev: BlockReader): SeedVolume | null {
  if (dev.size >= 17 * 2048 && dev.read(16 * 2048 + 1, 5).toString("latin1") === "CD001") {
    const iso = openIso(dev);
    const labels: string[] = [];
    try {
      labels.push(iso.label);
    } catch {
      // a non-ASCII label is not cidata
    }
    if (iso.jolietLabel) labels.push(iso.jolietLabel);
    return { kind: "iso9660", labels, read: (name) => (iso.stat(name) ? iso.readFile(name, MAX_SEED_FILE) : null) };
  }
  if (dev.size >= 512 && looksLikeFat(dev.read(0, 512))) {
    const fat = openVfat(dev);
    return { kind: "vfat", labels: [fat.label], read: (name) => (fat.stat(name) ? fat.readFile(name, MAX_SEED_FILE) : null) };
  }
  return null;
}

export function seedDevicesConfigured(ctx: DatasourceContext): boolean {
  const v = ctx.config.devices;
  return v !== undefined && v !== null;
}

/**
 * Reads the seed on one device. A scanned device that is not a cidata volume is
 * skipped (null); a device the admin named (`strict`) must be a readable seed
 * volume, whatever its label, and every failure says why.
 */
function readSeedVolume(h: Host, path: string, strict: boolean): SeedFiles | null {
  const fail = (message: string, hint: string, cause?: unknown): null => {
    if (!strict) {
      h.log.debug(`nocloud: ${path} skipped: ${message}`);
      return null;
    }
    throw new DatasourceError("NoCloud", message, { hint, cause });
  };
  let dev: BlockReader;
  try {
    dev = h.root.openBlock(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(`cannot open seed device ${path}: ${(err as Error).message}`, code === "ENOENT" ? "check datasource.NoCloud.devices: that path does not exist" : code === "ENOMEDIUM" ? "insert the seed disc" : "check the device and its permissions", err);
  }
  try {
    if (dev.size === 0) return fail(`seed device ${path} is empty (a drive with no media?)`, "attach the cidata image, or remove the path from datasource.NoCloud.devices");
    const vol = openSeedVolume(dev);
    if (!vol) return fail(`${path} is neither an ISO9660 nor a FAT volume`, "make the seed with `sprout seed nocloud`, genisoimage -V cidata, or mkfs.vfat -n cidata");
    if (!strict && !vol.labels.some((l) => l.toLowerCase() === SEED_LABEL)) return null;
    const metaData = vol.read("meta-data");
    if (!metaData) return fail(`${vol.kind} seed ${path} has no meta-data file`, "a NoCloud seed needs at least a meta-data file with an instance-id");
    return {
      where: `seed-device (${path})`,
      metaData,
      userData: vol.read("user-data"),
      vendorData: vol.read("vendor-data"),
      networkConfig: vol.read("network-config"),
    };
  } catch (err) {
    if (err instanceof DatasourceError) throw err;
    if (err instanceof SproutError) return fail(`cannot read seed device ${path}: ${err.message}`, err.hint ?? "write the seed image again", err);
    if (isDeviceReadError(err)) return fail(`cannot read seed device ${path}: ${err.message}`, "check the device: a drive without a readable medium or a damaged disc gives I/O errors", err);
    throw err;
  } finally {
    dev.close();
  }
}

/** The first seed volume: the named devices when there are any (strict), else a scan for the cidata label. */
export function findSeedDevice(h: Host, ctx: DatasourceContext): SeedFiles | null {
  const named = configuredDevices("NoCloud", ctx, "/dev/vdb, /var/lib/seed.iso");
  if (named.length > 0) {
    for (const path of named) {
      const seed = readSeedVolume(h, path, true);
      if (seed) return seed;
    }
    return null;
  }
  for (const dev of listBlockDevices(h.root, { match: SEED_DISK, partitions: true })) {
    const seed = readSeedVolume(h, dev.path, false);
    if (seed) return seed;
  }
  return null;
}
