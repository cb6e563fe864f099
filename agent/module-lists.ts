// cloud-init's module lists. cloud_init_modules, cloud_config_modules and
// cloud_final_modules in the config (system config, vendor-data or user-data, merged
// as any other key) name the modules each cloud-init stage runs, and may give one a
// frequency of its own. Seeds use them to turn modules off, and to run user scripts at
// every boot; AWS documents this user-data for that:
//
//   #cloud-config
//   cloud_final_modules:
//   - [scripts-user, always]
//
// Without a list, sprout runs all its modules (modules/manifest.ts). With one, a module
// of that stage runs only when the list names it, with the list's frequency if it gives
// one, as in cloud-init 22.4.2 (config/modules.py: _read_modules, _fixup_modules).
// sprout's own modules that cloud-init lacks (rescue, grub_fallback, ...) are not
// governed by the lists. Pure: no I/O.
import { didYouMean } from "./schema/did-you-mean";
import type { ModuleFrequency } from "./types";

export type ModuleListKey = "cloud_init_modules" | "cloud_config_modules" | "cloud_final_modules";
const MODULE_LIST_KEYS: readonly ModuleListKey[] = ["cloud_init_modules", "cloud_config_modules", "cloud_final_modules"];

/**
 * Where Debian's cloud.cfg (cloud-init 22.4.2) runs each module sprout has. sprout runs
 * growpart and resizefs before the network, the rest in its network, config and final
 * stages; which list governs a module is cloud-init's.
 */
export const MODULE_LIST_OF: Readonly<Record<string, ModuleListKey>> = {
  seed_random: "cloud_init_modules",
  bootcmd: "cloud_init_modules",
  write_files: "cloud_init_modules",
  growpart: "cloud_init_modules",
  resizefs: "cloud_init_modules",
  disk_setup: "cloud_init_modules",
  mounts: "cloud_init_modules",
  set_hostname: "cloud_init_modules",
  update_hostname: "cloud_init_modules",
  update_etc_hosts: "cloud_init_modules",
  ca_certs: "cloud_init_modules",
  rsyslog: "cloud_init_modules",
  users_groups: "cloud_init_modules",
  ssh: "cloud_init_modules",
  keyboard: "cloud_config_modules",
  locale: "cloud_config_modules",
  set_passwords: "cloud_config_modules",
  grub_dpkg: "cloud_config_modules",
  apt_pipelining: "cloud_config_modules",
  apt_configure: "cloud_config_modules",
  ntp: "cloud_config_modules",
  timezone: "cloud_config_modules",
  disable_ec2_metadata: "cloud_config_modules",
  runcmd: "cloud_config_modules",
  package_update_upgrade_install: "cloud_final_modules",
  write_files_deferred: "cloud_final_modules",
  scripts_vendor: "cloud_final_modules",
  scripts_per_once: "cloud_final_modules",
  scripts_per_boot: "cloud_final_modules",
  scripts_per_instance: "cloud_final_modules",
  scripts_user: "cloud_final_modules",
  keys_to_console: "cloud_final_modules",
  phone_home: "cloud_final_modules",
  final_message: "cloud_final_modules",
  power_state_change: "cloud_final_modules",
};

/** sprout's modules that are not cloud-init's: the lists do not govern them (they have their own settings). */
export const SPROUT_ONLY_MODULES: ReadonlySet<string> = new Set(["rescue", "output", "boothooks", "grub_fallback", "grub_fallback_boot_ok"]);

/** cloud-init 22.4.2's modules sprout has no counterpart for: a list may name them, and sprout then has nothing to run. */
export const CLOUD_INIT_ONLY_MODULES: ReadonlySet<string> = new Set([
  "ansible",
  "apk_configure",
  "byobu",
  "chef",
  "fan",
  "install_hotplug",
  "landscape",
  "lxd",
  "mcollective",
  "migrator",
  "puppet",
  "refresh_rmc_and_interface",
  "reset_rmc",
  "resolv_conf",
  "rh_subscription",
  "rightscale_userdata",
  "salt_minion",
  "snap",
  "spacewalk",
  "ssh_authkey_fingerprints",
  "ssh_import_id",
  "ubuntu_advantage",
  "ubuntu_autoinstall",
  "ubuntu_drivers",
  "wireguard",
  "yum_add_repo",
  "zypper_add_repo",
]);

/** cloud-init's frequency names (settings.py FREQUENCIES) and sprout's. */
const FREQUENCY_OF: Readonly<Record<string, ModuleFrequency>> = { always: "always", once: "once", "once-per-instance": "per-instance" };

export interface ListedModule {
  /** As the list wrote it ("scripts-user"), for messages. */
  written: string;
  /** cloud-init's frequency override, when the entry gives a valid one. */
  frequency?: ModuleFrequency;
}

export interface ModuleLists {
  /** The lists the config gives, by key: module id -> its entry. A key the config lacks is absent. */
  lists: Partial<Record<ModuleListKey, Map<string, ListedModule>>>;
  /** What a person should fix: entries cloud-init would skip or misread. */
  problems: string[];
}

/** "scripts-user", "cc_scripts_user" and "scripts_user.py" all name scripts_user, as in cloud-init's form_module_name. */
export function moduleIdOf(name: string): string {
  let id = name.replace(/-/g, "_").trim();
  if (id.toLowerCase().endsWith(".py")) id = id.slice(0, -3);
  return id.startsWith("cc_") ? id.slice(3) : id;
}

/** Reads the three lists from a merged config, entry by entry as cloud-init reads them. */
export function readModuleLists(cfg: Record<string, unknown>): ModuleLists {
  const out: ModuleLists = { lists: {}, problems: [] };
  for (const key of MODULE_LIST_KEYS) {
    if (!(key in cfg)) continue;
    const listed = new Map<string, ListedModule>();
    out.lists[key] = listed;
    const value = cfg[key];
    // cloud-init: `if not cfg_mods: return []`: null or an empty list runs no module of that stage.
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    if (!Array.isArray(value)) {
      out.problems.push(`${key} must be a list of module names (for example [scripts-user, [runcmd, always]]), not ${describe(value)}; no module of that stage runs, as in cloud-init`);
      continue;
    }
    value.forEach((item, index) => {
      const where = `${key}[${index}]`;
      const entry = readEntry(item, where, out.problems);
      if (!entry) return;
      const id = moduleIdOf(entry.written);
      if (!id) return;
      if (SPROUT_ONLY_MODULES.has(id)) {
        out.problems.push(`${where}: ${id} is sprout's own module, which cloud-init's lists do not govern; it runs as its own settings say`);
        return;
      }
      if (!(id in MODULE_LIST_OF) && !CLOUD_INIT_ONLY_MODULES.has(id)) {
        const near = didYouMean(id, [...Object.keys(MODULE_LIST_OF), ...CLOUD_INIT_ONLY_MODULES]);
        out.problems.push(`${where}: ${JSON.stringify(entry.written)} is not a module of cloud-init or sprout${near ? ` (did you mean ${near.replace(/_/g, "-")}?)` : "; check its spelling"}`);
        return;
      }
      // A module named twice keeps its first entry's frequency: it runs once per stage in sprout.
      if (!listed.has(id)) listed.set(id, entry);
    });
  }
  return out;
}

function readEntry(item: unknown, where: string, problems: string[]): ListedModule | null {
  // cloud-init skips empty entries without a word.
  if (item === null || item === undefined || item === "" || (Array.isArray(item) && item.length === 0)) return null;
  let name: unknown;
  let frequency: unknown;
  if (typeof item === "string") name = item;
  else if (Array.isArray(item)) [name, frequency] = item;
  else if (typeof item === "object") {
    const o = item as Record<string, unknown>;
    if (!("name" in o)) {
      problems.push(`${where}: a mapping needs name: (and may give frequency:); skipped`);
      return null;
    }
    name = o.name;
    frequency = o.frequency;
  } else {
    problems.push(`${where}: ${describe(item)} is not a module name; skipped`);
    return null;
  }
  if (typeof name !== "string" || !name.trim()) {
    problems.push(`${where}: the module name must be text, not ${describe(name)}; skipped`);
    return null;
  }
  const entry: ListedModule = { written: name.trim() };
  if (frequency === undefined || frequency === null || frequency === "") return entry;
  const known = typeof frequency === "string" ? FREQUENCY_OF[frequency.trim()] : undefined;
  if (known) entry.frequency = known;
  else problems.push(`${where}: ${name.trim()} has an unknown frequency ${JSON.stringify(frequency)} (use always, once or once-per-instance); the module's own is used, as in cloud-init`);
  return entry;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

export type ModulePlan =
  | { runs: true; frequency: ModuleFrequency; /** Run with the system config alone, not vendor- or user-data. */ systemConfigOnly?: true }
  | { runs: false; reason: string };

/**
 * Whether a module runs under the lists, and with which frequency. runcmd is two of
 * cloud-init's modules: cloud-init's runcmd (a config module) writes the commands into a
 * script, and scripts_user (a final module) runs that script. So sprout's runcmd runs only
 * when both are listed, and as often as scripts_user does: with `[scripts-user, always]`,
 * the commands run at every boot, as they do under cloud-init.
 */
export function planModule(id: string, ownFrequency: ModuleFrequency, lists: ModuleLists): ModulePlan {
  const own = listing(id, lists);
  // cloud-init sets the hostname before it reads user-data, whatever the lists say
  // (cmd/main.py _maybe_set_hostname, in its local and network stages): from the system
  // config and the meta-data. Only the user-data's hostname waits for set_hostname.
  if (own === "unlisted" && id === "set_hostname") return { runs: true, frequency: ownFrequency, systemConfigOnly: true };
  if (own === "unlisted") return { runs: false, reason: `not in ${MODULE_LIST_OF[id]}, which the config gives` };
  if (id !== "runcmd") return { runs: true, frequency: own?.frequency ?? ownFrequency };
  const runner = listing("scripts_user", lists);
  if (runner === "unlisted") return { runs: false, reason: "scripts-user, which runs runcmd's commands, is not in cloud_final_modules, which the config gives" };
  return { runs: true, frequency: runner?.frequency ?? ownFrequency };
}

/** The module's entry; null when no list governs it (no list for its stage, or not a cloud-init module). */
function listing(id: string, lists: ModuleLists): ListedModule | null | "unlisted" {
  const key = MODULE_LIST_OF[id];
  const list = key ? lists.lists[key] : undefined;
  if (!list) return null;
  return list.get(id) ?? "unlisted";
}
