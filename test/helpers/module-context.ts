// A ModuleContext on a temporary target root, for module tests.
import { sproutSettings } from "../../agent/config";
import { pathsFor } from "../../agent/instance-state";
import type { JsonObject, ModuleContext, Stage } from "../../agent/types";
import { runUserScript } from "../../agent/user-scripts";
import type { TempRoot } from "./target";

export function moduleContext(r: TempRoot, opts: { stage?: Stage; instanceId?: string; v1?: JsonObject; metaData?: JsonObject } = {}): ModuleContext {
  const host = r.host();
  const instanceId = opts.instanceId ?? "iid-test";
  const paths = pathsFor(instanceId);
  const stage = opts.stage ?? "network";
  const settings = sproutSettings({});
  return {
    host,
    stage,
    instance: { v1: { instance_id: instanceId, local_hostname: null, ...opts.v1 }, ds: { meta_data: opts.metaData ?? {} } },
    instanceId,
    paths,
    settings,
    datasource: "NoCloud",
    runUserScript: (name, argv, o) => runUserScript({ host, paths, instanceId, stage, settings, echo: null }, name, argv, o),
  };
}
