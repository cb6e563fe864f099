// `sprout boot --gates`: stages wait for their systemd unit's gate, leave a done
// marker, and never wait without a bound.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempRoot, type TempRoot } from "../test/helpers/target";
import { runStages } from "./boot";
import { stageGates } from "./stage-gates";
import { STAGES } from "./types";

const SEED = { "/var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-gates\n", "/var/lib/cloud/seed/nocloud/user-data": "#cloud-config\n{}\n", "/proc/cmdline": "root=/dev/vda1\n", "/etc/sprout/config.yaml": "datasource_list: [NoCloud, None]\n" };

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error("condition not reached in 10 s");
}

describe("stage gates", () => {
  let t: TempRoot;
  afterEach(() => t?.cleanup());

  it("runs each later stage only once its gate is open, writes the stage before finished before the wait, and marks every stage done", async () => {
    t = tempRoot(SEED);
    const h = t.host();
    const p = (x: string) => join(t.dir, x);
    const status = () => JSON.parse(readFileSync(p("run/sprout/status.json"), "utf8"));
    const boot = runStages(h, [...STAGES], { gates: stageGates(h, { local: 0, network: 30, config: 30, final: 30 }) });
    // NoCloud from a local seed: no network datasource, so the network stage does not wait.
    await until(() => existsSync(p("run/sprout/stage/network.done")));
    // Waiting for the config gate: a reader sees the network stage finished (its end went
    // to disk before the wait, and before its done marker) and no stage running.
    const waiting = status().v1;
    expect([waiting.stage, waiting.stages.local.end !== null, waiting.stages.network.end !== null]).toEqual([null, true, true]);
    expect(waiting.stages.config.start).toBeNull();
    mkdirSync(p("run/sprout/gate"), { recursive: true });
    writeFileSync(p("run/sprout/gate/config"), "");
    await until(() => existsSync(p("run/sprout/stage/config.done")));
    expect(status().v1.stages.final.start).toBeNull();
    writeFileSync(p("run/sprout/gate/final"), "");
    const doc = await boot;
    expect(doc.v1.done).toBe(true);
    expect(doc.v1.errors).toEqual([]);
    for (const s of STAGES) expect(existsSync(p(`run/sprout/stage/${s}.done`))).toBe(true);
  });

  it("a gate that never opens costs its bound, then the stage runs with a warning", async () => {
    t = tempRoot(SEED);
    const h = t.host();
    const doc = await runStages(h, [...STAGES], { gates: stageGates(h, { local: 0, network: 0.1, config: 0.1, final: 0.1 }) });
    expect(doc.v1.done).toBe(true);
    expect(readFileSync(join(t.dir, "var/log/sprout.log"), "utf8")).toMatch(/gate\/final did not appear within 0.1 s .*running the final stage anyway/);
  });

  it("markers of an earlier run do not count in a new boot", async () => {
    t = tempRoot({ ...SEED, "/run/sprout/stage/final.done": "" });
    const h = t.host();
    const boot = runStages(h, [...STAGES], { gates: stageGates(h, { local: 0, network: 30, config: 30, final: 30 }) });
    await until(() => existsSync(join(t.dir, "run/sprout/stage/network.done")));
    expect(existsSync(join(t.dir, "run/sprout/stage/final.done"))).toBe(false);
    mkdirSync(join(t.dir, "run/sprout/gate"), { recursive: true });
    writeFileSync(join(t.dir, "run/sprout/gate/config"), "");
    writeFileSync(join(t.dir, "run/sprout/gate/final"), "");
    expect((await boot).v1.done).toBe(true);
  });
});
