// The ifupdown renderer: /etc/network/interfaces.d/50-cloud-init and the udev rules
// that give each MAC its name, laid out line for line as cloud-init 22.4.2 writes
// them on Debian (cloudinit/net/eni.py with Debian's header), so an image that
// moves from cloud-init to sprout keeps the same files. Pure.
import { subnetIsIPv6, type Iface, type NetworkState, type Route, type Subnet } from "./state";

export const ENI_FILE = "/etc/network/interfaces.d/50-cloud-init";
export const UDEV_RULES_FILE = "/etc/udev/rules.d/70-persistent-net.rules";

// Debian's header (cloudinit/distros/debian.py); the file name it names is cloud-init's,
// and sprout honours the same setting (network: {config: disabled}) in its config.d.
export const ENI_HEADER = `# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.  To disable cloud-init's
# network configuration capabilities, write a file
# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:
# network: {config: disabled}
`;

const TYPE_ORDER: Record<string, number> = { loopback: 0, physical: 1, infiniband: 2, bond: 3, bridge: 4, vlan: 5 };
const MULTILINE_OPTIONS = ["bridge_pathcost", "bridge_portprio", "bridge_waitport"];
const SUBNET_KEYS = ["address", "broadcast", "metric", "gateway", "pointopoint", "mtu", "scope", "dns_search", "dns_nameservers"] as const;

/** Python's truthiness, which decides what cloud-init leaves out (0, "", [], false before on/off). */
const present = (v: unknown) => !(v === null || v === undefined || v === 0 || v === "" || (Array.isArray(v) && v.length === 0));

function subnetLines(s: Subnet): string[] {
  const out: string[] = [];
  for (const key of SUBNET_KEYS) {
    let value: unknown = s[key];
    if (!present(value)) continue;
    if (key === "address") value = `${s.address}/${s.prefix}`;
    if (Array.isArray(value)) value = value.join(" ");
    out.push(`    ${key.replace(/_/g, "-")} ${String(value)}`);
  }
  return out.sort();
}

/** The interface's own options, on its first stanza only (later ones are aliases for more addresses). */
function optionLines(iface: Iface, extra: Record<string, unknown>, ipv4SubnetMtu: number | undefined): string[] {
  const entries: Array<[string, unknown]> = [];
  if (["bond", "bridge", "infiniband", "vlan"].includes(iface.type) && iface.mac_address) entries.push(["hwaddress", iface.mac_address]);
  if (iface.mtu && !ipv4SubnetMtu) entries.push(["mtu", iface.mtu]);
  for (const [k, v] of Object.entries(iface.options)) if (k !== "driver" && k !== "device_id") entries.push([k, v]);
  entries.push(...Object.entries(extra));
  const out: string[] = [];
  for (const [key, raw] of entries) {
    const value = typeof raw === "boolean" ? (raw ? "on" : "off") : raw;
    if (!present(value)) continue;
    if (MULTILINE_OPTIONS.includes(key) && Array.isArray(value)) {
      for (const v of value) out.push(`    ${key} ${String(v)}`);
      continue;
    }
    if (typeof value === "object" && !Array.isArray(value)) {
      // A mapping (netplan's per-port path-cost): one "port value" pair a line.
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out.push(`    ${key} ${k} ${String(v)}`);
      continue;
    }
    out.push(`    ${key} ${Array.isArray(value) ? value.join(" ") : String(value)}`);
  }
  return out.sort();
}

function routeLines(route: Route, indent = ""): string[] {
  let def = "";
  if (route.network === "0.0.0.0" && route.netmask === "0.0.0.0") def = " default";
  else if (route.network === "::" && route.prefix === 0) def = " -A inet6 default";
  let line = "";
  if (!def) line += `${route.network.includes(":") ? " -A inet6" : route.prefix === 32 ? " -host" : " -net"} ${route.network}/${route.prefix}`;
  line += `${def} gw ${route.gateway}`;
  if (route.metric !== undefined) line += ` metric ${route.metric}`;
  return [`${indent}post-up route add${line} || true`, `${indent}pre-down route del${line} || true`];
}

function ifaceSections(iface: Iface): string[][] {
  const sections: string[][] = [];
  if (iface.subnets.length === 0) {
    const lines: string[] = [];
    if ("bond-master" in iface.options || "bond-slaves" in iface.options) lines.push(`auto ${iface.name}`);
    lines.push(`iface ${iface.name} inet manual`);
    lines.push(...optionLines(iface, iface.wakeonlan ? { "ethernet-wol": "g" } : {}, undefined));
    sections.push(lines);
    return sections;
  }
  // Options cloud-init sets on the interface while it walks the subnets: they stick for later stanzas' checks.
  const extra: Record<string, unknown> = iface.wakeonlan ? { "ethernet-wol": "g" } : {};
  iface.subnets.forEach((subnet, index) => {
    const v6 = subnetIsIPv6(subnet);
    let mode = subnet.type;
    let control = subnet.control ?? "auto";
    if (["dhcp4", "dhcp6", "ipv6_dhcpv6-stateful"].includes(subnet.type)) {
      mode = "dhcp";
      if (iface.accept_ra !== null) extra.accept_ra = iface.accept_ra ? "1" : "0";
    } else if (subnet.type === "ipv6_dhcpv6-stateless") {
      mode = "auto";
      extra.dhcp = "1";
    } else if (subnet.type === "ipv6_slaac") {
      mode = "auto";
      extra.dhcp = "0";
    } else if (v6) {
      mode = "static";
      if (iface.accept_ra !== null) extra.accept_ra = iface.accept_ra ? "1" : "0";
    }
    if (sections.some((s) => s.some((l) => l.includes(`auto ${iface.name}`)))) control = "alias";
    const verb = control === "auto" ? "auto" : control === "hotplug" ? "allow-hotplug" : `# control-${control}`;
    const lines = [`${verb} ${iface.name}`, `iface ${iface.name} ${v6 ? "inet6" : "inet"} ${mode}`, ...subnetLines(subnet)];
    if (index === 0) lines.push(...optionLines(iface, extra, v6 ? undefined : subnet.mtu));
    for (const r of subnet.routes) lines.push(...routeLines(r, "    "));
    sections.push(lines);
  });
  return sections;
}

/** The interfaces(5) text: loopback with the global nameservers, then the interfaces (physical first: bonds need them), then global routes. */
export function renderEniInterfaces(ns: NetworkState): string {
  const declaredLo = ns.interfaces.get("lo");
  const lo: Iface = declaredLo
    ? { ...declaredLo, subnets: declaredLo.subnets.map((s) => ({ ...s })) }
    : { name: "lo", type: "physical", mac_address: null, mtu: null, subnets: [{ type: "loopback", control: "auto", routes: [] }], accept_ra: null, wakeonlan: null, options: {}, dns: null };
  if (lo.subnets[0]) {
    if (ns.dns.nameservers.length) lo.subnets[0].dns_nameservers = [ns.dns.nameservers.join(" ")];
    if (ns.dns.search.length) lo.subnets[0].dns_search = [ns.dns.search.join(" ")];
  }
  const sections: string[][] = [...ifaceSections(lo)];
  const sorted = [...ns.interfaces.values()].filter((i) => i.name !== "lo").sort((a, b) => TYPE_ORDER[a.type]! - TYPE_ORDER[b.type]! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const iface of sorted) sections.push(...ifaceSections(iface));
  for (const route of ns.routes) sections.push(routeLines(route));
  return sections.map((s) => s.join("\n")).join("\n\n") + "\n";
}

/**
 * udev rules naming each physical interface that has a MAC (cloud-init writes the
 * file even when it is empty). The MAC is written in lower case: udev compares it
 * with the kernel's, which is lower case (cloud-init copies the case it was given).
 */
export function renderUdevRules(ns: NetworkState): string {
  let out = "";
  for (const iface of ns.interfaces.values()) {
    if (iface.type !== "physical" || !iface.mac_address) continue;
    const driver = typeof iface.options.driver === "string" && iface.options.driver ? iface.options.driver : "?*";
    out += `SUBSYSTEM=="net", ACTION=="add", DRIVERS=="${driver}", ATTR{address}=="${iface.mac_address.toLowerCase()}", NAME="${iface.name}"\n`;
  }
  return out;
}

export function renderEni(ns: NetworkState): Map<string, string> {
  return new Map([
    [ENI_FILE, ENI_HEADER + renderEniInterfaces(ns)],
    [UDEV_RULES_FILE, renderUdevRules(ns)],
  ]);
}
