// A ModuleContext for running one module against a Host, as the engine would.
import type { Host } from "../../agent/host/types";
import { pathsFor } from "../../agent/instance-state";
import type { JsonObject, ModuleContext, Stage } from "../../agent/types";

export function moduleContext(host: Host, stage: Stage, instance: JsonObject = { v1: { instance_id: "iid-test" }, ds: {} }): ModuleContext {
  return {
    host,
    stage,
    instance,
    instanceId: "iid-test",
    paths: pathsFor("iid-test"),
    settings: { scriptTimeoutMs: 60_000, scriptLogCap: 1024 * 1024 },
    datasource: "None",
    runUserScript: async () => ({ exitCode: 0, ok: true, failure: null }),
  };
}
