// The meta-data's own random seed (OpenStack and Azure give one). Apart from the module:
// a boot checks for it (modules/manifest.ts) without loading seed_random.
import { isPlainObject } from "../../agent/merge";
import type { ModuleContext } from "../../agent/types";

/** The meta-data's random_seed, which cloud-init appends as text. */
export function metadataSeed(ctx: ModuleContext): string | null {
  const ds = ctx.instance.ds;
  const md = isPlainObject(ds) ? ds.meta_data : null;
  const seed = isPlainObject(md) ? md.random_seed : undefined;
  return typeof seed === "string" && seed !== "" ? seed : null;
}
