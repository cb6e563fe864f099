// The power request the module records and `sprout boot` carries out once the status is
// on disk. Apart from the module, so that every boot does not load power_state_change
// to find there is nothing to do.
import type { Host } from "../../agent/host/types";
import { describeFailure } from "../../agent/target-command";

export const POWER_STATE_FILE = "/run/sprout/power-state.json";

export interface PowerRequest {
  argv: string[];
  mode: string;
}

/** Called by `sprout boot` after the status is written: carries out a recorded request, once. */
export async function carryOutPowerState(h: Host): Promise<string | null> {
  const text = h.root.tryReadText(POWER_STATE_FILE);
  if (text === null) return null;
  h.root.remove(POWER_STATE_FILE);
  if (!h.root.isSystemRoot) return null;
  const req = JSON.parse(text) as PowerRequest;
  h.log.info(`power_state: ${req.argv.join(" ")}`);
  h.log.flush();
  const res = await h.run.run(req.argv, { timeoutMs: 60_000 });
  return res.code === 0 ? null : `${req.argv.join(" ")} failed: ${describeFailure(res, 60_000)}`;
}
