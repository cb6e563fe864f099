import { runStages } from "../boot";
import { carryOutPowerState } from "../../modules/power_state_change/request";
import { createHost } from "../host";
import { writeConsole } from "../host/console";
import { acquireLock } from "../lock";
import { stageGates } from "../stage-gates";
import { bootState, exitCodeFor } from "../status";
import { STAGES, type Stage } from "../types";
import { UsageError, type Parsed } from "./args";
import type { Command, Globals } from "./types";

const LOCK_WAIT_S = 60;

async function runWithLock(g: Globals, stages: Stage[], a: Parsed): Promise<number> {
  const quiet = a.options.quiet === true;
  const waitS = a.options["lock-wait"] === undefined ? LOCK_WAIT_S : Number(a.options["lock-wait"]);
  if (!Number.isFinite(waitS) || waitS < 0) throw new UsageError(`--lock-wait must be a number of seconds, not ${JSON.stringify(a.options["lock-wait"])}`);
  const h = createHost({ root: g.root, consoleLevel: quiet ? "warn" : "info" });
  const lock = await acquireLock(h, waitS * 1000);
  if (!("release" in lock)) {
    g.err(`sprout: another sprout (pid ${lock.heldBy}) is still running after ${waitS} s of waiting; not starting a second one. Wait for it with \`sprout status --wait\`, or stop it if it is stuck.\n`);
    return 1;
  }
  try {
    const gates = a.options.gates === true ? stageGates(h) : undefined;
    const status = await runStages(h, stages, { echo: quiet ? null : (t) => writeConsole(1, t), gates });
    h.log.flush();
    // After the status is on disk: a reboot or power-off asked for by power_state.
    if (stages.includes("final")) {
      const failed = await carryOutPowerState(h);
      if (failed) g.err(`sprout: power_state: ${failed}\n`);
    }
    return exitCodeFor(bootState(status));
  } finally {
    lock.release();
  }
}

const QUIET = {
  quiet: { type: "boolean" as const, short: "q", help: "print only warnings and errors" },
  "lock-wait": { type: "string" as const, help: `how long to wait for another running sprout (default ${LOCK_WAIT_S})`, value: "S" },
};

export const bootCommand: Command = {
  name: "boot",
  summary: "run all boot stages (local, network, config, final) in one process",
  usage: "sprout boot [--quiet] [--lock-wait S] [--gates]",
  options: {
    ...QUIET,
    gates: { type: "boolean", help: "before each stage, wait (bounded) for its systemd unit to open /run/sprout/gate/STAGE (sprout.service)" },
  },
  details: "Exit status: 0 clean, 1 a stage could not complete, 2 degraded (something failed, the boot went on).",
  run: (a, g) => runWithLock(g, [...STAGES], a),
};

export const initCommand: Command = {
  name: "init",
  summary: "run one boot stage",
  usage: "sprout init --stage local|network|config|final [--quiet] [--lock-wait S]",
  options: { stage: { type: "string", help: "the stage to run", value: "local|network|config|final" }, ...QUIET },
  run: (a, g) => {
    const stage = a.options.stage;
    if (typeof stage !== "string" || !(STAGES as readonly string[]).includes(stage)) throw new UsageError(`init needs --stage local|network|config|final${stage ? `, not ${JSON.stringify(stage)}` : ""}`);
    return runWithLock(g, [stage as Stage], a);
  },
};
