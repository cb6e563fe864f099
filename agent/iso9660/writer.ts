// A small ISO9660 writer for seed images: one root directory of files, with a
// Joliet tree so the names keep their case and dashes ("meta-data", "ovf-env.xml")
// for every reader that mounts it (cloud-init, Linux, Windows) and upper-case
// ISO9660 names ("META_DATA.;1") for the rest. Pure: returns the image bytes,
// the caller writes them through the Host. No dependency at image-build time.
export interface IsoFile {
  name: string;
  data: Uint8Array;
}

export interface IsoSpec {
  /** Volume label, e.g. "cidata" or "OVF ENV" (ASCII, at most 32 bytes; Joliet keeps the first 16). */
  label: string;
  files: IsoFile[];
  /** Recording time of the files and the volume (fixed by the caller for reproducible images). */
  date: Date;
}

const SECTOR = 2048;
const MAX_NAME = 64; // Joliet's limit

export class IsoWriteError extends Error {}

export function buildIso(spec: IsoSpec): Buffer {
  if (!/^[\x20-\x7e]{1,32}$/.test(spec.label)) throw new IsoWriteError(`volume label ${JSON.stringify(spec.label)} must be 1 to 32 ASCII characters`);
  const seen = new Set<string>();
  for (const f of spec.files) {
    if (!f.name || f.name.length > MAX_NAME || /[/\\\0;]/.test(f.name)) throw new IsoWriteError(`file name ${JSON.stringify(f.name)} must be 1 to ${MAX_NAME} characters without / \\ or ;`);
    const key = f.name.toLowerCase();
    if (seen.has(key)) throw new IsoWriteError(`two files named ${JSON.stringify(f.name)} (names are case-insensitive)`);
    seen.add(key);
  }
  const primaryNames = uniqueIsoNames(spec.files.map((f) => f.name));
  const files = spec.files.map((f, i) => ({ ...f, isoName: primaryNames[i]!, jolietName: f.name }));

  // Layout: 16 system sectors, PVD, Joliet SVD, terminator, four path tables, the two roots, the files.
  const PVD = 16, SVD = 17, TERM = 18, L1 = 19, M1 = 20, L2 = 21, M2 = 22;
  const primaryRootSize = dirSize(files.map((f) => f.isoName.length));
  const jolietRootSize = dirSize(files.map((f) => 2 * f.jolietName.length));
  const ROOT1 = 23;
  const ROOT2 = ROOT1 + primaryRootSize / SECTOR;
  let next = ROOT2 + jolietRootSize / SECTOR;
  const extents = files.map((f) => {
    const at = next;
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
    return at;
  });
  const total = next;
  const img = Buffer.alloc(total * SECTOR);

  const date = spec.date;
  const primaryRecords = () =>
    files
      .map((f, i) => ({ id: Buffer.from(f.isoName, "latin1"), extent: extents[i]!, size: f.data.length, dir: false }))
      .sort((a, b) => Buffer.compare(a.id, b.id));
  const jolietRecords = () =>
    files
      .map((f, i) => ({ id: ucs2(f.jolietName), extent: extents[i]!, size: f.data.length, dir: false }))
      .sort((a, b) => Buffer.compare(a.id, b.id));

  writeDir(img, ROOT1, primaryRootSize, primaryRecords(), date);
  writeDir(img, ROOT2, jolietRootSize, jolietRecords(), date);
  writePathTables(img, L1, M1, ROOT1);
  writePathTables(img, L2, M2, ROOT2);
  writeDescriptor(img, PVD, { type: 1, label: spec.label, total, lpath: L1, mpath: M1, root: ROOT1, rootSize: primaryRootSize, date, joliet: false });
  writeDescriptor(img, SVD, { type: 2, label: spec.label, total, lpath: L2, mpath: M2, root: ROOT2, rootSize: jolietRootSize, date, joliet: true });
  img[TERM * SECTOR] = 255;
  img.write("CD001", TERM * SECTOR + 1, "latin1");
  img[TERM * SECTOR + 6] = 1;
  files.forEach((f, i) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length).copy(img, extents[i]! * SECTOR));
  return img;
}

/** ISO9660 level-2 names: upper case, [A-Z0-9_], one ".", ";1". Clashes get a numeric suffix. */
function uniqueIsoNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const dot = name.lastIndexOf(".");
    const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
    const base = clean(dot > 0 ? name.slice(0, dot) : name).slice(0, 20);
    const ext = clean(dot > 0 ? name.slice(dot + 1) : "").slice(0, 8);
    let candidate = `${base}.${ext};1`;
    for (let n = 1; used.has(candidate); n++) candidate = `${base.slice(0, 16)}_${n}.${ext};1`;
    used.add(candidate);
    return candidate;
  });
}

function recordLength(idLen: number): number {
  return 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
}

/** Bytes of a root directory with these identifier lengths (plus "." and ".."), records never crossing a sector. */
function dirSize(idLens: number[]): number {
  let sectors = 1;
  let used = 2 * recordLength(1);
  for (const n of idLens) {
    const len = recordLength(n);
    if (used + len > SECTOR) {
      sectors++;
      used = 0;
    }
    used += len;
  }
  return sectors * SECTOR;
}

interface Rec {
  id: Buffer;
  extent: number;
  size: number;
  dir: boolean;
}

function writeRecord(img: Buffer, at: number, r: Rec, date: Date): number {
  const len = recordLength(r.id.length);
  img[at] = len;
  both32(img, at + 2, r.extent);
  both32(img, at + 10, r.size);
  recordingDate(img, at + 18, date);
  img[at + 25] = r.dir ? 0x02 : 0x00;
  both16(img, at + 28, 1);
  img[at + 32] = r.id.length;
  r.id.copy(img, at + 33);
  return len;
}

function writeDir(img: Buffer, sector: number, size: number, records: Rec[], date: Date): void {
  const self: Rec = { id: Buffer.from([0]), extent: sector, size, dir: true };
  const parent: Rec = { id: Buffer.from([1]), extent: sector, size, dir: true };
  let at = sector * SECTOR;
  at += writeRecord(img, at, self, date);
  at += writeRecord(img, at, parent, date);
  for (const r of records) {
    const len = recordLength(r.id.length);
    if ((at % SECTOR) + len > SECTOR) at = (Math.floor(at / SECTOR) + 1) * SECTOR;
    at += writeRecord(img, at, r, date);
  }
}

function writePathTables(img: Buffer, l: number, m: number, root: number): void {
  // One entry: the root (identifier 0x00, parent 1).
  const L = l * SECTOR, M = m * SECTOR;
  img[L] = 1;
  img.writeUInt32LE(root, L + 2);
  img.writeUInt16LE(1, L + 6);
  img[M] = 1;
  img.writeUInt32BE(root, M + 2);
  img.writeUInt16BE(1, M + 6);
}

interface Descriptor {
  type: 1 | 2;
  label: string;
  total: number;
  lpath: number;
  mpath: number;
  root: number;
  rootSize: number;
  date: Date;
  joliet: boolean;
}

function writeDescriptor(img: Buffer, sector: number, d: Descriptor): void {
  const at = sector * SECTOR;
  const text = (off: number, len: number, s: string) => {
    if (d.joliet) {
      const b = ucs2(s.slice(0, len / 2));
      for (let i = 0; i < len; i += 2) img.writeUInt16BE(0x20, at + off + i);
      b.copy(img, at + off);
    } else {
      img.fill(0x20, at + off, at + off + len);
      img.write(s.slice(0, len), at + off, "latin1");
    }
  };
  img[at] = d.type;
  img.write("CD001", at + 1, "latin1");
  img[at + 6] = 1;
  text(8, 32, "LINUX");
  text(40, 32, d.label);
  both32(img, at + 80, d.total);
  if (d.joliet) img.write("%/E", at + 88, "latin1"); // UCS-2 level 3
  both16(img, at + 120, 1);
  both16(img, at + 124, 1);
  both16(img, at + 128, SECTOR);
  both32(img, at + 132, 10);
  img.writeUInt32LE(d.lpath, at + 140);
  img.writeUInt32BE(d.mpath, at + 148);
  writeRecord(img, at + 156, { id: Buffer.from([0]), extent: d.root, size: d.rootSize, dir: true }, d.date);
  text(190, 128, "");
  text(318, 128, "");
  text(446, 128, "");
  text(574, 128, "SPROUT");
  text(702, 37, "");
  text(739, 37, "");
  text(776, 37, "");
  volumeDate(img, at + 813, d.date);
  volumeDate(img, at + 830, d.date);
  img.write("0000000000000000", at + 847, "latin1");
  img.write("0000000000000000", at + 864, "latin1");
  img[at + 881] = 1;
}

function both16(img: Buffer, at: number, v: number): void {
  img.writeUInt16LE(v, at);
  img.writeUInt16BE(v, at + 2);
}

function both32(img: Buffer, at: number, v: number): void {
  img.writeUInt32LE(v, at);
  img.writeUInt32BE(v, at + 4);
}

function recordingDate(img: Buffer, at: number, d: Date): void {
  img[at] = d.getUTCFullYear() - 1900;
  img[at + 1] = d.getUTCMonth() + 1;
  img[at + 2] = d.getUTCDate();
  img[at + 3] = d.getUTCHours();
  img[at + 4] = d.getUTCMinutes();
  img[at + 5] = d.getUTCSeconds();
  img[at + 6] = 0; // GMT
}

function volumeDate(img: Buffer, at: number, d: Date): void {
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1, 2)}${p(d.getUTCDate(), 2)}${p(d.getUTCHours(), 2)}${p(d.getUTCMinutes(), 2)}${p(d.getUTCSeconds(), 2)}00`;
  img.write(s, at, "latin1");
  img[at + 16] = 0;
}

function ucs2(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}
