// boothooks: the #cloud-boothook parts of user-data and vendor-data, run early
// in the network stage on every boot with INSTANCE_ID in their environment (a
// boothook that should run once checks it, as with cloud-init).
import type { Module } from "../../agent/types";
import { scriptDirs } from "../../agent/userdata/consume";
import { runScriptsDir } from "../scripts_user";

export const boothooks: Module = {
  id: "boothooks",
  stage: "network",
  frequency: "always",
  schema: { type: "object", description: "Run the #cloud-boothook parts of user-data early on every boot, with INSTANCE_ID set.", properties: {} },
  run: (_cfg, ctx) => runScriptsDir(ctx, scriptDirs(ctx.paths).boothooks),
};
