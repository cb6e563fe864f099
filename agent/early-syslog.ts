// Early remote syslog: from the first line of the local stage until the boot
// ends, sprout sends its own log, the kernel ring buffer since boot and each
// stage's progress to a syslog server as RFC 5424 messages, before user-data is
// read and before rsyslog is configured, so a machine that never becomes
// reachable still tells someone why. Configured by `syslog_remote: udp://h:514`
// in the system config or `sprout.syslog=tcp://h:514` on the kernel command line
// (which wins). Best effort: a dead server costs the boot at most CLOSE_WAIT_MS.
import { cmdlineValue, type Cmdline } from "./cmdline";
import type { Host, LogRecord, SyslogSender, SyslogTarget } from "./host/types";
import type { CloudConfig } from "./types";

export const CLOSE_WAIT_MS = 2000;
const KMSG_LIMITS = { maxRecords: 4000, maxBytes: 1024 * 1024 };
const MAX_MESSAGE_BYTES = 4096;
/** RFC 5612's enterprise number for documentation: sprout's structured data has no registered number. */
const SD_ID = "sprout@32473";
const FACILITY_DAEMON = 3;
const SEVERITY: Record<LogRecord["level"], number> = { debug: 7, info: 6, warn: 4, error: 3 };

export function parseSyslogUrl(url: string): SyslogTarget | { error: string } {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]\s]+)(?::(\d*))?\/?$/.exec(url.trim());
  const fix = "write it as udp://HOST:PORT or tcp://HOST:PORT (IPv6 in brackets: udp://[2001:db8::1]:514)";
  if (!m) return { error: `${JSON.stringify(url)} is not a syslog URL: ${fix}` };
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "udp" && scheme !== "tcp") return { error: `${JSON.stringify(url)} has the unknown scheme ${JSON.stringify(scheme)}: ${fix}` };
  const port = m[3] === undefined || m[3] === "" ? 514 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `${JSON.stringify(url)}: port ${m[3]} is not between 1 and 65535` };
  return { protocol: scheme, host: m[2]!.replace(/^\[|\]$/g, ""), port };
}

export interface SyslogMessage {
  facility: number;
  severity: number;
  time: Date;
  hostname: string | null;
  app: string;
  procId: string | null;
  msgId: string | null;
  data: Record<string, string | null | undefined>;
  text: string;
}

const header = (s: string | null, max: number) => (s ? s.replace(/[^\x21-\x7e]/g, "_").slice(0, max) : "-");
const sdValue = (s: string) => s.replace(/[\\"\]]/g, (c) => `\\${c}`);

/** One RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP PROCID MSGID [SD] MSG, cut to MAX_MESSAGE_BYTES. */
export function formatRfc5424(m: SyslogMessage): string {
  const params = Object.entries(m.data)
    .filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "")
    .map(([k, v]) => `${k}="${sdValue(v)}"`);
  const sd = params.length ? `[${SD_ID} ${params.join(" ")}]` : "-";
  const line = `<${m.facility * 8 + m.severity}>1 ${m.time.toISOString()} ${header(m.hostname, 255)} ${header(m.app, 48)} ${header(m.procId, 128)} ${header(m.msgId, 32)} ${sd} ${m.text.replace(/\n/g, " ")}`;
  const b = Buffer.from(line, "utf8");
  return b.length <= MAX_MESSAGE_BYTES ? line : b.subarray(0, MAX_MESSAGE_BYTES).toString("utf8").replace(/\uFFFD$/, "");
}

export interface KernelRecord {
  facility: number;
  severity: number;
  /** Microseconds since boot. */
  usec: number;
  text: string;
}

/** A /dev/kmsg record: "PRI,SEQ,USEC,FLAGS[,...];TEXT" followed by " KEY=value" continuation lines. */
export function parseKmsgRecord(raw: string): KernelRecord | null {
  const m = /^(\d+),\d+,(\d+),[^;]*;(.*)/.exec(raw);
  if (!m) return null;
  const pri = Number(m[1]);
  return { facility: pri >> 3, severity: pri & 7, usec: Number(m[2]), text: m[3]!.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))) };
}

/** The syslog_remote URL this boot uses, where it came from, or null. */
export function syslogRemote(system: CloudConfig, cmdline: Cmdline): { url: string; from: string } | null {
  const arg = cmdlineValue(cmdline, "sprout.syslog");
  if (arg) return { url: arg, from: "kernel command line sprout.syslog=" };
  if (typeof system.syslog_remote === "string" && system.syslog_remote.trim()) return { url: system.syslog_remote, from: "system config syslog_remote" };
  return null;
}

export interface EarlySyslog {
  /** Sends what is queued (bounded by CLOSE_WAIT_MS) and stops. */
  end(): Promise<void>;
}

export interface Identity {
  instanceId: string | null;
  hostname: string | null;
}

export interface EarlySyslogOptions {
  /** Forward the kernel ring buffer (in the process that runs the local stage). */
  kernelLog: boolean;
  identity: () => Identity;
}

/**
 * Starts forwarding when configured. Returns the running forwarder, or a
 * problem for the boot's record (a bad URL), or neither when not configured.
 */
export function startEarlySyslog(h: Host, system: CloudConfig, cmdline: Cmdline, opts: EarlySyslogOptions): { syslog: EarlySyslog | null; problem: string | null } {
  const remote = syslogRemote(system, cmdline);
  if (!remote) return { syslog: null, problem: null };
  const target = parseSyslogUrl(remote.url);
  if ("error" in target) return { syslog: null, problem: `[syslog] ${remote.from}: ${target.error}; early remote syslog is off for this boot` };
  if (!h.syslog) return { syslog: null, problem: null };
  const sender: SyslogSender = h.syslog.connect(target);
  const bootHostname = h.root.tryReadText("/etc/hostname", 1024)?.trim() || h.root.tryReadText("/proc/sys/kernel/hostname", 1024)?.trim() || null;
  const who = () => {
    const id = opts.identity();
    return { hostname: id.hostname ?? bootHostname, instance: id.instanceId };
  };
  if (opts.kernelLog) {
    const uptime = Number(h.root.tryReadText("/proc/uptime", 1024)?.split(" ")[0]);
    const bootMs = h.clock.now().getTime() - (Number.isFinite(uptime) ? uptime * 1000 : 0);
    const { hostname, instance } = who();
    for (const raw of h.syslog.readKernelLog(h.root.resolve("/dev/kmsg"), KMSG_LIMITS)) {
      const k = parseKmsgRecord(raw);
      if (!k) continue;
      sender.send(formatRfc5424({ facility: k.facility, severity: k.severity, time: new Date(bootMs + k.usec / 1000), hostname, app: "kernel", procId: null, msgId: "kmsg", data: { instance }, text: k.text }));
    }
  }
  let open = true;
  h.log.addSink((rec: LogRecord) => {
    if (!open || rec.level === "debug") return;
    const { hostname, instance } = who();
    const stageEvent = typeof rec.evt === "string" && rec.name === rec.stage;
    const text = stageEvent && rec.evt === "finish" ? `${rec.msg} (${rec.ms} ms)` : rec.msg;
    sender.send(
      formatRfc5424({
        facility: FACILITY_DAEMON,
        severity: SEVERITY[rec.level] ?? 6,
        time: new Date(rec.time),
        hostname,
        app: "sprout",
        procId: String(process.pid),
        msgId: stageEvent ? "stage" : "log",
        data: { instance, stage: typeof rec.stage === "string" ? rec.stage : null, module: typeof rec.module === "string" ? rec.module : null },
        text,
      }),
    );
  });
  h.log.info(`early remote syslog: sending to ${target.protocol}://${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port} (from the ${remote.from})`);
  return {
    problem: null,
    syslog: {
      async end() {
        open = false;
        const stats = await sender.close(CLOSE_WAIT_MS);
        if (stats.error || stats.dropped) h.log.warn(`early remote syslog: ${stats.sent} messages sent, ${stats.dropped} dropped${stats.error ? ` (${stats.error})` : ""}; check the server named by ${remote.from}`);
      },
    },
  };
}
