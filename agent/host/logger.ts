import * as fs from "node:fs";
import * as path from "node:path";
import pino from "pino";
import type { LogFields, LogRecord, Logger } from "./types";

export interface LoggerOptions {
  /** Host path of the JSON-lines log file, or null for none. */
  file: string | null;
  /** Lowest level echoed to stderr for a person watching the console; null for none. */
  consoleLevel: LogRecord["level"] | null;
  level?: LogRecord["level"];
}

const RANK: Record<LogRecord["level"], number> = { debug: 20, info: 30, warn: 40, error: 50 };

/**
 * pino writes one JSON object per line to /var/log/sprout.log (synchronously:
 * a boot that dies must leave its last words on disk). The same records are
 * echoed to the console in one readable line each and handed to extra sinks
 * (early remote syslog).
 */
export function createLogger(opts: LoggerOptions): Logger {
  let fd: number | null = null;
  if (opts.file) {
    try {
      fs.mkdirSync(path.dirname(opts.file), { recursive: true });
      fd = fs.openSync(opts.file, "a", 0o640);
    } catch (err) {
      process.stderr.write(`sprout: cannot open log ${opts.file} (${(err as Error).message}); logging to the console only\n`);
    }
  }
  const sinks: Array<(r: LogRecord) => void> = [];
  const consoleRank = opts.consoleLevel ? RANK[opts.consoleLevel] : Infinity;
  const stream = {
    write(line: string): void {
      if (fd !== null) {
        try {
          fs.writeSync(fd, line);
        } catch {
          // A full disk must not stop the boot; the console still gets the line.
        }
      }
      if (sinks.length === 0 && consoleRank === Infinity) return;
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        return;
      }
      if (RANK[rec.level] >= consoleRank) process.stderr.write(journalPrefix(rec) + consoleLine(rec));
      for (const sink of sinks) {
        try {
          sink(rec);
        } catch {
          // A broken sink (syslog server gone) never breaks logging.
        }
      }
    },
  };
  const base = pino(
    {
      level: opts.level ?? "debug",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    stream,
  );
  const wrap = (p: pino.Logger): Logger => ({
    debug: (msg, f) => (f ? p.debug(f, msg) : p.debug(msg)),
    info: (msg, f) => (f ? p.info(f, msg) : p.info(msg)),
    warn: (msg, f) => (f ? p.warn(f, msg) : p.warn(msg)),
    error: (msg, f) => (f ? p.error(f, msg) : p.error(msg)),
    child: (bindings: LogFields) => wrap(p.child(bindings)),
    addSink: (sink) => void sinks.push(sink),
    flush: () => {
      if (fd !== null) {
        try {
          fs.fsyncSync(fd);
        } catch {
          // nothing more to do
        }
      }
    },
  });
  return wrap(base);
}

// Under systemd (JOURNAL_STREAM is set when stderr is the journal) a "<N>" prefix
// gives each line its syslog priority in the journal; journald strips it again for the console.
const PRIORITY: Record<LogRecord["level"], string> = { debug: "<7>", info: "<6>", warn: "<4>", error: "<3>" };
const journalPrefix = (rec: LogRecord): string => (process.env.JOURNAL_STREAM ? (PRIORITY[rec.level] ?? "") : "");

const SKIP = new Set(["level", "time", "msg", "stage", "module", "evt", "name", "result", "ms", "cpu_ms", "final_message", "source", "datasource", "subplatform"]);

function consoleLine(rec: LogRecord): string {
  const where = [rec.stage, rec.module].filter(Boolean).join("/");
  const tag = rec.level === "error" ? "ERROR " : rec.level === "warn" ? "WARNING " : "";
  const extra = Object.entries(rec)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined && typeof v !== "object")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `sprout${where ? `[${where}]` : ""}: ${tag}${rec.msg}${extra ? ` (${extra})` : ""}\n`;
}
