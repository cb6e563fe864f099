// The module registry, in run order within each stage (cloud-init's order).
// Static on purpose: the single-file bundle cannot discover folders at run time.
// modules/registry.test.ts checks every entry has a schema with documented keys and a test.
import type { Module } from "../agent/types";
import { aptConfigure } from "./apt_configure";
import { aptPipelining } from "./apt_pipelining";
import { bootcmd } from "./bootcmd";
import { caCerts } from "./ca_certs";
import { diskSetup } from "./disk_setup";
import { disableEc2Metadata } from "./disable_ec2_metadata";
import { boothooks } from "./boothooks";
import { finalMessage } from "./final_message";
import { growpart } from "./growpart";
import { grubDpkg } from "./grub_dpkg";
import { grubFallback, grubFallbackBootOk } from "./grub_fallback";
import { keyboard } from "./keyboard";
import { keysToConsole } from "./keys_to_console";
import { locale } from "./locale";
import { mounts } from "./mounts";
import { ntp } from "./ntp";
import { output } from "./output";
import { packageUpdateUpgradeInstall } from "./package_update_upgrade_install";
import { phoneHome } from "./phone_home";
import { powerStateChange } from "./power_state_change";
import { resizefs } from "./resizefs";
import { rescue } from "./rescue";
import { rsyslog } from "./rsyslog";
import { runcmd } from "./runcmd";
import { seedRandom } from "./seed_random";
import { scriptsPerBoot, scriptsPerInstance, scriptsPerOnce, scriptsUser, scriptsVendor } from "./scripts_user";
import { setHostname } from "./set_hostname";
import { setPasswords } from "./set_passwords";
import { ssh } from "./ssh";
import { timezone } from "./timezone";
import { updateEtcHosts } from "./update_etc_hosts";
import { updateHostname } from "./update_hostname";
import { usersGroups } from "./users_groups";
import { writeFiles, writeFilesDeferred } from "./write_files";

export const MODULES: readonly Module[] = [
  // local (before the network: the disk, then the filesystem on it)
  growpart,
  resizefs,
  rescue,
  // network (cloud-init's "init" stage modules)
  output,
  boothooks,
  seedRandom,
  bootcmd,
  writeFiles,
  diskSetup,
  mounts,
  setHostname,
  updateHostname,
  updateEtcHosts,
  caCerts,
  rsyslog,
  usersGroups,
  ssh,
  // config
  keyboard,
  locale,
  setPasswords,
  grubDpkg,
  aptPipelining,
  aptConfigure,
  ntp,
  timezone,
  disableEc2Metadata,
  grubFallback,
  // final
  packageUpdateUpgradeInstall,
  writeFilesDeferred,
  scriptsVendor,
  scriptsPerOnce,
  scriptsPerBoot,
  scriptsPerInstance,
  runcmd,
  scriptsUser,
  keysToConsole,
  phoneHome,
  finalMessage,
  // reaching it means this boot worked, so the next one needs no fallback kernel
  grubFallbackBootOk,
  powerStateChange,
];

export function findModule(id: string): Module | undefined {
  return MODULES.find((m) => m.id === id);
}
