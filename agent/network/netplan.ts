// The network state as netplan YAML, /etc/netplan/50-cloud-init.yaml, byte for byte as
// cloud-init 22.4.2's netplan renderer writes it on Debian (cloudinit/net/netplan.py):
// a version 2 document passes through as it was given (keys sorted); version 1 is
// converted, section by section. Debian 12's cloud images have netplan and no ifupdown.
import { ENI_HEADER } from "./eni";
import { pyyamlDump } from "./pyyaml-dump";
import type { Iface, NetworkState } from "./state";

export const NETPLAN_FILE = "/etc/netplan/50-cloud-init.yaml";

/** What snapd's images (Ubuntu Core) ship as their first network config; cloud-init's netplan renderer knows it byte for byte. */
const SNAPD_DEFAULT_CONFIG = "/etc/netplan/00-snapd-config.yaml";
const KNOWN_SNAPD_CONFIG = `# This is the initial network config.
# It can be overwritten by cloud-init or console-conf.
network:
    version: 2
    ethernets:
        all-en:
            match:
                name: "en*"
            dhcp4: true
        all-eth:
            match:
                name: "eth*"
            dhcp4: true
`;
/** The files netplan generated from it. */
const SNAPD_DERIVED = ["/run/systemd/network/10-netplan-all-en.network", "/run/systemd/network/10-netplan-all-eth.network", "/run/systemd/generator/netplan.stamp"];

/**
 * The files to remove before the rendered netplan file is written, as cloud-init's
 * _clean_default: snapd's stock DHCP-on-everything config (only with exactly its stock
 * content, never one a person edited) and what netplan generated from it, which would
 * otherwise bring up every NIC next to the rendered configuration.
 */
export function staleDefaultNetplan(read: (path: string) => string | null, exists: (path: string) => boolean): string[] {
  if (read(SNAPD_DEFAULT_CONFIG) !== KNOWN_SNAPD_CONFIG) return [];
  return [SNAPD_DEFAULT_CONFIG, ...SNAPD_DERIVED.filter(exists)];
}

/** cloud-init's NET_CONFIG_TO_V2: v1 bond and bridge parameters by their v2 names (null: no v2 name, dropped). */
const BOND_TO_V2: Record<string, string> = {
  "bond-ad-select": "ad-select",
  "bond-arp-interval": "arp-interval",
  "bond-arp-ip-target": "arp-ip-target",
  "bond-arp-validate": "arp-validate",
  "bond-downdelay": "down-delay",
  "bond-fail-over-mac": "fail-over-mac-policy",
  "bond-lacp-rate": "lacp-rate",
  "bond-miimon": "mii-monitor-interval",
  "bond-min-links": "min-links",
  "bond-mode": "mode",
  "bond-num-grat-arp": "gratuitous-arp",
  "bond-primary": "primary",
  "bond-primary-reselect": "primary-reselect-policy",
  "bond-updelay": "up-delay",
  "bond-xmit-hash-policy": "transmit-hash-policy",
};
const BRIDGE_TO_V2: Record<string, string | null> = {
  bridge_ageing: "ageing-time",
  bridge_bridgeprio: "priority",
  bridge_fd: "forward-delay",
  bridge_gcint: null,
  bridge_hello: "hello-time",
  bridge_maxage: "max-age",
  bridge_maxwait: null,
  bridge_pathcost: "path-cost",
  bridge_portprio: "port-priority",
  bridge_stp: "stp",
  bridge_waitport: null,
};

type Entry = Record<string, unknown>;

/** "a b" -> ["a", "b"], as cloud-init's _listify. */
function listify(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v !== "string" || v === "") return [];
  return v.split(" ");
}

/** cloud-init's _extract_addresses: subnets, interface MTU and accept-ra into a v2 entry. */
function extractAddresses(iface: Iface, entry: Entry): void {
  const addresses: string[] = [];
  const routes: Entry[] = [];
  const nameservers: unknown[] = [];
  const search: unknown[] = [];
  for (const sn of iface.subnets) {
    if (sn.type.startsWith("dhcp")) entry[sn.type === "dhcp" ? "dhcp4" : sn.type] = true;
    else if (["ipv6_dhcpv6-stateless", "ipv6_dhcpv6-stateful", "ipv6_slaac"].includes(sn.type)) entry.dhcp6 = true;
    else if (sn.type === "static" || sn.type === "static6") {
      let addr = `${sn.address}`;
      if (sn.prefix !== undefined) addr += `/${sn.prefix}`;
      if (sn.gateway) entry[sn.gateway.includes(":") ? "gateway6" : "gateway4"] = sn.gateway;
      if (sn.dns_nameservers) nameservers.push(...listify(sn.dns_nameservers));
      if (sn.dns_search) search.push(...listify(sn.dns_search));
      // netplan's features are not asked for (netplan info): the MTU is "mtu", as without ipv6-mtu.
      if (sn.mtu !== undefined) entry.mtu = sn.mtu;
      for (const r of sn.routes) routes.push({ via: r.gateway, to: `${r.network}/${r.prefix}`, ...(r.metric !== undefined ? { metric: r.metric } : {}) });
      addresses.push(addr);
    }
  }
  if (iface.mtu !== null) {
    // A subnet's MTU wins over the interface's, as in cloud-init.
    if (!(entry.mtu && entry.mtu !== iface.mtu)) entry.mtu = iface.mtu;
  }
  if (addresses.length) entry.addresses = addresses;
  if (routes.length) entry.routes = routes;
  if (nameservers.length) entry.nameservers = { addresses: nameservers };
  if (search.length) entry.nameservers = { ...((entry.nameservers as Entry) ?? {}), search };
  if (iface.accept_ra !== null) entry["accept-ra"] = iface.accept_ra;
}

function paramsByPrefix(iface: Iface, prefixes: string[]): Array<[string, unknown]> {
  return Object.entries(iface.options).filter(([k]) => prefixes.some((p) => k.startsWith(p)));
}

/** The v1 network state as cloud-init's netplan renderer builds it. */
function fromV1(ns: NetworkState): string {
  const sections: Record<"ethernets" | "wifis" | "bonds" | "bridges" | "vlans", Record<string, Entry>> = { ethernets: {}, wifis: {}, bonds: {}, bridges: {}, vlans: {} };
  for (const iface of ns.interfaces.values()) {
    const name = iface.name;
    if (iface.type === "physical") {
      const eth: Entry = {};
      if (iface.mac_address) {
        eth["set-name"] = name;
        eth.match = { macaddress: iface.mac_address.toLowerCase() };
      }
      extractAddresses(iface, eth);
      sections.ethernets[name] = eth;
    } else if (iface.type === "bond") {
      const bond: Entry = {};
      const params: Entry = {};
      for (const [k, v] of paramsByPrefix(iface, ["bond_", "bond-"])) {
        const to = BOND_TO_V2[k.replace(/_/g, "-")];
        if (to) params[to] = v;
      }
      if (Object.keys(params).length) bond.parameters = params;
      if (iface.mac_address) bond.macaddress = iface.mac_address.toLowerCase();
      if (iface.options["bond-slaves"] === "none") {
        const slaves = [...ns.interfaces.values()].filter((i) => i.options["bond-master"] === name).map((i) => i.name).sort();
        if (slaves.length) bond.interfaces = slaves;
      }
      extractAddresses(iface, bond);
      sections.bonds[name] = bond;
    } else if (iface.type === "bridge") {
      const ports = iface.options.bridge_ports;
      const bridge: Entry = { interfaces: Array.isArray(ports) ? [...ports].map(String).sort() : [] };
      const params: Entry = {};
      for (const [k, v] of paramsByPrefix(iface, ["bridge_"])) {
        const to = BRIDGE_TO_V2[k];
        if (!to) continue;
        // "<port> <value>" pairs become {port: value}.
        params[to] = to === "path-cost" || to === "port-priority" ? Object.fromEntries((Array.isArray(v) ? v : []).map((p) => String(p).split(/\s+/)).map(([port, val]) => [port, Number.parseInt(val ?? "", 10)])) : v;
      }
      if (Object.keys(params).length) bridge.parameters = params;
      if (iface.mac_address) bridge.macaddress = iface.mac_address.toLowerCase();
      extractAddresses(iface, bridge);
      sections.bridges[name] = bridge;
    } else if (iface.type === "vlan") {
      const vlan: Entry = { id: iface.options.vlan_id ?? null, link: iface.options["vlan-raw-device"] ?? null };
      if (iface.mac_address) vlan.macaddress = iface.mac_address.toLowerCase();
      extractAddresses(iface, vlan);
      sections.vlans[name] = vlan;
    }
  }
  // The global nameservers go to every interface that has addresses and no nameservers of its own.
  if (ns.dns.nameservers.length || ns.dns.search.length) {
    for (const section of Object.values(sections)) {
      for (const entry of Object.values(section)) {
        if (!("nameservers" in entry) && "addresses" in entry) entry.nameservers = { addresses: [...ns.dns.nameservers], search: [...ns.dns.search] };
      }
    }
  }
  const out = ["network:\n    version: 2\n"];
  for (const name of ["ethernets", "wifis", "bonds", "bridges", "vlans"] as const) {
    if (Object.keys(sections[name]).length === 0) continue;
    out.push(pyyamlDump({ [name]: sections[name] }).replace(/^(?=.)/gm, "    "));
  }
  return out.join("");
}

/**
 * /etc/netplan/50-cloud-init.yaml for the state; `v2Document` is the version 2 document
 * as given (without its network: key), which cloud-init writes back as it is.
 */
export function renderNetplan(ns: NetworkState, v2Document: unknown): Map<string, string> {
  // A document still under its network: key is written without it, as cloud-init reads it.
  const doc = v2Document !== null && typeof v2Document === "object" && "network" in v2Document && !("version" in v2Document) ? (v2Document as { network: unknown }).network : v2Document;
  const content = ns.version === 2 ? pyyamlDump({ network: doc }) : fromV1(ns);
  return new Map([[NETPLAN_FILE, ENI_HEADER + content]]);
}
