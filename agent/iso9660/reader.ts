// A read-only ISO9660 reader over a BlockReader: the volume label, directories
// and files, with Rock Ridge or Joliet names where the image has them. It reads
// only the sectors it needs (descriptors, the directories on a path, the file),
// and every length it takes from the image is checked against the image size and
// a cap before anything is allocated: a broken or hostile image gets an IsoError,
// never a crash, a hang or a huge buffer. sprout never mounts ISOs (slower, and
// not every kernel has iso9660).
import { SproutError } from "../errors";
import type { BlockReader } from "../host/types";

export class IsoError extends SproutError {
  constructor(source: string, message: string, hint: string, cause?: unknown) {
    super("[iso9660]", `${source}: ${message}`, { hint, cause });
  }
}

export type NameSystem = "rockridge" | "joliet" | "iso9660";

export interface IsoEntry {
  /** The name as the image presents it (Rock Ridge > Joliet > ISO9660 without ";1"). */
  name: string;
  isDir: boolean;
  size: number;
  /** Byte offset of the data in the image. */
  offset: number;
}

export interface IsoImage {
  readonly source: string;
  /** Which names this reader uses. */
  readonly names: NameSystem;
  /** The primary volume label, trailing spaces removed. Throws IsoError when it holds non-ASCII bytes. */
  readonly label: string;
  /** The Joliet volume label (UCS-2), or null without Joliet. */
  readonly jolietLabel: string | null;
  readdir(path: string): IsoEntry[];
  /** The entry at path (case-insensitive), or null when any component is missing. */
  stat(path: string): IsoEntry | null;
  /** The file's bytes; IsoError when missing, a directory, or larger than maxBytes (default 16 MiB). */
  readFile(path: string, maxBytes?: number): Buffer;
}

const SECTOR = 2048;
const FIRST_DESCRIPTOR = 16;
/** Real images have 3-5 descriptors; the cap bounds a run of garbage with no terminator. */
const MAX_DESCRIPTORS = 64;
/** Seeds have a handful of files; a directory beyond this is refused rather than read into memory. */
export const MAX_DIR_BYTES = 4 * 1024 * 1024;
const MAX_DEPTH = 64;
const DEFAULT_MAX_FILE = 16 * 1024 * 1024;
const MAX_CONTINUATIONS = 16;

interface RawDir {
  extent: number; // byte offset
  size: number;
}

interface Volume {
  blockSize: number;
  root: RawDir;
  joliet: boolean;
  labelBytes: Buffer;
}

const BAD_IMAGE = "the image is damaged or not an ISO9660 image: write it again (sprout seed, xorriso or genisoimage)";

export function openIso(dev: BlockReader): IsoImage {
  return new Image(dev);
}

class Image implements IsoImage {
  readonly source: string;
  readonly names: NameSystem;
  readonly jolietLabel: string | null;
  private readonly primary: Volume;
  private readonly tree: Volume;
  private readonly rockRidge: { skip: number } | null;
  private readonly dirCache = new Map<number, IsoEntry[]>();

  constructor(private readonly dev: BlockReader) {
    this.source = dev.path;
    let primary: Volume | null = null;
    let joliet: Volume | null = null;
    for (let i = 0; i < MAX_DESCRIPTORS; i++) {
      const sector = this.readExact((FIRST_DESCRIPTOR + i) * SECTOR, SECTOR, "volume descriptor");
      if (sector.toString("latin1", 1, 6) !== "CD001") {
        if (i === 0) throw new IsoError(this.source, "no ISO9660 volume descriptor at sector 16 (not an ISO image)", "check that this is the right device or image file");
        throw new IsoError(this.source, `volume descriptor ${FIRST_DESCRIPTOR + i} is not valid`, BAD_IMAGE);
      }
      const type = sector[0]!;
      if (type === 255) break;
      if (type === 1 && !primary) primary = this.volume(sector, false);
      if (type === 2 && !joliet && isJolietEscape(sector.subarray(88, 120))) joliet = this.volume(sector, true);
      if (i === MAX_DESCRIPTORS - 1) throw new IsoError(this.source, `no volume descriptor terminator in ${MAX_DESCRIPTORS} sectors`, BAD_IMAGE);
    }
    if (!primary) throw new IsoError(this.source, "no primary volume descriptor", BAD_IMAGE);
    this.primary = primary;
    this.jolietLabel = joliet ? decodeUcs2(joliet.labelBytes).replace(/ +$/, "") : null;
    this.rockRidge = this.detectRockRidge(primary);
    if (this.rockRidge) {
      this.names = "rockridge";
      this.tree = primary;
    } else if (joliet) {
      this.names = "joliet";
      this.tree = joliet;
    } else {
      this.names = "iso9660";
      this.tree = primary;
    }
  }

  get label(): string {
    const bytes = this.primary.labelBytes;
    if (bytes.some((b) => b < 0x20 || b > 0x7e)) {
      throw new IsoError(this.source, `the volume label has non-ASCII bytes (${JSON.stringify(bytes.toString("latin1").replace(/ +$/, ""))})`, "label the image with ASCII letters and digits, e.g. cidata or OVF ENV");
    }
    return bytes.toString("latin1").replace(/ +$/, "");
  }

  readdir(path: string): IsoEntry[] {
    const entry = this.walk(path);
    if (!entry) throw new IsoError(this.source, `${path}: no such directory`, "check the path; names are matched case-insensitively");
    if (!entry.isDir) throw new IsoError(this.source, `${path}: not a directory`, "give the path of a directory");
    return this.listDir({ extent: entry.offset, size: entry.size }, 0);
  }

  stat(path: string): IsoEntry | null {
    return this.walk(path);
  }

  readFile(path: string, maxBytes = DEFAULT_MAX_FILE): Buffer {
    const entry = this.walk(path);
    if (!entry) throw new IsoError(this.source, `${path}: no such file`, "check the path; names are matched case-insensitively");
    if (entry.isDir) throw new IsoError(this.source, `${path}: is a directory`, "give the path of a file");
    if (entry.size > maxBytes) throw new IsoError(this.source, `${path}: ${entry.size} bytes, more than the ${maxBytes} allowed`, "keep seed files small; this limit protects the boot from a damaged image");
    return this.readExact(entry.offset, entry.size, `file ${path}`);
  }

  private walk(path: string): IsoEntry | null {
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let cur: IsoEntry = { name: "/", isDir: true, size: this.tree.root.size, offset: this.tree.root.extent };
    const seen = new Set<number>([cur.offset]);
    for (let depth = 0; depth < parts.length; depth++) {
      if (depth >= MAX_DEPTH) throw new IsoError(this.source, `${path}: more than ${MAX_DEPTH} levels deep`, BAD_IMAGE);
      if (!cur.isDir) return null;
      const want = parts[depth]!.toLowerCase();
      const next = this.listDir({ extent: cur.offset, size: cur.size }, depth).find((e) => e.name.toLowerCase() === want);
      if (!next) return null;
      if (next.isDir) {
        if (seen.has(next.offset)) throw new IsoError(this.source, `${path}: directory ${next.name} loops back to a parent`, BAD_IMAGE);
        seen.add(next.offset);
      }
      cur = next;
    }
    return cur;
  }

  private volume(sector: Buffer, joliet: boolean): Volume {
    const blockSize = sector.readUInt16LE(128);
    if (![512, 1024, 2048].includes(blockSize)) throw new IsoError(this.source, `logical block size ${blockSize} is not supported`, BAD_IMAGE);
    const rootRecord = sector.subarray(156, 156 + 34);
    const root = this.extentOf(rootRecord, blockSize, "the root directory");
    return { blockSize, root, joliet, labelBytes: Buffer.from(sector.subarray(40, 72)) };
  }

  private extentOf(record: Buffer, blockSize: number, what: string): RawDir {
    const extent = record.readUInt32LE(2) * blockSize;
    const size = record.readUInt32LE(10);
    if (extent + size > this.dev.size) {
      throw new IsoError(this.source, `${what} (${size} bytes at ${extent}) extends past the end of the image (${this.dev.size} bytes)`, "the image is truncated or damaged: copy or write it again");
    }
    return { extent, size };
  }

  /** Rock Ridge is announced by an SP entry in the system use area of the root's "." record. */
  private detectRockRidge(v: Volume): { skip: number } | null {
    const first = this.readExact(v.root.extent, Math.min(v.root.size, SECTOR), "the root directory");
    const len = first[0] ?? 0;
    if (len < 34 || len > first.length) return null;
    const idLen = first[32]!;
    const sua = first.subarray(33 + idLen + (idLen % 2 === 0 ? 1 : 0), len);
    if (sua.length >= 7 && sua.toString("latin1", 0, 2) === "SP" && sua[4] === 0xbe && sua[5] === 0xef) return { skip: sua[6]! };
    return null;
  }

  private listDir(dir: RawDir, depth: number): IsoEntry[] {
    const cached = this.dirCache.get(dir.extent);
    if (cached) return cached;
    if (dir.size > MAX_DIR_BYTES) throw new IsoError(this.source, `a directory is ${dir.size} bytes, more than the ${MAX_DIR_BYTES} allowed`, BAD_IMAGE);
    if (depth > MAX_DEPTH) throw new IsoError(this.source, `directories nest deeper than ${MAX_DEPTH}`, BAD_IMAGE);
    const data = this.readExact(dir.extent, dir.size, "a directory");
    const out: IsoEntry[] = [];
    let pos = 0;
    while (pos < data.length) {
      const len = data[pos]!;
      if (len === 0) {
        // Records never cross a sector; a zero length pads to the next sector.
        pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
        continue;
      }
      if (len < 34 || pos + len > data.length) throw new IsoError(this.source, `a directory record at byte ${dir.extent + pos} has a bad length ${len}`, BAD_IMAGE);
      const rec = data.subarray(pos, pos + len);
      pos += len;
      const idLen = rec[32]!;
      if (33 + idLen > len) throw new IsoError(this.source, `a directory record at byte ${dir.extent + pos - len} has a name longer than the record`, BAD_IMAGE);
      const rawId = rec.subarray(33, 33 + idLen);
      if (idLen === 1 && (rawId[0] === 0 || rawId[0] === 1)) continue; // "." and ".."
      const flags = rec[25]!;
      const isDir = (flags & 0x02) !== 0;
      const offset = rec.readUInt32LE(2) * this.tree.blockSize;
      const size = rec.readUInt32LE(10);
      if (this.rockRidge && this.isRelocatedOrHidden(rec, idLen)) continue;
      // An entry past the end fails when it is read (readExact), not here: one bad file must not hide its siblings.
      out.push({ name: this.nameOf(rec, rawId, idLen, isDir), isDir, size, offset });
    }
    this.dirCache.set(dir.extent, out);
    return out;
  }

  private nameOf(rec: Buffer, rawId: Buffer, idLen: number, isDir: boolean): string {
    if (this.rockRidge) {
      const nm = this.rockRidgeName(rec, idLen);
      if (nm !== null) return nm;
    }
    if (this.tree.joliet) return stripVersion(decodeUcs2(rawId), isDir);
    return stripVersion(rawId.toString("latin1"), isDir);
  }

  /** The system use entries of one record, following CE continuation areas (bounded). */
  private *suspEntries(rec: Buffer, idLen: number): Generator<Buffer> {
    let area: Buffer = rec.subarray(33 + idLen + (idLen % 2 === 0 ? 1 : 0) + (this.rockRidge?.skip ?? 0));
    for (let hops = 0; hops <= MAX_CONTINUATIONS; hops++) {
      let next: Buffer | null = null;
      let p = 0;
      while (p + 4 <= area.length) {
        const len = area[p + 2]!;
        if (len < 4 || p + len > area.length) break;
        const e = area.subarray(p, p + len);
        const sig = e.toString("latin1", 0, 2);
        if (sig === "ST") return;
        if (sig === "CE" && len >= 28) {
          const at = e.readUInt32LE(4) * this.tree.blockSize + e.readUInt32LE(12);
          const n = e.readUInt32LE(20);
          if (n > SECTOR || at + n > this.dev.size) throw new IsoError(this.source, "a Rock Ridge continuation area lies outside the image", BAD_IMAGE);
          next = this.readExact(at, n, "a Rock Ridge continuation area");
        } else {
          yield e;
        }
        p += len;
      }
      if (!next) return;
      area = next;
    }
    throw new IsoError(this.source, `Rock Ridge continuation areas chain more than ${MAX_CONTINUATIONS} times`, BAD_IMAGE);
  }

  private rockRidgeName(rec: Buffer, idLen: number): string | null {
    let name: string | null = null;
    for (const e of this.suspEntries(rec, idLen)) {
      if (e.toString("latin1", 0, 2) !== "NM" || e.length < 5) continue;
      const flags = e[4]!;
      if (flags & 0x06) continue; // "." or ".." aliases
      name = (name ?? "") + e.toString("utf8", 5);
      if (name.length > 1024) throw new IsoError(this.source, "a Rock Ridge name is longer than 1024 characters", BAD_IMAGE);
      if (!(flags & 0x01)) break;
    }
    return name;
  }

  /** RE marks a relocated directory's real place holder copy; it appears again under its CL parent. */
  private isRelocatedOrHidden(rec: Buffer, idLen: number): boolean {
    for (const e of this.suspEntries(rec, idLen)) if (e.toString("latin1", 0, 2) === "RE") return true;
    return false;
  }

  private readExact(offset: number, length: number, what: string): Buffer {
    if (offset + length > this.dev.size) {
      throw new IsoError(this.source, `${what} (${length} bytes at ${offset}) lies past the end of the image (${this.dev.size} bytes)`, "the image is truncated, empty or not an ISO: check the device has media, or write the image again");
    }
    let buf: Buffer;
    try {
      buf = this.dev.read(offset, length);
    } catch (err) {
      throw new IsoError(this.source, `cannot read ${what}: ${(err as Error).message}`, "check the device (is there a disc in the drive?) and its permissions", err);
    }
    if (buf.length !== length) throw new IsoError(this.source, `short read of ${what}: ${buf.length} of ${length} bytes`, "the image is truncated or the device failed: write it again");
    return buf;
  }
}

function isJolietEscape(esc: Buffer): boolean {
  return esc[0] === 0x25 && esc[1] === 0x2f && (esc[2] === 0x40 || esc[2] === 0x43 || esc[2] === 0x45);
}

function decodeUcs2(bytes: Buffer): string {
  let s = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes.readUInt16BE(i));
  return s;
}

/** "META_DAT.;1" -> "META_DAT", "README.TXT;1" -> "README.TXT". */
function stripVersion(name: string, isDir: boolean): string {
  if (isDir) return name;
  const semi = name.lastIndexOf(";");
  let n = semi >= 0 ? name.slice(0, semi) : name;
  if (n.endsWith(".")) n = n.slice(0, -1);
  return n;
}
