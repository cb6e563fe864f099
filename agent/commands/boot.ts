import { runStages } from "../boot";
import { carryOutPowerState } from "../../modules/power_state_change";
import { createHost } from "../host";
import { acquireLock } from "../lock";
import { bootState, exitCodeFor } from "../status";
import { STAGES, type Stage } from "../types";
import { UsageError } from "./args";
import type { Command, Globals } from "./types";

const LOCK_WAIT_MS = 60_000;

async function runWithLock(g: Globals, stages: Stage[], quiet: boolean): Promise<number> {
  const h = createHost({ root: g.root, consoleLevel: quiet ? "warn" : "info" });
  const lock = await acquireLock(h, LOCK_WAIT_MS);
  if (!("release" in lock)) {
    g.err(`sprout: another sprout (pid ${lock.heldBy}) is still running after ${LOCK_WAIT_MS / 1000} s; not starting a second one. Wait for it with \`sprout status --wait\`, or stop it if it is stuck.\n`);
    return 1;
  }
  try {
    const status = await runStages(h, stages, { echo: quiet ? null : (t) => process.stdout.write(t) });
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

const QUIET = { quiet: { type: "boolean" as const, short: "q", help: "print only warnings and errors" } };

export const bootCommand: Command = {
  name: "boot",
  summary: "run all boot stages (local, network, config, final) in one process",
  usage: "sprout boot [--quiet]",
  options: QUIET,
  details: "Exit status: 0 clean, 1 a stage could not complete, 2 degraded (something failed, the boot went on).",
  run: (a, g) => runWithLock(g, [...STAGES], a.options.quiet === true),
};

export const initCommand: Command = {
  name: "init",
  summary: "run one boot stage",
  usage: "sprout init --stage local|network|config|final [--quiet]",
  options: { stage: { type: "string", help: "the stage to run", value: "local|network|config|final" }, ...QUIET },
  run: (a, g) => {
    const stage = a.options.stage;
    if (typeof stage !== "string" || !(STAGES as readonly string[]).includes(stage)) throw new UsageError(`init needs --stage local|network|config|final${stage ? `, not ${JSON.stringify(stage)}` : ""}`);
    return runWithLock(g, [stage as Stage], a.options.quiet === true);
  },
};
