// EC2's block-device-mapping, the only meta-data cloud-init maps the ephemeral and
// swap defaults from. Apart from the module: a boot checks it (modules/manifest.ts)
// without loading mounts.
import { isPlainObject } from "../../agent/merge";
import type { ModuleContext } from "../../agent/types";

/** EC2's block-device-mapping (ephemeral0: sdb, swap: sdc), or null on any other datasource. */
export function blockDeviceMapping(ctx: ModuleContext): Record<string, string> | null {
  if (ctx.datasource !== "Ec2") return null;
  const ds = ctx.instance.ds;
  const md = isPlainObject(ds) ? ds.meta_data : null;
  const bdm = isPlainObject(md) ? md["block-device-mapping"] : null;
  if (!isPlainObject(bdm)) return null;
  return Object.fromEntries(Object.entries(bdm).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** Whether the mapping names a swap or ephemeral device: then mounts has default lines to write with no mounts key. */
export function mapsEc2Defaults(bdm: Record<string, string> | null): boolean {
  return bdm !== null && Object.keys(bdm).some((k) => k === "swap" || k.startsWith("ephemeral"));
}
