// Sockets for early remote syslog, and the kernel ring buffer it forwards.
// Best effort by design: a sender never throws, never keeps the process alive
// (sockets are unref'd), holds a bounded queue, and close() waits a bounded time.
import type * as Dgram from "node:dgram";
import type * as Dns from "node:dns";
import * as fs from "node:fs";
import type * as Net from "node:net";
import { lazyBuiltin } from "../lazy-builtin";
import type { KernelLogLimits, SyslogIO, SyslogSender, SyslogSenderStats, SyslogTarget } from "./types";

const CONNECT_TIMEOUT_MS = 2000;
const MAX_QUEUED = 5000;
// Loaded when a syslog target is configured, not at every boot.
const dgram = lazyBuiltin<typeof Dgram>("node:dgram");
const dns = lazyBuiltin<typeof Dns>("node:dns");
const net = lazyBuiltin<typeof Net>("node:net");

function resolveHost(host: string, timeoutMs: number): Promise<string> {
  if (net().isIP(host)) return Promise.resolve(host);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`resolving ${host} took longer than ${timeoutMs} ms`)), timeoutMs);
    t.unref();
    dns().lookup(host, (err, address) => {
      clearTimeout(t);
      if (err) reject(err);
      else resolve(address);
    });
  });
}

/** UDP: one datagram per message, sent to one resolved address so they leave in order. */
class UdpSender implements SyslogSender {
  private socket: Dgram.Socket | null = null;
  private queue: Buffer[] = [];
  private inflight = 0;
  private stats: SyslogSenderStats = { sent: 0, dropped: 0, error: null };
  private address: string | null = null;
  private idle: Array<() => void> = [];

  constructor(private target: SyslogTarget) {
    resolveHost(target.host, CONNECT_TIMEOUT_MS).then(
      (addr) => {
        this.address = addr;
        this.socket = dgram().createSocket(net().isIPv6(addr) ? "udp6" : "udp4");
        this.socket.on("error", (e) => this.fail(e.message));
        this.socket.unref();
        const q = this.queue;
        this.queue = [];
        for (const b of q) this.transmit(b);
        this.checkIdle();
      },
      (e: Error) => this.fail(e.message),
    );
  }

  private fail(message: string): void {
    if (!this.stats.error) this.stats.error = message;
    this.stats.dropped += this.queue.length;
    this.queue = [];
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.inflight === 0 && (this.queue.length === 0 || this.stats.error)) this.idle.splice(0).forEach((f) => f());
  }

  private transmit(b: Buffer): void {
    if (!this.socket || !this.address || this.stats.error) {
      this.stats.dropped++;
      return;
    }
    this.inflight++;
    this.socket.send(b, this.target.port, this.address, (err) => {
      this.inflight--;
      if (err) {
        this.stats.dropped++;
        if (!this.stats.error) this.stats.error = err.message;
      } else this.stats.sent++;
      this.checkIdle();
    });
  }

  send(message: string): void {
    const b = Buffer.from(message, "utf8");
    if (this.stats.error) this.stats.dropped++;
    else if (!this.socket) {
      if (this.queue.length >= MAX_QUEUED) this.stats.dropped++;
      else this.queue.push(b);
    } else if (this.inflight >= MAX_QUEUED) this.stats.dropped++;
    else this.transmit(b);
  }

  async close(timeoutMs: number): Promise<SyslogSenderStats> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      t.unref();
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
      this.checkIdle();
    });
    this.stats.dropped += this.queue.length + this.inflight;
    this.queue = [];
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
    return { ...this.stats };
  }
}

/** TCP with octet counting (RFC 6587): "LEN SP MSG", in order on one connection. */
class TcpSender implements SyslogSender {
  private socket: Net.Socket;
  private connected = false;
  private queue: Buffer[] = [];
  private stats: SyslogSenderStats = { sent: 0, dropped: 0, error: null };

  constructor(target: SyslogTarget) {
    this.socket = net().connect({ host: target.host, port: target.port });
    this.socket.unref();
    this.socket.setNoDelay(true);
    this.socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      if (!this.connected) this.fail(`no connection to ${target.host}:${target.port} within ${CONNECT_TIMEOUT_MS} ms`);
    });
    this.socket.on("connect", () => {
      this.connected = true;
      this.socket.setTimeout(0);
      const q = this.queue;
      this.queue = [];
      for (const b of q) this.write(b);
    });
    this.socket.on("error", (e) => this.fail(e.message));
  }

  private fail(message: string): void {
    if (!this.stats.error) this.stats.error = message;
    this.stats.dropped += this.queue.length;
    this.queue = [];
    this.socket.destroy();
  }

  private write(b: Buffer): void {
    this.socket.write(b, (err) => {
      if (err) this.stats.dropped++;
      else this.stats.sent++;
    });
  }

  send(message: string): void {
    const body = Buffer.from(message, "utf8");
    const frame = Buffer.concat([Buffer.from(`${body.length} `), body]);
    if (this.stats.error) this.stats.dropped++;
    else if (!this.connected) {
      if (this.queue.length >= MAX_QUEUED) this.stats.dropped++;
      else this.queue.push(frame);
    } else if (this.socket.writableLength > 4 * 1024 * 1024) this.stats.dropped++;
    else this.write(frame);
  }

  async close(timeoutMs: number): Promise<SyslogSenderStats> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      t.unref();
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      if (this.stats.error || this.socket.destroyed) return done();
      const finish = () => this.socket.end(done);
      if (this.connected) finish();
      else {
        this.socket.once("connect", finish);
        this.socket.once("close", done);
      }
    });
    this.stats.dropped += this.queue.length;
    this.queue = [];
    this.socket.destroy();
    return { ...this.stats };
  }
}

/**
 * Kernel log records since boot. /dev/kmsg hands out one record per read() and
 * would block at the end, so it is opened non-blocking and read until EAGAIN.
 * A regular file (a test fixture) is read as lines.
 */
function readKernelLog(hostPath: string, limits: KernelLogLimits): string[] {
  let fd: number;
  try {
    fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return [];
  }
  const out: string[] = [];
  try {
    if (!fs.fstatSync(fd).isCharacterDevice()) {
      const buf = Buffer.alloc(limits.maxBytes);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString("utf8").split("\n").filter((l) => l.length > 0).slice(0, limits.maxRecords);
    }
    const buf = Buffer.alloc(8192);
    let bytes = 0;
    while (out.length < limits.maxRecords && bytes < limits.maxBytes) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        // EPIPE: the record we were about to read was overwritten; the next read goes on.
        if ((e as NodeJS.ErrnoException).code === "EPIPE") continue;
        break; // EAGAIN: nothing more; anything else: stop reading
      }
      if (n <= 0) break;
      bytes += n;
      out.push(buf.subarray(0, n).toString("utf8").replace(/\n$/, ""));
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export const socketSyslog: SyslogIO = {
  connect: (t) => (t.protocol === "udp" ? new UdpSender(t) : new TcpSender(t)),
  readKernelLog,
};
