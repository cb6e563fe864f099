// The modules as a boot sees them: in run order, each with its stage, frequency, the
// top-level cloud-config keys it reads, and how to load it. A boot loads a module only
// when it has something to do: most seeds use a handful of modules, and evaluating all
// of them (their schemas, templates and tables) is work no boot needs (on the bench
// seed, 17 of 37 stay unloaded and the boot's code cache is 48 KB smaller; see the
// README's Speed). modules/index.ts (MODULES) stays the complete registry for the tools (the
// schema validator, the docs); modules/registry.test.ts checks the two agree, and that
// a module left unloaded here would have done nothing.
import type { Module, ModuleContext, ModuleFrequency, ModuleResult, Stage } from "../agent/types";
import { CONF_FILE as APT_CONF_FILE, PROXY_FILE as APT_PROXY_FILE } from "./apt_configure/files";
import { GRUB_PC_INSTALLED } from "./grub_dpkg/installed";
import { blockDeviceMapping, mapsEc2Defaults } from "./mounts/block-device-mapping";
import { metadataSeed } from "./seed_random/metadata-seed";
import { datasourcePassword } from "./set_passwords/plan";

interface EntryBase {
  id: string;
  stage: Stage;
  frequency: ModuleFrequency;
  /** Top-level keys the module reads: its schema's properties, and the deprecated keys it converts. */
  keys: readonly string[];
  load(): Promise<Module>;
}

/** A module with work to do on every boot (defaults, meta-data, directories): always loaded and run. */
export interface AlwaysEntry extends EntryBase {
  runs: "always";
}

/**
 * A module that does nothing when none of its keys is set: then it is not loaded, and the
 * boot records it as skipped with `idle`, the detail the module itself gives.
 */
export interface KeyedEntry extends EntryBase {
  runs: "with-keys";
  idle: string;
  /** A cheap check for the work it has with no key set (a file left by an earlier instance). */
  alsoWhen?: (ctx: ModuleContext) => boolean;
}

export type ManifestEntry = AlwaysEntry | KeyedEntry;

/** cloud-init's apt_* keys that apt_configure converts (modules/apt_configure/legacy.ts). */
const APT_LEGACY_KEYS = [
  "apt_sources",
  "apt_mirror",
  "apt_mirror_search",
  "apt_mirror_search_dns",
  "apt_proxy",
  "apt_http_proxy",
  "apt_ftp_proxy",
  "apt_https_proxy",
  "apt_preserve_sources_list",
  "apt_custom_sources_list",
  "add_apt_repo_match",
];
const HOSTNAME_KEYS = ["hostname", "fqdn", "prefer_fqdn_over_hostname", "preserve_hostname", "create_hostname_file"];

export const MODULE_MANIFEST: readonly ManifestEntry[] = [
  // local (before the network: the disk, then the filesystem on it)
  { id: "growpart", stage: "local", frequency: "always", runs: "always", keys: ["growpart"], load: () => import("./growpart").then((m) => m.growpart) },
  { id: "resizefs", stage: "local", frequency: "always", runs: "always", keys: ["resize_rootfs"], load: () => import("./resizefs").then((m) => m.resizefs) },
  { id: "rescue", stage: "local", frequency: "always", runs: "always", keys: ["rescue"], load: () => import("./rescue").then((m) => m.rescue) },
  // network (cloud-init's "init" stage modules)
  { id: "output", stage: "network", frequency: "always", runs: "with-keys", keys: ["output"], idle: "no output", load: () => import("./output").then((m) => m.output) },
  { id: "boothooks", stage: "network", frequency: "always", runs: "always", keys: [], load: () => import("./boothooks").then((m) => m.boothooks) },
  {
    id: "seed_random",
    stage: "network",
    frequency: "per-instance",
    runs: "with-keys",
    keys: ["random_seed"],
    idle: "no random_seed",
    // The meta-data's own seed is added with no key set, as in cloud-init.
    alsoWhen: (ctx) => metadataSeed(ctx) !== null,
    load: () => import("./seed_random").then((m) => m.seedRandom),
  },
  { id: "bootcmd", stage: "network", frequency: "always", runs: "with-keys", keys: ["bootcmd"], idle: "no bootcmd", load: () => import("./bootcmd").then((m) => m.bootcmd) },
  { id: "write_files", stage: "network", frequency: "per-instance", runs: "with-keys", keys: ["write_files"], idle: "no write_files", load: () => import("./write_files").then((m) => m.writeFiles) },
  { id: "disk_setup", stage: "network", frequency: "per-instance", runs: "with-keys", keys: ["disk_setup", "fs_setup"], idle: "no disk_setup or fs_setup", load: () => import("./disk_setup").then((m) => m.diskSetup) },
  {
    id: "mounts",
    stage: "network",
    frequency: "per-instance",
    runs: "with-keys",
    keys: ["mounts", "mount_default_fields", "swap", "device_aliases"],
    idle: "no mounts or swap",
    // EC2's ephemeral and swap devices get fstab lines with no mounts key, as in cloud-init.
    alsoWhen: (ctx) => mapsEc2Defaults(blockDeviceMapping(ctx)),
    load: () => import("./mounts").then((m) => m.mounts),
  },
  { id: "set_hostname", stage: "network", frequency: "per-instance", runs: "always", keys: HOSTNAME_KEYS, load: () => import("./set_hostname").then((m) => m.setHostname) },
  { id: "update_hostname", stage: "network", frequency: "always", runs: "always", keys: HOSTNAME_KEYS, load: () => import("./update_hostname").then((m) => m.updateHostname) },
  { id: "update_etc_hosts", stage: "network", frequency: "always", runs: "with-keys", keys: ["manage_etc_hosts"], idle: "manage_etc_hosts is off", load: () => import("./update_etc_hosts").then((m) => m.updateEtcHosts) },
  { id: "ca_certs", stage: "network", frequency: "per-instance", runs: "with-keys", keys: ["ca_certs", "ca-certs"], idle: "no ca_certs", load: () => import("./ca_certs").then((m) => m.caCerts) },
  { id: "rsyslog", stage: "network", frequency: "per-instance", runs: "with-keys", keys: ["rsyslog"], idle: "no rsyslog key", load: () => import("./rsyslog").then((m) => m.rsyslog) },
  { id: "users_groups", stage: "network", frequency: "per-instance", runs: "always", keys: ["users", "user", "groups", "ssh_import_id"], load: () => import("./users_groups").then((m) => m.usersGroups) },
  {
    id: "ssh",
    stage: "network",
    frequency: "per-instance",
    runs: "always",
    keys: ["ssh_authorized_keys", "allow_public_ssh_keys", "disable_root", "disable_root_opts", "ssh_deletekeys", "ssh_genkeytypes", "ssh_keys", "ssh_quiet_keygen", "ssh_publish_hostkeys", "ssh_pwauth"],
    load: () => import("./ssh").then((m) => m.ssh),
  },
  // config
  { id: "keyboard", stage: "config", frequency: "per-instance", runs: "with-keys", keys: ["keyboard"], idle: "no keyboard", load: () => import("./keyboard").then((m) => m.keyboard) },
  { id: "locale", stage: "config", frequency: "per-instance", runs: "with-keys", keys: ["locale", "locale_configfile"], idle: "no locale", load: () => import("./locale").then((m) => m.locale) },
  {
    id: "set_passwords",
    stage: "config",
    frequency: "per-instance",
    runs: "with-keys",
    keys: ["password", "chpasswd"],
    idle: "no password or chpasswd",
    // The OVF environment's password property, which cloud-init sets as a datasource password:.
    alsoWhen: (ctx) => datasourcePassword(ctx.instance) !== null,
    load: () => import("./set_passwords").then((m) => m.setPasswords),
  },
  {
    id: "grub_dpkg",
    stage: "config",
    frequency: "per-instance",
    runs: "with-keys",
    keys: ["grub_dpkg", "grub-dpkg"],
    idle: "grub-pc is not installed",
    // With no key, cloud-init answers grub-pc's questions on Debian anyway: sprout does where grub-pc is installed.
    alsoWhen: (ctx) => ctx.host.root.exists(GRUB_PC_INSTALLED),
    load: () => import("./grub_dpkg").then((m) => m.grubDpkg),
  },
  { id: "apt_pipelining", stage: "config", frequency: "per-instance", runs: "with-keys", keys: ["apt_pipelining"], idle: "no apt_pipelining", load: () => import("./apt_pipelining").then((m) => m.aptPipelining) },
  {
    id: "apt_configure",
    stage: "config",
    frequency: "per-instance",
    runs: "with-keys",
    keys: ["apt", ...APT_LEGACY_KEYS],
    idle: "no apt configuration",
    // With no apt key, cloud-init removes the proxy and apt.conf files an earlier instance's config wrote.
    alsoWhen: (ctx) => ctx.host.root.exists(APT_PROXY_FILE) || ctx.host.root.exists(APT_CONF_FILE),
    load: () => import("./apt_configure").then((m) => m.aptConfigure),
  },
  { id: "ntp", stage: "config", frequency: "per-instance", runs: "with-keys", keys: ["ntp"], idle: "no ntp key", load: () => import("./ntp").then((m) => m.ntp) },
  { id: "timezone", stage: "config", frequency: "per-instance", runs: "with-keys", keys: ["timezone"], idle: "no timezone", load: () => import("./timezone").then((m) => m.timezone) },
  { id: "disable_ec2_metadata", stage: "config", frequency: "always", runs: "with-keys", keys: ["disable_ec2_metadata"], idle: "no disable_ec2_metadata", load: () => import("./disable_ec2_metadata").then((m) => m.disableEc2Metadata) },
  { id: "grub_fallback", stage: "config", frequency: "always", runs: "always", keys: ["grub_fallback"], load: () => import("./grub_fallback").then((m) => m.grubFallback) },
  // final
  {
    id: "package_update_upgrade_install",
    stage: "final",
    frequency: "per-instance",
    runs: "with-keys",
    keys: ["package_update", "package_upgrade", "package_reboot_if_required", "packages", "apt_get_command", "apt_get_upgrade_subcommand", "snap", "apt_update", "apt_upgrade", "apt_reboot_if_required"],
    idle: "nothing to update, upgrade or install",
    load: () => import("./package_update_upgrade_install").then((m) => m.packageUpdateUpgradeInstall),
  },
  { id: "write_files_deferred", stage: "final", frequency: "per-instance", runs: "with-keys", keys: ["write_files"], idle: "no write_files", load: () => import("./write_files").then((m) => m.writeFilesDeferred) },
  { id: "scripts_vendor", stage: "final", frequency: "per-instance", runs: "always", keys: [], load: () => import("./scripts_user").then((m) => m.scriptsVendor) },
  { id: "scripts_per_once", stage: "final", frequency: "once", runs: "always", keys: [], load: () => import("./scripts_user").then((m) => m.scriptsPerOnce) },
  { id: "scripts_per_boot", stage: "final", frequency: "always", runs: "always", keys: [], load: () => import("./scripts_user").then((m) => m.scriptsPerBoot) },
  { id: "scripts_per_instance", stage: "final", frequency: "per-instance", runs: "always", keys: [], load: () => import("./scripts_user").then((m) => m.scriptsPerInstance) },
  { id: "runcmd", stage: "final", frequency: "per-instance", runs: "with-keys", keys: ["runcmd"], idle: "no runcmd", load: () => import("./runcmd").then((m) => m.runcmd) },
  { id: "scripts_user", stage: "final", frequency: "per-instance", runs: "always", keys: [], load: () => import("./scripts_user").then((m) => m.scriptsUser) },
  { id: "keys_to_console", stage: "final", frequency: "per-instance", runs: "always", keys: ["ssh", "ssh_fp_console_blacklist", "ssh_key_console_blacklist"], load: () => import("./keys_to_console").then((m) => m.keysToConsole) },
  { id: "phone_home", stage: "final", frequency: "per-instance", runs: "with-keys", keys: ["phone_home"], idle: "no phone_home", load: () => import("./phone_home").then((m) => m.phoneHome) },
  { id: "final_message", stage: "final", frequency: "always", runs: "always", keys: ["final_message"], load: () => import("./final_message").then((m) => m.finalMessage) },
  // reaching it means this boot worked, so the next one needs no fallback kernel
  { id: "grub_fallback_boot_ok", stage: "final", frequency: "always", runs: "always", keys: [], load: () => import("./grub_fallback").then((m) => m.grubFallbackBootOk) },
  { id: "power_state_change", stage: "final", frequency: "per-instance", runs: "with-keys", keys: ["power_state"], idle: "no power_state", load: () => import("./power_state_change").then((m) => m.powerStateChange) },
];

/**
 * The result of a module a boot need not load: skipped, with the module's own detail.
 * null when it must be loaded and run: it always runs, one of its keys is set, or its
 * cheap check says there is work.
 */
export function idleResult(entry: ManifestEntry, cfg: Record<string, unknown>, ctx: ModuleContext): ModuleResult | null {
  if (entry.runs === "always") return null;
  if (entry.keys.some((k) => cfg[k] !== undefined) || entry.alsoWhen?.(ctx)) return null;
  return { status: "skipped", detail: entry.idle };
}
