import type { Cancellation, Clock } from "./types";

/**
 * Monotonic milliseconds since the process started, as performance.now() counts them.
 * Not performance.now() itself: the global `performance` loads perf_hooks and ten
 * internal modules on first use, which a Node without a start-up snapshot (Debian's)
 * compiles from source at every boot.
 */
export function monoMs(): number {
  return process.uptime() * 1000;
}

export const systemClock: Clock = {
  monoMs,
  cpuMs: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
  now: () => new Date(),
  sleep: (ms: number, cancel?: Cancellation) =>
    new Promise((resolve) => {
      if (cancel?.cancelled) return resolve();
      // A cancelled wait clears its timer: nothing is left to keep the process alive.
      const stop = cancel?.onCancel(() => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        stop?.();
        resolve();
      }, Math.max(0, ms));
    }),
};
