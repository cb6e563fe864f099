// The systemd-networkd renderer, for images without ifupdown: per interface a
// .network file (addresses, DHCP, gateways, routes, DNS, its bond or bridge), a
// .netdev for each bond, bridge and VLAN, and a .link that gives a MAC its name.
// Not cloud-init 22.4.2's networkd output: that renderer is marked experimental,
// writes no .netdev (bonds, bridges and VLANs never come up) and puts every global
// route on every interface; the file names (10-cloud-init-<name>.*) are its. Pure.
import { isIPv6 } from "./ip";
import { subnetIsIPv6, type Iface, type NetworkState, type Route } from "./state";

export const NETWORKD_DIR = "/etc/systemd/network";

const BOND_MODES = ["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"];
// ENI bond options -> [Bond] settings; the *Sec ones are milliseconds in ENI.
const BOND_SETTINGS: Record<string, [string, "ms" | "plain"]> = {
  "bond-miimon": ["MIIMonitorSec", "ms"],
  "bond-updelay": ["UpDelaySec", "ms"],
  "bond-downdelay": ["DownDelaySec", "ms"],
  "bond-arp-interval": ["ARPIntervalSec", "ms"],
  "bond-lacp-rate": ["LACPTransmitRate", "plain"],
  "bond-xmit-hash-policy": ["TransmitHashPolicy", "plain"],
  "bond-ad-select": ["AdSelect", "plain"],
  "bond-min-links": ["MinLinks", "plain"],
  "bond-arp-validate": ["ARPValidate", "plain"],
  "bond-fail-over-mac": ["FailOverMACPolicy", "plain"],
  "bond-num-grat-arp": ["GratuitousARP", "plain"],
  "bond-primary-reselect": ["PrimaryReselectPolicy", "plain"],
};
// ENI bridge options (seconds) -> [Bridge] settings.
const BRIDGE_SETTINGS: Record<string, string> = {
  bridge_fd: "ForwardDelaySec",
  bridge_hello: "HelloTimeSec",
  bridge_maxage: "MaxAgeSec",
  bridge_ageing: "AgeingTimeSec",
  bridge_bridgeprio: "Priority",
};

type Section = [string, string[]];

function unit(sections: Section[]): string {
  return (
    sections
      .filter(([, lines]) => lines.length > 0)
      .map(([name, lines]) => `[${name}]\n${lines.join("\n")}\n`)
      .join("\n")
  );
}

/** An address as a number, for prefix comparisons. */
function toBigInt(addr: string): { v: bigint; bits: number } {
  const v4 = (s: string) => s.split(".").reduce((a, o) => (a << 8n) + BigInt(Number(o)), 0n);
  if (!isIPv6(addr)) return { v: v4(addr), bits: 32 };
  const [head, tail] = addr.includes("::") ? addr.split("::") : [addr, undefined];
  // Each group as 16 bits; an IPv4 tail (::ffff:10.0.0.1) is two groups.
  const groups = (s: string | undefined) => (s ? s.split(":") : []).flatMap((g) => (g.includes(".") ? [v4(g) >> 16n, v4(g) & 0xffffn] : [BigInt(parseInt(g, 16))]));
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<bigint>(8 - h.length - t.length).fill(0n), ...t];
  return { v: all.reduce((a, g) => (a << 16n) + g, 0n), bits: 128 };
}

function contains(address: string, prefix: number, ip: string): boolean {
  const a = toBigInt(address);
  const b = toBigInt(ip);
  if (a.bits !== b.bits) return false;
  const shift = BigInt(a.bits - prefix);
  return a.v >> shift === b.v >> shift;
}

/** A global route goes on the interface whose address range holds its gateway. */
function ownerOf(ns: NetworkState, route: Route): string | null {
  for (const iface of ns.interfaces.values()) {
    for (const s of iface.subnets) if (s.address !== undefined && s.prefix !== undefined && contains(s.address, s.prefix, route.gateway)) return iface.name;
  }
  return null;
}

function routeSection(r: Route, metric?: number): Section {
  const lines = [`Destination=${r.network}/${r.prefix}`, `Gateway=${r.gateway}`];
  const m = r.metric ?? metric;
  if (m !== undefined) lines.push(`Metric=${m}`);
  return ["Route", lines];
}

function networkFile(ns: NetworkState, iface: Iface, globalRoutes: Route[]): string {
  const net: string[] = [];
  const addresses: Section[] = [];
  const routes: Section[] = [];
  const dhcpv4: string[] = [];
  let v4 = false;
  let v6 = false;
  let dhcpAt = false;
  for (const s of iface.subnets) {
    if (s.type === "dhcp" || s.type === "dhcp4") {
      v4 = true;
      if (s.metric !== undefined) dhcpv4.push(`RouteMetric=${s.metric}`);
    } else if (s.type === "dhcp6" || s.type === "ipv6_dhcpv6-stateful" || s.type === "ipv6_dhcpv6-stateless") v6 = true;
    if (s.type === "ipv6_slaac" || s.type === "ipv6_dhcpv6-stateless") dhcpAt = true;
    if (s.address !== undefined) addresses.push(["Address", [`Address=${s.address}/${s.prefix}`]]);
    if (s.gateway) net.push(`Gateway=${s.gateway}`);
    if (s.dns_nameservers?.length) net.push(`DNS=${s.dns_nameservers.join(" ")}`);
    if (s.dns_search?.length) net.push(`Domains=${s.dns_search.join(" ")}`);
    for (const r of s.routes) routes.push(routeSection(r, s.metric));
    if (s.mtu && !subnetIsIPv6(s) && !iface.mtu) iface = { ...iface, mtu: s.mtu };
  }
  net.unshift(`DHCP=${v4 && v6 ? "yes" : v4 ? "ipv4" : v6 ? "ipv6" : "no"}`);
  if (iface.accept_ra !== null) net.push(`IPv6AcceptRA=${iface.accept_ra ? "yes" : "no"}`);
  else if (dhcpAt) net.push("IPv6AcceptRA=yes");
  if (iface.dns) {
    if (iface.dns.nameservers.length) net.push(`DNS=${iface.dns.nameservers.join(" ")}`);
    if (iface.dns.search.length) net.push(`Domains=${iface.dns.search.join(" ")}`);
  } else if (ns.version === 1 && iface.subnets.some((s) => s.address !== undefined || s.type.startsWith("dhcp"))) {
    // v1's global nameservers: the interfaces that have an address use them (v2 puts them on each device).
    if (ns.dns.nameservers.length) net.push(`DNS=${ns.dns.nameservers.join(" ")}`);
    if (ns.dns.search.length) net.push(`Domains=${ns.dns.search.join(" ")}`);
  }
  const master = iface.options["bond-master"];
  if (typeof master === "string") net.push(`Bond=${master}`);
  for (const other of ns.interfaces.values()) {
    if (Array.isArray(other.options.bridge_ports) && other.options.bridge_ports.includes(iface.name)) net.push(`Bridge=${other.name}`);
    if (other.options["vlan-raw-device"] === iface.name) net.push(`VLAN=${other.name}`);
  }
  if (iface.subnets.length === 0 && (typeof master === "string" || net.some((l) => l.startsWith("Bridge=")))) net.push("LinkLocalAddressing=no");
  for (const r of globalRoutes) routes.push(routeSection(r));
  const match = [`Name=${iface.name}`];
  const link: string[] = [];
  if (iface.mtu) link.push(`MTUBytes=${iface.mtu}`);
  if (iface.wakeonlan) link.push("WakeOnLan=magic");
  return unit([["Match", match], ["Link", link], ["Network", [...new Set(net)]], ["DHCPv4", dhcpv4], ...addresses, ...routes]);
}

function netdevFile(iface: Iface): string | null {
  const netdev = [`Name=${iface.name}`];
  if (iface.mac_address) netdev.push(`MACAddress=${iface.mac_address.toLowerCase()}`);
  if (iface.type === "vlan") return unit([["NetDev", [...netdev, "Kind=vlan"]], ["VLAN", [`Id=${String(iface.options.vlan_id)}`]]]);
  if (iface.type === "bridge") {
    const br: string[] = [];
    if (typeof iface.options.bridge_stp === "boolean") br.push(`STP=${iface.options.bridge_stp ? "yes" : "no"}`);
    for (const [opt, key] of Object.entries(BRIDGE_SETTINGS)) if (iface.options[opt] !== undefined) br.push(`${key}=${String(iface.options[opt])}`);
    return unit([["NetDev", [...netdev, "Kind=bridge"]], ["Bridge", br]]);
  }
  if (iface.type === "bond") {
    const bond: string[] = [];
    const mode = iface.options["bond-mode"];
    if (mode !== undefined) bond.push(`Mode=${/^\d$/.test(String(mode)) ? BOND_MODES[Number(mode)] : String(mode)}`);
    for (const [opt, [key, kind]] of Object.entries(BOND_SETTINGS)) {
      const v = iface.options[opt];
      if (v !== undefined && v !== null) bond.push(`${key}=${String(v)}${kind === "ms" ? "ms" : ""}`);
    }
    return unit([["NetDev", [...netdev, "Kind=bond"]], ["Bond", bond]]);
  }
  return null;
}

/** Every file, by path: .link (renames by MAC), .netdev (virtual devices), .network. */
export function renderNetworkd(ns: NetworkState): Map<string, string> {
  const files = new Map<string, string>();
  const routesBy = new Map<string, Route[]>();
  const first = [...ns.interfaces.values()].find((i) => i.subnets.length > 0)?.name;
  for (const r of ns.routes) {
    const owner = ownerOf(ns, r) ?? first;
    if (owner) routesBy.set(owner, [...(routesBy.get(owner) ?? []), r]);
  }
  for (const iface of ns.interfaces.values()) {
    if (iface.name === "lo") continue;
    const base = `${NETWORKD_DIR}/10-cloud-init-${iface.name}`;
    if (iface.type === "physical" && iface.mac_address) {
      files.set(`${base}.link`, unit([["Match", [`MACAddress=${iface.mac_address.toLowerCase()}`]], ["Link", [`Name=${iface.name}`]]]));
    }
    const netdev = netdevFile(iface);
    if (netdev) files.set(`${base}.netdev`, netdev);
    files.set(`${base}.network`, networkFile(ns, iface, routesBy.get(iface.name) ?? []));
  }
  return files;
}
