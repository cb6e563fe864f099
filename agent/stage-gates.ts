// Stage gates: how `sprout boot --gates` (the packaged sprout.service) keeps
// cloud-init's ordering points while Node starts once per boot.
//
// Two kinds of marker files in /run/sprout, both plain empty files so that the
// small shell units on the systemd side (packaging/systemd/stage-gate) need no Node:
//   gate/<stage>        opened by the systemd unit of that stage once its ordering
//                       point is reached (network up, network-online.target, multi-user);
//                       sprout waits for it before running the stage.
//   stage/<stage>.done  written by sprout when the stage has finished; the unit of that
//                       stage waits for it, so units ordered after it see the stage done.
// Every wait is bounded: a gate that never opens (a boot into rescue.target, a unit
// that failed) costs at most its bound, then the stage runs anyway with a warning.
import type { Host } from "./host/types";
import type { Stage } from "./types";

export const GATE_DIR = "/run/sprout/gate";
export const STAGE_DONE_DIR = "/run/sprout/stage";

/** How long sprout waits for each stage's unit to open its gate, in seconds. */
export const GATE_WAIT_S: Record<Stage, number> = { local: 0, network: 300, config: 600, final: 1800 };

const POLL_MS = 50;

export interface StageGates {
  /**
   * Waits (bounded) until the stage may run. `needsNetwork` is false when no network
   * datasource is in use. `beforeWaiting` is called once, only when there is a wait,
   * before it starts: the boot brings its status on disk up to date there.
   */
  beforeStage(stage: Stage, needsNetwork: boolean, beforeWaiting?: () => void): Promise<void>;
  afterStage(stage: Stage): void;
}

export function stageGates(h: Host, waitS: Record<Stage, number> = GATE_WAIT_S): StageGates {
  return {
    async beforeStage(stage, needsNetwork, beforeWaiting) {
      if (stage === "local") {
        // A fresh boot: markers of an earlier run of the service must not count.
        h.root.remove(STAGE_DONE_DIR, { recursive: true });
        h.root.mkdirp(STAGE_DONE_DIR, 0o755);
        return;
      }
      // Without a network datasource the network stage has nothing to wait for.
      if (stage === "network" && !needsNetwork) return;
      const gate = `${GATE_DIR}/${stage}`;
      if (h.root.exists(gate)) return;
      beforeWaiting?.();
      h.log.info(`stage ${stage} waits for its systemd unit (${gate}, at most ${waitS[stage]} s)`);
      const deadline = h.clock.monoMs() + waitS[stage] * 1000;
      while (!h.root.exists(gate)) {
        if (h.clock.monoMs() >= deadline) {
          h.log.warn(`${gate} did not appear within ${waitS[stage]} s (is sprout-${stage}.service part of this boot? \`systemctl status sprout-${stage}.service\`); running the ${stage} stage anyway`);
          return;
        }
        await h.clock.sleep(POLL_MS);
      }
    },
    afterStage(stage) {
      h.root.writeAtomic(`${STAGE_DONE_DIR}/${stage}.done`, "", { mode: 0o644, durable: false });
    },
  };
}
