// The schema of the top-level keys the agent reads itself, not a module: apart from
// ./index so that a boot can list the known keys without loading the modules.
import { CLOUD_INIT_ONLY_MODULES, MODULE_LIST_OF } from "../module-lists";
import type { JsonObject } from "../types";

type Schema = JsonObject;

/** Keys the agent reads itself, not a module. */
export const CORE_SCHEMA: Record<string, Schema> = {
  datasource_list: {
    type: "array",
    items: { type: "string" },
    description: "Datasources to look for, in order (system config). None is always tried last.",
    examples: [["NoCloud", "Ec2", "None"]],
  },
  datasource: {
    type: "object",
    description: "Settings per datasource, by its name (system config).",
    additionalProperties: { type: "object" },
    examples: [{ NoCloud: { seedfrom: "http://10.0.0.1/seed/" } }],
  },
  system_info: {
    type: "object",
    description: "Facts about the image (system config): default_user is the image's default user.",
    properties: {
      default_user: { type: "object", description: "The default user: name, groups, sudo, shell, lock_passwd.", examples: [{ name: "admin", groups: ["sudo"], shell: "/bin/bash" }] },
      network: {
        type: "object",
        description: "renderers: the order in which sprout tries its network renderers, `eni` (ifupdown), `netplan` and `networkd` (that order by default); the first the image has is used.",
        examples: [{ renderers: ["networkd", "eni"] }],
      },
    },
    examples: [{ default_user: { name: "admin" } }],
  },
  network: {
    type: "object",
    description:
      "Network configuration (system config; user-data's is not used, as in cloud-init). `{config: disabled}` stops sprout from writing any (also honoured in /etc/cloud/cloud.cfg.d and as network-config=disabled on the kernel command line); a whole network-config (version 1 or 2) here wins over the datasource's. See the network-config guide.",
    properties: {
      config: {
        oneOf: [{ type: "string", enum: ["disabled"] }, { type: "array" }],
        description: "`disabled` turns network rendering off; with `version: 1`, the list of entries (physical, bond, vlan, bridge, nameserver, route).",
        examples: ["disabled"],
      },
      version: { type: "integer", enum: [1, 2], description: "The network-config format: 1 (cloud-init's list of entries) or 2 (netplan style).", examples: [2] },
      ethernets: {
        type: "object",
        description: "Version 2: NICs by name, each with match (macaddress), set-name, addresses, gateway4/gateway6, routes, nameservers, dhcp4/dhcp6, mtu.",
        examples: [{ eth0: { match: { macaddress: "52:54:00:12:34:56" }, "set-name": "eth0", addresses: ["10.0.0.5/24"], gateway4: "10.0.0.1", nameservers: { addresses: ["10.0.0.1"] } } }],
      },
      bonds: { type: "object", description: "Version 2: bonds by name: interfaces (defined under ethernets) and parameters (mode, mii-monitor-interval, ...).", examples: [{ bond0: { interfaces: ["eth0", "eth1"], parameters: { mode: "active-backup" }, dhcp4: true } }] },
      bridges: { type: "object", description: "Version 2: bridges by name: interfaces and parameters (stp, forward-delay, ...).", examples: [{ br0: { interfaces: ["eth0"], dhcp4: true } }] },
      vlans: { type: "object", description: "Version 2: VLANs by name: id and link.", examples: [{ "vlan10": { id: 10, link: "eth0", addresses: ["10.10.0.5/24"] } }] },
    },
    examples: [{ config: "disabled" }, { version: 2, ethernets: { eth0: { dhcp4: true } } }],
  },
  vendor_data: {
    type: "object",
    description: "Whether vendor-data is used (enabled: false switches it off).",
    properties: { enabled: { type: "boolean", description: "Apply vendor-data.", default: true, examples: [false] } },
    examples: [{ enabled: false }],
  },
  merge_how: {
    oneOf: [{ type: "string" }, { type: "array" }],
    description: "How this cloud-config part merges into the earlier ones, e.g. dict(recurse_array)+list(append).",
    examples: ["dict(recurse_array,no_replace)+list(append)"],
  },
  merge_type: { oneOf: [{ type: "string" }, { type: "array" }], description: "Same as merge_how.", examples: ["list(append)+dict(recurse_array)+str()"] },
  cloud_init_modules: moduleList("cloud-init's init stage (sprout's local and network stages)", [["bootcmd", "write-files", "set_hostname", "users-groups", "ssh"]]),
  cloud_config_modules: moduleList("cloud-init's config stage", [["timezone", "runcmd"]]),
  cloud_final_modules: moduleList("cloud-init's final stage", [[["scripts-user", "always"], "final-message"]]),
  sprout: {
    type: "object",
    description: "sprout's own settings (system config).",
    properties: {
      script_timeout: { type: "number", description: "Seconds one user script may run.", default: 1800, examples: [600] },
      script_log_cap: { type: "integer", description: "Bytes of one script's output kept in /var/log/user_data.log.", default: 1048576, examples: [65536] },
      fetch_timeout: { type: "number", description: "Seconds one #include or cloud-config-url request may take.", default: 10, examples: [5] },
      fetch_retries: { type: "integer", description: "Further tries of a failed #include or cloud-config-url request.", default: 2, examples: [0] },
    },
    examples: [{ script_timeout: 600 }],
  },
};

/**
 * A cloud-init module list (agent/module-lists.ts): names as cloud-init's schema takes
 * them, either spelling, alone or with a frequency (and, as cloud-init reads them, a
 * mapping with name and frequency).
 */
function moduleList(stage: string, examples: unknown[][]): Schema {
  const ids = [...Object.keys(MODULE_LIST_OF), ...CLOUD_INIT_ONLY_MODULES].sort();
  const names = [...new Set(ids.flatMap((id) => [id, id.replace(/_/g, "-")]))];
  const frequency = { enum: ["always", "once", "once-per-instance"] };
  return {
    type: ["array", "null"],
    description: `The modules ${stage} runs, in cloud-init's form: a name, or [name, frequency] with frequency always, once or once-per-instance. Given, it replaces the whole list: a module of that stage it does not name does not run. cloud-init's modules sprout lacks may be named; they do nothing.`,
    items: {
      anyOf: [
        { enum: names },
        { type: "array", minItems: 1, items: [{ enum: names }, frequency] },
        { type: "object", required: ["name"], properties: { name: { enum: names }, frequency, args: {} }, additionalProperties: false },
      ],
    },
    examples,
  };
}
