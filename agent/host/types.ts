// The Host contract: every side effect sprout has goes through one of these.
// Only files in agent/host may import node:fs, node:child_process, node:net,
// node:http, node:https or node:dgram (enforced by agent/host/boundary.test.ts).

export interface FileStat {
  kind: "file" | "dir" | "symlink" | "block" | "char" | "other";
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
}

export interface WriteOptions {
  /** permission bits, applied exactly (umask does not apply). Default 0o644. */
  mode?: number;
  uid?: number;
  gid?: number;
  /**
   * fsync the data before the rename (default true). Off for files whose content
   * does not matter after a crash (semaphores) and, always, for /run, which is
   * tmpfs and gone at the next boot anyway.
   */
  durable?: boolean;
}

/** What statfs(2) says about the filesystem holding a path. */
export interface FsSpace {
  /** The filesystem's magic number (0xef53 ext2/3/4, 0x58465342 xfs, 0x9123683e btrfs, 0x01021994 tmpfs, ...). */
  type: number;
  /** Bytes free, root's reserve included (statvfs f_bfree * f_frsize: what cloud-init's swap sizing counts). */
  freeBytes: number;
  /** Bytes an ordinary write can still use (f_bavail). */
  availBytes: number;
}

/** Random access to a block device or an image file, for readers that must not read it all. */
export interface BlockReader {
  readonly path: string;
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; a short read means the end of the device. */
  read(offset: number, length: number): Buffer;
  close(): void;
}

/** The filesystem of the machine being configured, rooted at `dir` (--root, default "/"). */
export interface TargetRoot {
  readonly dir: string;
  /** True when the target is the running system (--root /): only then do modules touch the live kernel state. */
  readonly isSystemRoot: boolean;
  /** Host path of a target path; throws PathEscapeError for paths that leave the root. */
  resolve(path: string): string;
  exists(path: string): boolean;
  stat(path: string): FileStat | null;
  lstat(path: string): FileStat | null;
  readFile(path: string, maxBytes?: number): Buffer;
  /** Like readFile but null when the file does not exist. */
  tryReadFile(path: string, maxBytes?: number): Buffer | null;
  readText(path: string, maxBytes?: number): string;
  tryReadText(path: string, maxBytes?: number): string | null;
  readdir(path: string): string[];
  /** `mkdir -p -m MODE`: the mode (default 0755) is the last folder's; folders made above it get 0755. */
  mkdirp(path: string, mode?: number): void;
  /** temp file + fsync + rename: readers see the old or the new content, never a mix. */
  writeAtomic(path: string, data: string | Uint8Array, opts?: WriteOptions): void;
  /** Appends (creating with `mode` when missing). Used for logs, which are never truncated. */
  append(path: string, data: string | Uint8Array, mode?: number): void;
  /**
   * Writes into a file that must already exist, in place: no temp file, no rename, never
   * created. For the kernel's settings under /proc/sys (the running hostname), which are
   * set by a write and cannot be renamed over. Throws with the OS code when refused.
   */
  writeInPlace(path: string, data: string | Uint8Array): void;
  /** Replaces `path` with a symlink to `target` atomically. */
  symlinkAtomic(target: string, path: string): void;
  readlink(path: string): string | null;
  /** Hard link; throws with the OS code (EXDEV, EPERM, ...) when the filesystem refuses. */
  link(existing: string, newPath: string): void;
  remove(path: string, opts?: { recursive?: boolean }): void;
  rename(from: string, to: string): void;
  chmod(path: string, mode: number): void;
  chown(path: string, uid: number, gid: number): void;
  /** Exclusive create; false when it exists already. */
  createExclusive(path: string, data: string, mode?: number): boolean;
  openBlock(path: string): BlockReader;
  /** The filesystem holding `path` (which must exist); null where the platform cannot tell. */
  statfs(path: string): FsSpace | null;
}

export interface RunOptions {
  /**
   * Hard bound: the process group is sent SIGTERM, then SIGKILL 2 s later. Once the
   * program has exited, the bound no longer applies to what it left running.
   */
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  cleanEnv?: boolean;
  cwd?: string;
  input?: string | Uint8Array;
  /** Captured bytes kept per stream; the rest is counted and dropped. Default 1 MiB. */
  maxCapture?: number;
  /** Called with every chunk as it arrives (for tee-ing user scripts to their log). */
  onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  /**
   * Where the output of a process the program left running goes once the run is over
   * (a user script's `daemon &` holds the output open after the script exits): up to
   * maxBytes appended to this file (a path on the running system), the rest discarded.
   * Without it, such output is discarded. Either way the process keeps running.
   */
  leftoverOutput?: { appendTo: string; maxBytes: number };
}

export interface RunResult {
  argv: string[];
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Bytes dropped beyond maxCapture, per stream together. */
  dropped: number;
  timedOut: boolean;
  /** Set when the program could not be started (ENOENT: not installed, EACCES: not executable). */
  spawnError: string | null;
  durationMs: number;
  /** The program exited, and a process it left running still held its output: the run did not wait for it. */
  outputLeftOpen?: boolean;
}

export interface Runner {
  run(argv: string[], opts: RunOptions): Promise<RunResult>;
  /** Absolute path of a program on PATH of the running system, or null. */
  which(name: string): string | null;
}

/** Work that may be called off (agent/cancel.ts makes one). */
export interface Cancellation {
  readonly cancelled: boolean;
  /** Calls `listener` when cancelled (at once if it is already); returns a function that stops listening. */
  onCancel(listener: () => void): () => void;
}

export interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Bound on one request (connect to last byte). */
  timeoutMs: number;
  /** Extra attempts after the first on connection errors, timeouts and 5xx answers. */
  retries?: number;
  retryDelayMs?: number;
  /** Absolute Clock.monoMs() after which no attempt starts and running ones are aborted. */
  deadline?: number;
  /** Larger bodies are refused (FetchError kind "too-large"). Default 10 MiB. */
  maxBytes?: number;
  maxRedirects?: number;
  /** Status codes that are answers, not failures to retry (default: everything below 500). */
  retryStatus?: (status: number) => boolean;
  /** Ends the request (FetchError kind "cancelled") and any retry when cancelled. */
  cancel?: Cancellation;
}

export interface FetchResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Fetcher {
  fetch(url: string, opts: FetchOptions): Promise<FetchResponse>;
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
  /** Extra sink for every record (early remote syslog attaches here). */
  addSink(sink: (record: LogRecord) => void): void;
  /** A user script's output as written to /var/log/user_data.log, handed to the script-output sinks. */
  scriptOutput(text: string, stage: string): void;
  /** Extra sink for user scripts' output (the output module's files attach here). */
  addScriptOutputSink(sink: (text: string, stage: string) => void): void;
  flush(): void;
}

export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  time: string;
  msg: string;
  [k: string]: unknown;
}

export interface Clock {
  /** Monotonic milliseconds, for durations and deadlines. */
  monoMs(): number;
  /** CPU time (user + system) this process has used, in ms: a duration that a busy machine inflates less than monoMs. */
  cpuMs(): number;
  now(): Date;
  /** Resolves after `ms`, or as soon as `cancel` is cancelled (its timer is then cleared). */
  sleep(ms: number, cancel?: Cancellation): Promise<void>;
}

export interface SyslogTarget {
  protocol: "udp" | "tcp";
  host: string;
  port: number;
}

export interface SyslogSenderStats {
  sent: number;
  dropped: number;
  /** The first failure (connection refused, timeout, ...), or null. */
  error: string | null;
}

/** Sends formatted syslog messages, in order, best effort: never throws, never blocks. */
export interface SyslogSender {
  send(message: string): void;
  /** Sends what is queued, waiting at most `timeoutMs`, then closes. */
  close(timeoutMs: number): Promise<SyslogSenderStats>;
}

export interface KernelLogLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface SyslogIO {
  connect(target: SyslogTarget): SyslogSender;
  /** The kernel ring buffer's records (raw /dev/kmsg lines) at a host path, read without blocking. */
  readKernelLog(hostPath: string, limits: KernelLogLimits): string[];
}

export interface Host {
  root: TargetRoot;
  run: Runner;
  fetch: Fetcher;
  log: Logger;
  clock: Clock;
  /** Early remote syslog's sockets; absent in hosts that cannot send (then nothing is sent). */
  syslog?: SyslogIO;
}
