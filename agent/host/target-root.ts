import * as fs from "node:fs";
import * as path from "node:path";
import { PathEscapeError } from "../errors";
import type { BlockReader, FileStat, FsSpace, TargetRoot, WriteOptions } from "./types";

const DEFAULT_MAX_READ = 64 * 1024 * 1024;

function kindOf(st: fs.Stats): FileStat["kind"] {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isBlockDevice()) return "block";
  if (st.isCharacterDevice()) return "char";
  return "other";
}

function toStat(st: fs.Stats): FileStat {
  return { kind: kindOf(st), size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * The target filesystem. Paths are target paths ("/etc/hostname"); they are
 * resolved lexically under `dir` and refused when ".." would climb above it.
 * Writes also check that the parent directory, after symlinks, is still inside
 * the root, so a symlink planted in a seed cannot redirect a write to the host.
 */
export class FsTargetRoot implements TargetRoot {
  readonly dir: string;
  readonly isSystemRoot: boolean;
  /**
   * Whether paths resolve to the machine's own files. Kept apart from isSystemRoot, which
   * callers read (and a test may present differently), so nothing but the directory
   * given here decides where a write lands.
   */
  readonly #atSlash: boolean;
  private realDir: string;

  constructor(dir: string) {
    const abs = path.resolve(dir);
    this.dir = abs;
    this.#atSlash = abs === "/";
    this.isSystemRoot = this.#atSlash;
    this.realDir = abs;
    try {
      this.realDir = fs.realpathSync.native(abs);
    } catch {
      // A root that does not exist yet (a fresh temp dir): writes create it.
    }
  }

  resolve(p: string): string {
    if (typeof p !== "string" || p.length === 0 || p.includes("\0")) throw new PathEscapeError(String(p), this.dir);
    const parts: string[] = [];
    for (const seg of p.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        if (parts.length === 0) throw new PathEscapeError(p, this.dir);
        parts.pop();
      } else parts.push(seg);
    }
    return this.#atSlash ? "/" + parts.join("/") : path.join(this.dir, ...parts);
  }

  /** Refuses a write whose parent directory resolves (through symlinks) outside the root. */
  private checkParentInside(hostPath: string, original: string): void {
    if (this.#atSlash) return;
    let parent = path.dirname(hostPath);
    let real: string;
    for (;;) {
      try {
        // realpath(3) in one call, not Node's JS walk with an lstat per component.
        real = fs.realpathSync.native(parent);
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const up = path.dirname(parent);
        if (up === parent) return;
        parent = up;
      }
    }
    if (real !== this.realDir && !real.startsWith(this.realDir + "/")) throw new PathEscapeError(original, this.dir);
  }

  exists(p: string): boolean {
    return fs.existsSync(this.resolve(p));
  }

  stat(p: string): FileStat | null {
    try {
      return toStat(fs.statSync(this.resolve(p)));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  lstat(p: string): FileStat | null {
    try {
      return toStat(fs.lstatSync(this.resolve(p)));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  readFile(p: string, maxBytes = DEFAULT_MAX_READ): Buffer {
    const hostPath = this.resolve(p);
    const fd = fs.openSync(hostPath, "r");
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) {
        const err = new Error(`EISDIR: ${p} is a directory`) as NodeJS.ErrnoException;
        err.code = "EISDIR";
        throw err;
      }
      // Files in /proc and /sys report size 0: read in chunks up to the cap.
      // Size the first read from stat, so a small file costs one small buffer.
      const chunks: Buffer[] = [];
      let total = 0;
      let chunk = st.size > 0 ? st.size + 1 : 4096;
      for (;;) {
        const want = Math.min(chunk, maxBytes + 1 - total);
        chunk = 65536;
        if (want <= 0) break;
        const buf = Buffer.allocUnsafe(want);
        const n = fs.readSync(fd, buf, 0, want, null);
        if (n === 0) break;
        chunks.push(n === want ? buf : buf.subarray(0, n));
        total += n;
      }
      if (total > maxBytes) {
        const err = new Error(`EFBIG: ${p} is larger than ${maxBytes} bytes`) as NodeJS.ErrnoException;
        err.code = "EFBIG";
        throw err;
      }
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    } finally {
      fs.closeSync(fd);
    }
  }

  tryReadFile(p: string, maxBytes?: number): Buffer | null {
    try {
      return this.readFile(p, maxBytes);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  readText(p: string, maxBytes?: number): string {
    return this.readFile(p, maxBytes).toString("utf8");
  }

  tryReadText(p: string, maxBytes?: number): string | null {
    const buf = this.tryReadFile(p, maxBytes);
    return buf === null ? null : buf.toString("utf8");
  }

  readdir(p: string): string[] {
    return fs.readdirSync(this.resolve(p)).sort();
  }

  mkdirp(p: string, mode = 0o755): void {
    const hostPath = this.resolve(p);
    this.checkParentInside(hostPath, p);
    // As `mkdir -p -m MODE`: the mode is the last folder's; folders made above it get
    // 0755. (Node's recursive mkdir gives every one the mode: a missing home made on the
    // way to ~/.ssh would be 0700, closed to its own user.)
    if (mode !== 0o755) fs.mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
    fs.mkdirSync(hostPath, { recursive: true, mode });
  }

  writeAtomic(p: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
    const hostPath = this.resolve(p);
    this.checkParentInside(hostPath, p);
    const dir = path.dirname(hostPath);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const existing = fs.lstatSync(hostPath, { throwIfNoEntry: false });
    if (existing?.isDirectory()) {
      const err = new Error(`EISDIR: cannot write ${p}: it is a directory`) as NodeJS.ErrnoException;
      err.code = "EISDIR";
      throw err;
    }
    const mode = opts.mode ?? 0o644;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    // Unchanged content, mode and owner: nothing to do (no fsync, mtime kept).
    if (existing?.isFile() && existing.size === bytes.length && (existing.mode & 0o7777) === mode && (opts.uid === undefined || existing.uid === opts.uid) && (opts.gid === undefined || existing.gid === opts.gid)) {
      try {
        if (fs.readFileSync(hostPath).equals(bytes)) return;
      } catch {
        // unreadable: write it anew
      }
    }
    const tmp = path.join(dir, `.${path.basename(hostPath)}.sprout-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    let fd: number | null = fs.openSync(tmp, "wx", 0o600);
    try {
      writeAll(fd, bytes);
      fs.fchmodSync(fd, mode);
      if (opts.uid !== undefined || opts.gid !== undefined) fs.fchownSync(fd, opts.uid ?? -1, opts.gid ?? -1);
      // The data is on disk before the name points at it: after a crash the file is old or new, never empty.
      if (opts.durable !== false && !isVolatile(p)) fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
      fs.renameSync(tmp, hostPath);
    } catch (err) {
      if (fd !== null) fs.closeSync(fd);
      removePath(tmp, false);
      throw err;
    }
  }

  append(p: string, data: string | Uint8Array, mode = 0o644): void {
    const hostPath = this.resolve(p);
    this.checkParentInside(hostPath, p);
    fs.mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
    const fd = fs.openSync(hostPath, "a", mode);
    try {
      writeAll(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  }

  writeInPlace(p: string, data: string | Uint8Array): void {
    const hostPath = this.resolve(p);
    this.checkParentInside(hostPath, p);
    // No O_CREAT: a missing file is an error (ENOENT), not a new regular file under /proc.
    const fd = fs.openSync(hostPath, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    try {
      writeAll(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  }

  symlinkAtomic(target: string, p: string): void {
    const hostPath = this.resolve(p);
    this.checkParentInside(hostPath, p);
    fs.mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
    const tmp = `${hostPath}.sprout-${process.pid}`;
    removePath(tmp, false);
    fs.symlinkSync(target, tmp);
    fs.renameSync(tmp, hostPath);
  }

  readlink(p: string): string | null {
    try {
      return fs.readlinkSync(this.resolve(p));
    } catch {
      return null;
    }
  }

  link(existing: string, newPath: string): void {
    const to = this.resolve(newPath);
    this.checkParentInside(to, newPath);
    fs.linkSync(this.resolve(existing), to);
  }

  remove(p: string, opts: { recursive?: boolean } = {}): void {
    const hostPath = this.resolve(p);
    if (hostPath === this.dir || hostPath === "/") throw new PathEscapeError(p, this.dir);
    removePath(hostPath, opts.recursive ?? false);
  }

  rename(from: string, to: string): void {
    const dst = this.resolve(to);
    this.checkParentInside(dst, to);
    fs.renameSync(this.resolve(from), dst);
  }

  chmod(p: string, mode: number): void {
    fs.chmodSync(this.resolve(p), mode);
  }

  chown(p: string, uid: number, gid: number): void {
    fs.chownSync(this.resolve(p), uid, gid);
  }

  createExclusive(p: string, data: string, mode = 0o644): boolean {
    const hostPath = this.resolve(p);
    this.checkParentInside(hostPath, p);
    fs.mkdirSync(path.dirname(hostPath), { recursive: true, mode: 0o755 });
    let fd: number;
    try {
      fd = fs.openSync(hostPath, "wx", mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw err;
    }
    try {
      // A lock or marker: its existence is what counts, and /run is gone after a crash anyway.
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  }

  statfs(p: string): FsSpace | null {
    // statfsSync is Node 18.15 and later; an older Node cannot tell.
    if (typeof fs.statfsSync !== "function") return null;
    const st = fs.statfsSync(this.resolve(p));
    return { type: Number(st.type), freeBytes: Number(st.bfree) * Number(st.bsize), availBytes: Number(st.bavail) * Number(st.bsize) };
  }

  openBlock(p: string): BlockReader {
    const hostPath = this.resolve(p);
    const fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let size: number;
    try {
      const st = fs.fstatSync(fd);
      // A block device reports size 0 in stat; seek-free way: read its size from /sys.
      size = st.isBlockDevice() ? blockDeviceSize(hostPath, st) : st.size;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    let open = true;
    return {
      path: p,
      size,
      read(offset: number, length: number): Buffer {
        if (!open) throw new Error(`${p}: reader is closed`);
        if (offset >= size || length <= 0) return Buffer.alloc(0);
        const n0 = Math.min(length, size - offset);
        const buf = Buffer.allocUnsafe(n0);
        let got = 0;
        while (got < n0) {
          const n = fs.readSync(fd, buf, got, n0 - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return got === n0 ? buf : buf.subarray(0, got);
      },
      close(): void {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  }
}

function blockDeviceSize(hostPath: string, st: fs.Stats): number {
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  try {
    const sectors = Number(fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, "utf8").trim());
    if (Number.isFinite(sectors)) return sectors * 512;
  } catch {
    // fall through
  }
  void hostPath;
  return 0;
}

/** writeSync may write less than asked (a filesystem filling up): loop until all is written or it fails. */
function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

/** /run is tmpfs on every system sprout boots: nothing there survives a crash, so fsync buys nothing. */
function isVolatile(p: string): boolean {
  return /^\/*run\//.test(p);
}

/**
 * rm -f, or rm -rf with `recursive`: a symlink is removed, never followed. Not
 * fs.rmSync: it loads Node's rimraf and, through it, fs/promises and readline, which
 * a Node without a start-up snapshot (Debian's) compiles from source at every boot.
 */
function removePath(hostPath: string, recursive: boolean): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(hostPath);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (!st.isDirectory()) {
    try {
      fs.unlinkSync(hostPath);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return;
  }
  if (!recursive) {
    const err = new Error(`EISDIR: ${hostPath} is a directory`) as NodeJS.ErrnoException;
    err.code = "EISDIR";
    throw err;
  }
  for (const name of fs.readdirSync(hostPath)) removePath(path.join(hostPath, name), true);
  try {
    fs.rmdirSync(hostPath);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
