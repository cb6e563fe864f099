// The swap file of `swap: {filename, size, maxsize}`, made as cloud-init's
// cc_mounts makes it: sized from memory and free space for `size: auto`,
// allocated with fallocate (dd where fallocate cannot: btrfs gets an empty
// NOCOW file first), chmod 600, mkswap. sprout builds it under a temporary name
// and renames it into place, so a boot that dies half-way leaves no half-made
// swap file at the configured path, and a file that is there and is not a swap
// area is never overwritten.
import type { Host } from "../../agent/host/types";
import { describeFailure } from "../../agent/target-command";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const BTRFS_MAGIC = 0x9123683e;
const COMMAND_TIMEOUT_MS = 60_000;
/** dd writes every byte: allow 10 MiB/s on top of the minute. */
const ddTimeoutMs = (mib: number) => COMMAND_TIMEOUT_MS + mib * 100;

export interface SwapConfig {
  filename: string;
  /** Bytes, or "auto". */
  size: number | "auto";
  maxsize: number | null;
}

/** cloud-init's human2bytes: bytes as an integer, or a number with B, K, M, G or T (powers of 1024), e.g. 2G, .5G, 512M. */
export function parseSize(v: unknown): number | null {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? v : null;
  if (typeof v !== "string") return null;
  const m = /^(\d*\.?\d+)([BKMGT])?B?$/.exec(v.trim());
  if (!m) return null;
  const mult = { B: 1, K: 2 ** 10, M: MiB, G: GiB, T: 2 ** 40 }[(m[2] ?? "B") as "B"];
  return Math.floor(Number(m[1]) * mult);
}

/** The `swap:` key checked; null when there is no swap file to make (no key, size 0 or absent: cloud-init's "no need to setup swap"). */
export function parseSwapConfig(v: unknown): { config: SwapConfig | null; error: string | null } {
  if (v === undefined || v === null) return { config: null, error: null };
  if (typeof v !== "object" || Array.isArray(v)) return { config: null, error: `swap is ${Array.isArray(v) ? "a list" : JSON.stringify(v)}, not a mapping: write it as {filename: /swap.img, size: 2G}; no swap file made` };
  const s = v as Record<string, unknown>;
  const filename = s.filename === undefined ? "/swap.img" : s.filename;
  if (s.size === undefined || s.size === 0 || s.size === "0" || s.size === null) return { config: null, error: null };
  if (typeof filename !== "string" || !filename.startsWith("/") || filename.endsWith("/") || /[\s\0]/.test(filename)) {
    return { config: null, error: `swap: filename ${JSON.stringify(filename)} is not an absolute file path without blanks, like /swap.img; no swap file made` };
  }
  let size: number | "auto";
  if (typeof s.size === "string" && s.size.toLowerCase() === "auto") size = "auto";
  else {
    const parsed = parseSize(s.size);
    if (parsed === null) return { config: null, error: `swap: size ${JSON.stringify(s.size)} is not a size: write auto, a number of bytes, or a number with K, M, G or T, like 2G or 512M; no swap file made` };
    size = parsed;
  }
  let maxsize: number | null = null;
  if (s.maxsize !== undefined && s.maxsize !== null) {
    maxsize = parseSize(s.maxsize);
    if (maxsize === null) return { config: null, error: `swap: maxsize ${JSON.stringify(s.maxsize)} is not a size: write a number of bytes or a number with K, M, G or T, like 4G; no swap file made` };
  }
  return { config: { filename, size, maxsize }, error: null };
}

/**
 * cloud-init's suggested_swapsize: as much as memory below 4 GiB, 4 GiB below 16 GiB,
 * round(sqrt(GiB of memory)) GiB above; at most maxsize (capped at 90% of the free
 * space), or, without maxsize, at most a quarter of the free space and twice memory.
 */
export function suggestedSwapSize(memBytes: number, maxsize: number | null, freeBytes: number): number {
  let max: number;
  if (maxsize === null) max = Math.min(Math.floor(freeBytes / 4), memBytes * 2);
  else max = maxsize > freeBytes * 0.9 ? Math.floor(freeBytes * 0.9) : maxsize;
  let min: number;
  if (memBytes < 4 * GiB) min = memBytes;
  else if (memBytes < 16 * GiB) min = 4 * GiB;
  else min = Math.round(Math.sqrt(memBytes / GiB)) * GiB;
  return Math.min(min, max);
}

/** MemTotal of /proc/meminfo in bytes, or null. */
export function memTotal(meminfo: string): number | null {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : null;
}

/** Whether the start of a file is a Linux swap area ("SWAPSPACE2" at the end of the first page, whatever the page size). */
export function isSwapArea(head: Buffer): boolean {
  return [4096, 8192, 16384, 65536].some((page) => head.length >= page && head.subarray(page - 10, page).toString("latin1") === "SWAPSPACE2");
}

export type SwapOutcome = { kind: "made"; bytes: number; detail: string } | { kind: "kept"; detail: string } | { kind: "none"; detail: string };

function fail(msg: string): never {
  throw new Error(msg);
}

/** Makes the swap file (or finds it made); throws an Error whose message says what to do. */
export async function ensureSwapFile(h: Host, cfg: SwapConfig): Promise<SwapOutcome> {
  const root = h.root;
  const file = cfg.filename;
  const existing = root.stat(file);
  if (existing) {
    if (existing.kind !== "file") fail(`swap: ${file} exists and is not a file (${existing.kind}); not touched (choose another filename)`);
    const reader = root.openBlock(file);
    let head: Buffer;
    try {
      head = reader.read(0, 65536);
    } finally {
      reader.close();
    }
    if (!isSwapArea(head)) fail(`swap: ${file} exists and is not a swap area; not touched (remove it, or choose another filename)`);
    return { kind: "kept", detail: `${file} is already a swap area (${Math.round(existing.size / MiB)} MiB): kept` };
  }
  const dir = file.slice(0, file.lastIndexOf("/")) || "/";
  if (dir !== "/") root.mkdirp(dir);
  const space = root.statfs(dir);
  let bytes: number;
  if (cfg.size === "auto") {
    const meminfo = root.tryReadText("/proc/meminfo", 1024 * 1024);
    const mem = meminfo === null ? null : memTotal(meminfo);
    if (mem === null) fail(`swap: size auto needs the machine's memory size from /proc/meminfo, which ${root.isSystemRoot ? "cannot be read" : "a --root target does not have"}; give a size like 2G`);
    if (!space) fail(`swap: size auto needs the free space of ${dir}, which this Node cannot tell; give a size like 2G`);
    bytes = suggestedSwapSize(mem, cfg.maxsize, space.freeBytes);
  } else bytes = cfg.size;
  const mib = Math.floor(bytes / MiB);
  if (mib === 0) {
    if (cfg.size === "auto") return { kind: "none", detail: `swap: size auto came to ${bytes} bytes (too little free space in ${dir}); no swap file made` };
    fail(`swap: size ${bytes} bytes is below 1 MiB; give a size like 512M`);
  }
  if (space && mib * MiB > space.availBytes) {
    fail(`swap: ${file} needs ${mib} MiB but ${dir} has ${Math.floor(space.availBytes / MiB)} MiB free; no swap file made (free space, or set a smaller swap size)`);
  }

  // Built beside its final name, renamed when complete; a leftover from a boot that died is ours to remove.
  const temp = `${file}.sprout-new`;
  root.remove(temp);
  const path = root.resolve(temp);
  root.createExclusive(temp, "", 0o600);
  try {
    if (space?.type === BTRFS_MAGIC) {
      // btrfs swaps only from a file without copy-on-write, and that is set while it is empty.
      await mustRun(h, ["chattr", "+C", path], COMMAND_TIMEOUT_MS, `chattr +C ${temp} (btrfs needs a no-copy-on-write swap file)`);
    }
    const fa = await h.run.run(["fallocate", "-l", `${mib}M`, path], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (fa.code !== 0) {
      const why = describeFailure(fa, COMMAND_TIMEOUT_MS);
      if (/no space left/i.test(why)) fail(`swap: the disk holding ${file} is full (fallocate: ${why}); no swap file made (free space, or set a smaller swap size)`);
      // Filesystems without fallocate: write the zeros.
      await mustRun(h, ["dd", "if=/dev/zero", `of=${path}`, "bs=1M", `count=${mib}`], ddTimeoutMs(mib), `dd of ${mib} MiB to ${temp} (fallocate failed: ${why})`);
    }
    root.chmod(temp, 0o600);
    await mustRun(h, ["mkswap", path], COMMAND_TIMEOUT_MS, `mkswap ${temp}`);
    root.rename(temp, file);
  } catch (err) {
    root.remove(temp);
    throw err;
  }
  return { kind: "made", bytes: mib * MiB, detail: `${file}: ${mib} MiB swap file made${cfg.size === "auto" ? " (size auto)" : ""}` };
}

async function mustRun(h: Host, argv: string[], timeoutMs: number, what: string): Promise<void> {
  const r = await h.run.run(argv, { timeoutMs, env: { LANG: "C", LC_ALL: "C" } });
  if (r.code === 0) return;
  const why = r.spawnError ? `${argv[0]} could not run (${r.spawnError}): install ${argv[0] === "mkswap" || argv[0] === "fallocate" ? "util-linux" : argv[0] === "chattr" ? "e2fsprogs" : "coreutils"}` : r.timedOut ? `did not finish within ${Math.round(timeoutMs / 1000)} s` : r.stderr.toString().trim() || `exit ${r.code}`;
  fail(`swap: ${what} failed: ${why}; no swap file made`);
}
