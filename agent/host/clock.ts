import type { Clock } from "./types";

export const systemClock: Clock = {
  monoMs: () => performance.now(),
  now: () => new Date(),
  sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
