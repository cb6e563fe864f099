import * as fs from "node:fs";
import * as path from "node:path";
import { writeConsole } from "./console";
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
 * One JSON object per line to /var/log/sprout.log, written synchronously: a boot
 * that dies must leave its last words on disk. The same records are echoed to the
 * console in one readable line each and handed to extra sinks (early remote syslog).
 * Not pino: with a synchronous file and sinks that need the record as an object,
 * pino only added its start-up cost (its module and the Node built-ins it loads,
 * about 8 ms of every boot) and a JSON.parse of each line it had just written.
 */
export function createLogger(opts: LoggerOptions): Logger {
  let fd: number | null = null;
  if (opts.file) {
    try {
      fs.mkdirSync(path.dirname(opts.file), { recursive: true });
      fd = fs.openSync(opts.file, "a", 0o640);
    } catch (err) {
      writeConsole(2, `sprout: cannot open log ${opts.file} (${(err as Error).message}); logging to the console only\n`);
    }
  }
  const sinks: Array<(r: LogRecord) => void> = [];
  const scriptSinks: Array<(text: string, stage: string) => void> = [];
  const consoleRank = opts.consoleLevel ? RANK[opts.consoleLevel] : Infinity;
  const minRank = RANK[opts.level ?? "debug"];
  const emit = (level: LogRecord["level"], msg: string, bindings: LogFields, fields: LogFields | undefined): void => {
    if (RANK[level] < minRank) return;
    const time = new Date().toISOString();
    const rec: LogRecord = { level, time, ...bindings, ...fields, msg };
    // A field called level or time must not change the record's own.
    rec.level = level;
    rec.time = time;
    if (fd !== null) {
      try {
        fs.writeSync(fd, `${JSON.stringify(rec, jsonValue)}\n`);
      } catch {
        // A full disk must not stop the boot; the console still gets the line.
      }
    }
    if (RANK[level] >= consoleRank) writeConsole(2, journalPrefix(rec) + consoleLine(rec));
    for (const sink of sinks) {
      try {
        sink(rec);
      } catch {
        // A broken sink (syslog server gone) never breaks logging.
      }
    }
  };
  const make = (bindings: LogFields): Logger => ({
    debug: (msg, f) => emit("debug", msg, bindings, f),
    info: (msg, f) => emit("info", msg, bindings, f),
    warn: (msg, f) => emit("warn", msg, bindings, f),
    error: (msg, f) => emit("error", msg, bindings, f),
    child: (more: LogFields) => make({ ...bindings, ...more }),
    addSink: (sink) => void sinks.push(sink),
    scriptOutput: (text, stage) => {
      for (const sink of scriptSinks) {
        try {
          sink(text, stage);
        } catch {
          // A full disk under an output file never stops a script.
        }
      }
    },
    addScriptOutputSink: (sink) => void scriptSinks.push(sink),
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
  return make({});
}

/** JSON for a log line: an Error keeps its type, message and stack; a bigint becomes a string. */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (typeof value === "bigint") return value.toString();
  return value;
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
