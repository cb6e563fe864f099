// A read-only FAT12/16/32 reader for the root directory of a small seed volume (a
// cidata vfat partition or image): the label, the root's files with their long
// (VFAT) names, and a file's bytes through its cluster chain. Chosen over
// blkid + mount through the Runner because mounting needs root, a kernel with vfat,
// a temp mount point and a cleanup that can fail, and costs tens of milliseconds;
// reading a few sectors costs well under one. Like the ISO reader, every number
// taken from the image is checked before it is used to read or allocate.
import { SproutError } from "../errors";
import type { BlockReader } from "../host/types";

export class VfatError extends SproutError {
  constructor(source: string, message: string, hint: string, cause?: unknown) {
    super("[vfat]", `${source}: ${message}`, { hint, cause });
  }
}

export interface VfatEntry {
  name: string;
  isDir: boolean;
  size: number;
  firstCluster: number;
}

export interface VfatVolume {
  readonly source: string;
  readonly fatBits: 12 | 16 | 32;
  /** The volume label (root directory label entry, else the boot sector's), trailing spaces removed; "" when none. */
  readonly label: string;
  /** The root directory's files and directories. */
  rootEntries(): VfatEntry[];
  /** A file of the root directory, by name (case-insensitive). */
  stat(name: string): VfatEntry | null;
  readFile(name: string, maxBytes?: number): Buffer;
}

const MAX_ROOT_BYTES = 1024 * 1024;
const DEFAULT_MAX_FILE = 16 * 1024 * 1024;
const BAD = "the volume is damaged or not FAT: make it again (mkfs.vfat -n cidata, then mcopy the seed files)";

/** True when the first sector looks like a FAT boot sector (cheap check for device scans). */
export function looksLikeFat(sector0: Buffer): boolean {
  if (sector0.length < 512 || sector0[510] !== 0x55 || sector0[511] !== 0xaa) return false;
  return sector0.toString("latin1", 54, 59) === "FAT12" || sector0.toString("latin1", 54, 59) === "FAT16" || sector0.toString("latin1", 82, 87) === "FAT32";
}

export function openVfat(dev: BlockReader): VfatVolume {
  return new Volume(dev);
}

class Volume implements VfatVolume {
  readonly source: string;
  readonly fatBits: 12 | 16 | 32;
  private readonly bps: number;
  private readonly clusterBytes: number;
  private readonly fatStart: number;
  private readonly fatBytes: number;
  private readonly dataStart: number;
  private readonly clusterCount: number;
  private readonly rootStart: number;
  private readonly rootBytes: number;
  private readonly rootCluster: number;
  private readonly bpbLabel: string;
  private root: { entries: VfatEntry[]; label: string | null } | null = null;

  constructor(private readonly dev: BlockReader) {
    this.source = dev.path;
    const b = this.read(0, 512, "the boot sector");
    if (!looksLikeFat(b)) throw new VfatError(this.source, "no FAT boot sector", "check that this is the right device or image file");
    this.bps = b.readUInt16LE(11);
    const spc = b[13]!;
    const reserved = b.readUInt16LE(14);
    const fats = b[16]!;
    const rootEntries = b.readUInt16LE(17);
    const total = b.readUInt16LE(19) || b.readUInt32LE(32);
    const fatSize = b.readUInt16LE(22) || b.readUInt32LE(36);
    const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
    if (![512, 1024, 2048, 4096].includes(this.bps) || !pow2(spc) || reserved === 0 || fats === 0 || fats > 4 || fatSize === 0 || total === 0) {
      throw new VfatError(this.source, "the boot sector's geometry is not valid", BAD);
    }
    this.clusterBytes = this.bps * spc;
    this.fatStart = reserved * this.bps;
    this.fatBytes = fatSize * this.bps;
    const rootSectors = Math.ceil((rootEntries * 32) / this.bps);
    this.rootStart = (reserved + fats * fatSize) * this.bps;
    this.rootBytes = rootSectors * this.bps;
    const dataSector = reserved + fats * fatSize + rootSectors;
    this.dataStart = dataSector * this.bps;
    if (total <= dataSector) throw new VfatError(this.source, "the boot sector's geometry leaves no data area", BAD);
    this.clusterCount = Math.floor((total - dataSector) / spc);
    this.fatBits = this.clusterCount < 4085 ? 12 : this.clusterCount < 65525 ? 16 : 32;
    this.rootCluster = this.fatBits === 32 ? b.readUInt32LE(44) : 0;
    const labelAt = this.fatBits === 32 ? 71 : 43;
    const sigAt = this.fatBits === 32 ? 66 : 38;
    const bpb = b[sigAt] === 0x29 ? b.toString("latin1", labelAt, labelAt + 11).replace(/ +$/, "") : "";
    this.bpbLabel = bpb === "NO NAME" ? "" : bpb;
  }

  get label(): string {
    return this.readRoot().label ?? this.bpbLabel;
  }

  rootEntries(): VfatEntry[] {
    return this.readRoot().entries;
  }

  stat(name: string): VfatEntry | null {
    const want = name.replace(/^\/+/, "").toLowerCase();
    return this.rootEntries().find((e) => e.name.toLowerCase() === want) ?? null;
  }

  readFile(name: string, maxBytes = DEFAULT_MAX_FILE): Buffer {
    const e = this.stat(name);
    if (!e) throw new VfatError(this.source, `${name}: no such file in the root directory`, "put the seed files at the top of the volume");
    if (e.isDir) throw new VfatError(this.source, `${name}: is a directory`, "give the name of a file");
    if (e.size > maxBytes) throw new VfatError(this.source, `${name}: ${e.size} bytes, more than the ${maxBytes} allowed`, "keep seed files small");
    if (e.size === 0) return Buffer.alloc(0);
    return this.readChain(e.firstCluster, e.size, name);
  }

  private readRoot(): { entries: VfatEntry[]; label: string | null } {
    if (this.root) return this.root;
    const data = this.fatBits === 32 ? this.readChain(this.rootCluster, MAX_ROOT_BYTES, "the root directory", true) : this.read(this.rootStart, this.rootBytes, "the root directory");
    const entries: VfatEntry[] = [];
    let label: string | null = null;
    let lfn: string[] = [];
    let lfnSum = -1;
    for (let p = 0; p + 32 <= data.length; p += 32) {
      const first = data[p]!;
      if (first === 0) break;
      if (first === 0xe5) {
        lfn = [];
        continue;
      }
      const attr = data[p + 11]!;
      if (attr === 0x0f) {
        const seq = first & 0x1f;
        if (seq === 0 || seq > 20) {
          lfn = [];
          continue;
        }
        if (first & 0x40) lfn = [];
        const chars = Buffer.concat([data.subarray(p + 1, p + 11), data.subarray(p + 14, p + 26), data.subarray(p + 28, p + 32)]);
        let part = "";
        for (let i = 0; i + 1 < chars.length; i += 2) {
          const c = chars.readUInt16LE(i);
          if (c === 0 || c === 0xffff) break;
          part += String.fromCharCode(c);
        }
        lfn[seq - 1] = part;
        lfnSum = data[p + 13]!;
        continue;
      }
      const short = data.subarray(p, p + 11);
      if (attr & 0x08) {
        if (!(attr & 0x10)) label = short.toString("latin1").replace(/ +$/, "");
        lfn = [];
        continue;
      }
      const long = lfn.length > 0 && lfnSum === shortNameChecksum(short) && [...lfn].every((part) => part !== undefined) ? lfn.join("") : null;
      lfn = [];
      const name = long ?? shortName(short, data[p + 12]!);
      if (name === "." || name === "..") continue;
      const firstCluster = (this.fatBits === 32 ? data.readUInt16LE(p + 20) << 16 : 0) | data.readUInt16LE(p + 26);
      entries.push({ name, isDir: (attr & 0x10) !== 0, size: data.readUInt32LE(p + 28), firstCluster: firstCluster >>> 0 });
    }
    this.root = { entries, label };
    return this.root;
  }

  /** Follows a cluster chain for `size` bytes (or to its end with `toEnd`), refusing loops and clusters outside the volume. */
  private readChain(start: number, size: number, what: string, toEnd = false): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    let cluster = start;
    const maxClusters = Math.ceil(size / this.clusterBytes);
    for (let n = 0; ; n++) {
      if (cluster < 2 || cluster > this.clusterCount + 1) throw new VfatError(this.source, `${what}: cluster ${cluster} is outside the volume`, BAD);
      if (n >= maxClusters) {
        if (toEnd) throw new VfatError(this.source, `${what}: more than ${size} bytes`, BAD);
        break;
      }
      const take = Math.min(this.clusterBytes, size - got);
      parts.push(this.read(this.dataStart + (cluster - 2) * this.clusterBytes, toEnd ? this.clusterBytes : take, what));
      got += take;
      if (!toEnd && got >= size) break;
      const next = this.fatEntry(cluster);
      if (next >= this.endOfChain()) {
        if (!toEnd) throw new VfatError(this.source, `${what}: the cluster chain ends after ${got} of ${size} bytes`, BAD);
        break;
      }
      cluster = next;
    }
    return Buffer.concat(parts);
  }

  private endOfChain(): number {
    return this.fatBits === 12 ? 0xff8 : this.fatBits === 16 ? 0xfff8 : 0x0ffffff8;
  }

  private fatEntry(cluster: number): number {
    const at = this.fatBits === 12 ? cluster + (cluster >> 1) : cluster * (this.fatBits / 8);
    if (at + (this.fatBits === 32 ? 4 : 2) > this.fatBytes) throw new VfatError(this.source, `cluster ${cluster} has no FAT entry`, BAD);
    const b = this.read(this.fatStart + at, this.fatBits === 32 ? 4 : 2, "the FAT");
    if (this.fatBits === 12) {
      const v = b.readUInt16LE(0);
      return cluster & 1 ? v >> 4 : v & 0xfff;
    }
    return this.fatBits === 16 ? b.readUInt16LE(0) : b.readUInt32LE(0) & 0x0fffffff;
  }

  private read(offset: number, length: number, what: string): Buffer {
    if (offset + length > this.dev.size) {
      throw new VfatError(this.source, `${what} (${length} bytes at ${offset}) lies past the end of the volume (${this.dev.size} bytes)`, "the volume is truncated or empty: check the device, or make the image again");
    }
    let buf: Buffer;
    try {
      buf = this.dev.read(offset, length);
    } catch (err) {
      throw new VfatError(this.source, `cannot read ${what}: ${(err as Error).message}`, "check the device and its permissions", err);
    }
    if (buf.length !== length) throw new VfatError(this.source, `short read of ${what}`, "the device failed or the image is truncated");
    return buf;
  }
}

function shortNameChecksum(short: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** "META    TXT" -> "META.TXT", honouring the NT lower-case flags (0x08 base, 0x10 extension). */
function shortName(short: Buffer, nt: number): string {
  let base = short.toString("latin1", 0, 8).replace(/ +$/, "");
  let ext = short.toString("latin1", 8, 11).replace(/ +$/, "");
  if (short[0] === 0x05) base = "\xe5" + base.slice(1);
  if (nt & 0x08) base = base.toLowerCase();
  if (nt & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}
