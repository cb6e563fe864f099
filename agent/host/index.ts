import { systemClock } from "./clock";
import { BoundedFetcher } from "./fetcher";
import { createLogger, type LoggerOptions } from "./logger";
import { ProcessRunner } from "./runner";
import { socketSyslog } from "./syslog";
import { FsTargetRoot } from "./target-root";
import type { Host } from "./types";

export type * from "./types";

export interface HostOptions {
  root: string;
  /** Target path of the log file (default /var/log/sprout.log); null for none. */
  logFile?: string | null;
  consoleLevel?: LoggerOptions["consoleLevel"];
}

export function createHost(opts: HostOptions): Host {
  const root = new FsTargetRoot(opts.root);
  const logFile = opts.logFile === undefined ? "/var/log/sprout.log" : opts.logFile;
  const log = createLogger({ file: logFile ? root.resolve(logFile) : null, consoleLevel: opts.consoleLevel ?? null });
  return { root, run: new ProcessRunner(), fetch: new BoundedFetcher(root, systemClock), log, clock: systemClock, syslog: socketSyslog };
}
