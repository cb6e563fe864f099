import type { TargetRoot } from "./host/types";
import type { ModuleFrequency, Paths } from "./types";

export const STATE_DIR = "/var/lib/sprout";
export const RUN_DIR = "/run/sprout";
export const USER_DATA_LOG = "/var/log/user_data.log";

/**
 * A directory name for an instance-id. Like cloud-init, "/" becomes "_"; sprout
 * also refuses names that are empty, "." or "..", hidden, or hold control
 * characters, so no instance-id can name a path outside the state directory.
 */
export function instanceDirName(instanceId: string): { name: string; changed: boolean } {
  let name = instanceId.replace(/[\x00-\x1f\x7f/\\]/g, "_");
  if (name === "" || name === "." || name === "..") name = `_${name.replace(/\./g, "_")}`;
  if (name.startsWith(".")) name = `_${name.slice(1)}`;
  if (name.length > 200) name = name.slice(0, 200);
  return { name, changed: name !== instanceId };
}

export function pathsFor(instanceId: string): Paths {
  return {
    stateDir: STATE_DIR,
    instanceDir: `${STATE_DIR}/instances/${instanceDirName(instanceId).name}`,
    runDir: RUN_DIR,
    userDataLog: USER_DATA_LOG,
  };
}

export interface ActivatedInstance {
  paths: Paths;
  /** True when this instance-id differs from the one the last boot used (or there was none). */
  isNew: boolean;
  previousId: string | null;
}

/** Makes `instanceId` the current instance: its directory, the `instance` link, data/instance-id. */
export function activateInstance(root: TargetRoot, instanceId: string): ActivatedInstance {
  const paths = pathsFor(instanceId);
  const previousId = root.tryReadText(`${STATE_DIR}/data/instance-id`)?.trim() || null;
  root.mkdirp(`${paths.instanceDir}/sem`, 0o755);
  root.symlinkAtomic(`instances/${instanceDirName(instanceId).name}`, `${STATE_DIR}/instance`);
  linkCloudInitInstance(root);
  if (previousId !== instanceId) {
    if (previousId !== null) root.writeAtomic(`${STATE_DIR}/data/previous-instance-id`, previousId + "\n");
    root.writeAtomic(`${STATE_DIR}/data/instance-id`, instanceId + "\n");
  }
  return { paths, isNew: previousId !== instanceId, previousId };
}

/**
 * Scripts written for cloud-init wait for /var/lib/cloud/instance/boot-finished (Packer's
 * documentation suggests it) and read user-data.txt there: cloud-init's instance link points
 * at sprout's instance, both relative so it holds under --root too. Anything else already
 * there (cloud-init's own state on an image that has both) is left alone.
 */
export const CLOUD_INIT_INSTANCE_LINK = "/var/lib/cloud/instance";
const CLOUD_INIT_INSTANCE_TARGET = "../sprout/instance";

function linkCloudInitInstance(root: TargetRoot): void {
  if (root.lstat(CLOUD_INIT_INSTANCE_LINK)) return;
  root.mkdirp("/var/lib/cloud", 0o755);
  root.symlinkAtomic(CLOUD_INIT_INSTANCE_TARGET, CLOUD_INIT_INSTANCE_LINK);
}

function semPath(paths: Paths, name: string, freq: ModuleFrequency): string | null {
  if (freq === "always") return null;
  return freq === "once" ? `${paths.stateDir}/sem/${name}.once` : `${paths.instanceDir}/sem/${name}`;
}

/** Whether a module (or a script) with this frequency is due on this boot. */
export function isDue(root: TargetRoot, paths: Paths, name: string, freq: ModuleFrequency): boolean {
  const p = semPath(paths, name, freq);
  return p === null || !root.exists(p);
}

/** Marks it run. As in cloud-init, a run that failed is marked too: a failing first-boot action is not retried on every boot. */
export function markRun(root: TargetRoot, paths: Paths, name: string, freq: ModuleFrequency, when: Date): void {
  const p = semPath(paths, name, freq);
  if (p !== null) root.writeAtomic(p, `${when.toISOString()}\n`, { mode: 0o644, durable: false });
}
