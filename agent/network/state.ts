// network-config version 1 and version 2 (netplan style) into one network state:
// the interfaces (physical, bond, bridge, vlan) with their subnets, the global
// routes and nameservers. The conversion is cloud-init 22.4.2's
// (cloudinit/net/network_state.py), so the renderers write what it writes; where
// cloud-init skips a broken entry, writes something unusable or crashes, sprout
// refuses the whole document with the entry named, and nothing is written.
// Pure: the machine's NICs come in as a MAC -> name map.
import { isIP, isIPv6, isMac, parseNetwork, prefixToIPv4Mask } from "./ip";

export class NetworkConfigError extends Error {}

export type IfaceType = "physical" | "bond" | "bridge" | "vlan" | "infiniband" | "loopback";

export interface Route {
  network: string;
  prefix: number;
  /** IPv4 routes only. */
  netmask?: string;
  gateway: string;
  metric?: number;
}

export interface Subnet {
  /** static, static6, dhcp, dhcp4, dhcp6, ipv6_slaac, ipv6_dhcpv6-stateless, ipv6_dhcpv6-stateful, manual, loopback. */
  type: string;
  address?: string;
  prefix?: number;
  netmask?: string;
  gateway?: string;
  dns_nameservers?: string[];
  dns_search?: string[];
  mtu?: number;
  metric?: number;
  control?: string;
  broadcast?: string;
  pointopoint?: string;
  scope?: string;
  routes: Route[];
}

export interface Iface {
  name: string;
  type: IfaceType;
  mac_address: string | null;
  mtu: number | null;
  subnets: Subnet[];
  accept_ra: boolean | null;
  wakeonlan: boolean | null;
  /**
   * Options written as they are, in the order cloud-init keeps them: v1 params
   * (bond-mode, bridge_stp, driver, ...), bond-master, bond-slaves, bridge_ports,
   * vlan-raw-device, vlan_id.
   */
  options: Record<string, unknown>;
  /** Nameservers given for this interface alone. */
  dns: { nameservers: string[]; search: string[] } | null;
}

export interface NetworkState {
  version: 1 | 2;
  /** In the order cloud-init's dict keeps them (the udev rules and networkd files follow it). */
  interfaces: Map<string, Iface>;
  routes: Route[];
  dns: { nameservers: string[]; search: string[] };
  /** Things the document asked for that cloud-init ignores too (a person should hear of them). */
  warnings: string[];
}

export interface ParseOptions {
  /** The machine's NICs, lower-case MAC -> current name (v2 entries without set-name take the current name). */
  nicsByMac?: Map<string, string>;
}

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);
const truthy = (v: unknown) => !(v === null || v === undefined || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0));

const V1_TYPES = ["physical", "bond", "bridge", "vlan", "infiniband", "loopback", "nameserver", "route"];
const V2_SECTIONS = ["ethernets", "bonds", "bridges", "vlans"];

// v2 bond and bridge parameters and the v1 (ENI) options they become.
const V2_BOND_PARAMS: Record<string, string> = {
  "ad-select": "bond-ad-select",
  "arp-interval": "bond-arp-interval",
  "arp-ip-target": "bond-arp-ip-target",
  "arp-validate": "bond-arp-validate",
  "down-delay": "bond-downdelay",
  "fail-over-mac-policy": "bond-fail-over-mac",
  "lacp-rate": "bond-lacp-rate",
  "mii-monitor-interval": "bond-miimon",
  "min-links": "bond-min-links",
  mode: "bond-mode",
  "gratuitous-arp": "bond-num-grat-arp",
  primary: "bond-primary",
  "primary-reselect-policy": "bond-primary-reselect",
  "up-delay": "bond-updelay",
  "transmit-hash-policy": "bond-xmit-hash-policy",
};
const V2_BRIDGE_PARAMS: Record<string, string> = {
  "ageing-time": "bridge_ageing",
  priority: "bridge_bridgeprio",
  "forward-delay": "bridge_fd",
  "hello-time": "bridge_hello",
  "max-age": "bridge_maxage",
  "path-cost": "bridge_pathcost",
  "port-priority": "bridge_portprio",
  stp: "bridge_stp",
};

function fail(where: string, message: string): never {
  throw new NetworkConfigError(`${where}: ${message}`);
}

function isTrue(v: unknown): boolean {
  return v === true || (typeof v === "string" && ["true", "yes", "on", "1"].includes(v.toLowerCase())) || v === 1;
}

function stringList(where: string, key: string, v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === "string" ? v.split(/\s+/).filter(Boolean) : [v];
  return list.map((x) => {
    if (typeof x !== "string" && typeof x !== "number") fail(where, `${key} holds ${JSON.stringify(x)}, which is not a name or address`);
    return String(x);
  });
}

function checkIPs(where: string, key: string, list: string[]): string[] {
  for (const a of list) if (!isIP(a)) fail(where, `${key}: ${JSON.stringify(a)} is not an IP address`);
  return list;
}

function checkMac(where: string, mac: unknown): string | null {
  if (mac === undefined || mac === null || mac === "") return null;
  if (typeof mac !== "string" || !isMac(mac)) fail(where, `${JSON.stringify(mac)} is not a MAC address (write six hex pairs: 52:54:00:12:34:56)`);
  return mac;
}

function positiveInt(where: string, key: string, v: unknown): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) fail(where, `${key} ${JSON.stringify(v)} is not a whole number`);
  return n;
}

/** cloud-init's _normalize_net_keys: an address (or network) with its prefix, from addr/prefix, prefix or netmask. */
function addressAndPrefix(where: string, key: string, raw: Doc): { address: string; prefix: number; netmask?: string; v6: boolean } {
  const text = String(raw[key]);
  const net = parseNetwork(text);
  if (!net) fail(where, `${key} ${JSON.stringify(text)} is not an IP address with an optional /prefix`);
  let prefix = net.prefix;
  if (prefix === null && truthy(raw.prefix)) prefix = positiveInt(where, "prefix", raw.prefix);
  if (prefix === null && truthy(raw.netmask)) {
    const mask = parseNetwork(`${net.address}/${String(raw.netmask)}`);
    if (!mask) fail(where, `netmask ${JSON.stringify(raw.netmask)} is not a netmask for ${net.address}`);
    prefix = mask.prefix;
  }
  if (prefix === null) prefix = net.v6 ? 64 : 24;
  if (prefix > (net.v6 ? 128 : 32)) fail(where, `prefix ${prefix} is too long for ${net.address}`);
  return { address: net.address, prefix, ...(net.v6 ? {} : { netmask: prefixToIPv4Mask(prefix) }), v6: net.v6 };
}

function normalizeRoute(where: string, raw: unknown): Route {
  if (!isMap(raw)) fail(where, "a route must be a mapping with destination (or network) and gateway");
  const r: Doc = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  if (r.destination !== undefined && r.network === undefined) r.network = r.destination;
  if (r.network === undefined) fail(where, "the route has no destination");
  const net = addressAndPrefix(where, "network", r);
  if (r.gateway === undefined) fail(where, `the route to ${String(r.network)} has no gateway`);
  const gateway = String(r.gateway);
  if (!isIP(gateway)) fail(where, `gateway ${JSON.stringify(gateway)} is not an IP address`);
  const route: Route = { network: net.address, prefix: net.prefix, ...(net.netmask ? { netmask: net.netmask } : {}), gateway };
  if (truthy(r.metric)) route.metric = positiveInt(where, "metric", r.metric);
  return route;
}

const SUBNET_TYPES = ["static", "static6", "dhcp", "dhcp4", "dhcp6", "ipv6_slaac", "ipv6_dhcpv6-stateless", "ipv6_dhcpv6-stateful", "manual", "loopback"];

function normalizeSubnet(where: string, raw: unknown): Subnet {
  if (!isMap(raw)) fail(where, "a subnet must be a mapping with a type (static, dhcp, ...)");
  const type = raw.type;
  if (typeof type !== "string" || !SUBNET_TYPES.includes(type)) fail(where, `subnet type ${JSON.stringify(type)} is not one of ${SUBNET_TYPES.join(", ")}`);
  const s: Subnet = { type, routes: [] };
  if (type === "static" || type === "static6") {
    const key = truthy(raw.address) ? "address" : truthy(raw.ip_address) ? "ip_address" : null;
    if (!key) fail(where, `a ${type} subnet needs an address`);
    const a = addressAndPrefix(where, key, raw);
    s.address = a.address;
    s.prefix = a.prefix;
    if (a.netmask) s.netmask = a.netmask;
  }
  if (truthy(raw.gateway)) {
    const gw = String(raw.gateway);
    if (!isIP(gw)) fail(where, `gateway ${JSON.stringify(gw)} is not an IP address`);
    s.gateway = gw;
  }
  if (truthy(raw.dns_nameservers)) s.dns_nameservers = checkIPs(where, "dns_nameservers", stringList(where, "dns_nameservers", raw.dns_nameservers));
  if (truthy(raw.dns_search)) s.dns_search = stringList(where, "dns_search", raw.dns_search);
  if (truthy(raw.mtu)) s.mtu = positiveInt(where, "mtu", raw.mtu);
  if (truthy(raw.metric)) s.metric = positiveInt(where, "metric", raw.metric);
  for (const k of ["control", "broadcast", "pointopoint", "scope"] as const) if (truthy(raw[k])) s[k] = String(raw[k]);
  if (raw.routes !== undefined && !Array.isArray(raw.routes)) fail(where, "routes must be a list");
  s.routes = ((raw.routes as unknown[] | undefined) ?? []).map((r, i) => normalizeRoute(`${where} routes[${i}]`, r));
  return s;
}

class Interpreter {
  readonly interfaces = new Map<string, Iface>();
  readonly routes: Route[] = [];
  readonly dns = { nameservers: [] as string[], search: [] as string[] };
  readonly warnings: string[] = [];
  /** Interfaces the document defines itself (bond and bridge members must be among them). */
  readonly defined = new Set<string>();
  readonly references: Array<{ where: string; name: string; what: string }> = [];

  physical(where: string, cmd: Doc): Iface {
    if (typeof cmd.name !== "string" && typeof cmd.name !== "number") fail(where, "the entry has no name");
    const name = String(cmd.name);
    if (!/^[^\s/:]{1,15}$/.test(name)) fail(where, `${JSON.stringify(name)} is not an interface name (at most 15 characters, no spaces, / or :)`);
    const iface: Iface = this.interfaces.get(name) ?? { name, type: "physical", mac_address: null, mtu: null, subnets: [], accept_ra: null, wakeonlan: null, options: {}, dns: null };
    if (cmd.params !== undefined && !isMap(cmd.params)) fail(where, "params must be a mapping");
    for (const [k, v] of Object.entries((cmd.params as Doc | undefined) ?? {})) iface.options[k] = v;
    if (cmd.subnets !== undefined && cmd.subnets !== null && !Array.isArray(cmd.subnets)) fail(where, "subnets must be a list");
    iface.type = (cmd.type as IfaceType) ?? "physical";
    iface.mac_address = checkMac(`${where} mac_address`, cmd.mac_address);
    iface.mtu = truthy(cmd.mtu) ? positiveInt(where, "mtu", cmd.mtu) : null;
    iface.subnets = ((cmd.subnets as unknown[] | undefined) ?? []).map((s, i) => normalizeSubnet(`${where} subnets[${i}]`, s));
    iface.accept_ra = cmd["accept-ra"] === undefined || cmd["accept-ra"] === null ? null : isTrue(cmd["accept-ra"]);
    iface.wakeonlan = cmd.wakeonlan === undefined || cmd.wakeonlan === null ? null : isTrue(cmd.wakeonlan);
    this.interfaces.set(name, iface);
    this.defined.add(name);
    return iface;
  }

  vlan(where: string, cmd: Doc): void {
    if (cmd.vlan_id === undefined || cmd.vlan_id === null) fail(where, "a vlan needs vlan_id (v2: id)");
    if (typeof cmd.vlan_link !== "string") fail(where, "a vlan needs vlan_link (v2: link), the interface it runs on");
    const id = positiveInt(where, "vlan_id", cmd.vlan_id);
    if (id < 1 || id > 4094) fail(where, `vlan_id ${id} is not between 1 and 4094`);
    const iface = this.physical(where, cmd);
    iface.options["vlan-raw-device"] = cmd.vlan_link;
    iface.options.vlan_id = cmd.vlan_id;
    this.references.push({ where, name: cmd.vlan_link, what: "vlan_link" });
  }

  bond(where: string, cmd: Doc): void {
    if (!Array.isArray(cmd.bond_interfaces) || cmd.bond_interfaces.length === 0) fail(where, "a bond needs bond_interfaces (v2: interfaces), the interfaces it bonds");
    if (!isMap(cmd.params)) fail(where, "a bond needs params (at least bond-mode)");
    const iface = this.physical(where, cmd);
    for (const [k, v] of Object.entries(cmd.params)) iface.options[k] = v;
    iface.options["bond-slaves"] = "none";
    for (const member of stringList(where, "bond_interfaces", cmd.bond_interfaces)) {
      this.references.push({ where, name: member, what: "bond_interfaces" });
      const m = this.interfaces.get(member) ?? { name: member, type: "bond" as IfaceType, mac_address: null, mtu: null, subnets: [], accept_ra: null, wakeonlan: null, options: {}, dns: null };
      m.options["bond-master"] = iface.name;
      for (const [k, v] of Object.entries(cmd.params)) m.options[k] = v;
      this.interfaces.set(member, m);
    }
  }

  bridge(where: string, cmd: Doc): void {
    if (!Array.isArray(cmd.bridge_interfaces)) fail(where, "a bridge needs bridge_interfaces (v2: interfaces), a list of its ports");
    const ports = stringList(where, "bridge_interfaces", cmd.bridge_interfaces);
    for (const port of ports) {
      this.references.push({ where, name: port, what: "bridge_interfaces" });
      if (!this.interfaces.has(port)) this.interfaces.set(port, { name: port, type: "physical", mac_address: null, mtu: null, subnets: [], accept_ra: null, wakeonlan: null, options: {}, dns: null });
    }
    const iface = this.physical(where, cmd);
    iface.options.bridge_ports = ports;
    const stp = iface.options.bridge_stp;
    if (stp !== undefined && typeof stp !== "boolean") {
      if (["on", "1", 1].includes(stp as string | number)) iface.options.bridge_stp = true;
      else if (["off", "0", 0].includes(stp as string | number)) iface.options.bridge_stp = false;
      else fail(where, `bridge_stp ${JSON.stringify(stp)} is not on or off`);
    }
  }

  nameserver(where: string, cmd: Doc, iface?: string): void {
    const addresses = cmd.address === undefined ? [] : checkIPs(where, "address", stringList(where, "address", cmd.address));
    const search = cmd.search === undefined ? [] : stringList(where, "search", cmd.search);
    if (iface === undefined) {
      this.dns.nameservers.push(...addresses);
      this.dns.search.push(...search);
    } else {
      const target = this.interfaces.get(iface);
      if (!target) fail(where, `nameservers are given for interface ${iface}, which the network-config does not define`);
      target.dns = { nameservers: addresses, search };
    }
  }

  checkReferences(): void {
    for (const r of this.references) {
      if (!this.defined.has(r.name)) fail(r.where, `${r.what} names ${r.name}, which the network-config does not define; add it (v1: a physical entry, v2: under ethernets)`);
    }
  }
}

function parseV1(config: unknown, nsi: Interpreter): void {
  if (!Array.isArray(config)) fail("network-config", "version 1 needs `config:`, a list of entries (type: physical, bond, vlan, bridge, nameserver, route)");
  const perInterfaceDns: Array<{ where: string; cmd: Doc; iface: string }> = [];
  config.forEach((cmd, i) => {
    const label = isMap(cmd) && (typeof cmd.name === "string" || typeof cmd.type === "string") ? ` (${[cmd.type, cmd.name].filter((x) => typeof x === "string").join(" ")})` : "";
    const where = `config[${i}]${label}`;
    if (!isMap(cmd)) fail(where, "an entry must be a mapping with a type");
    if (typeof cmd.type !== "string" || !V1_TYPES.includes(cmd.type)) fail(where, `type ${JSON.stringify(cmd.type)} is not one of ${V1_TYPES.join(", ")}`);
    switch (cmd.type) {
      case "physical":
      case "infiniband":
      case "loopback":
        nsi.physical(where, cmd);
        break;
      case "vlan":
        nsi.vlan(where, cmd);
        break;
      case "bond":
        nsi.bond(where, cmd);
        break;
      case "bridge":
        nsi.bridge(where, cmd);
        break;
      case "nameserver":
        if (cmd.address === undefined) fail(where, "a nameserver entry needs address (a list of nameserver IPs)");
        if (cmd.interface !== undefined) perInterfaceDns.push({ where, cmd, iface: String(cmd.interface) });
        else nsi.nameserver(where, cmd);
        break;
      case "route":
        if (cmd.destination === undefined) fail(where, "a route entry needs destination (network/prefix)");
        nsi.routes.push(normalizeRoute(where, cmd));
        break;
    }
  });
  for (const d of perInterfaceDns) nsi.nameserver(d.where, d.cmd, d.iface);
}

/** v2 addresses, dhcp and routes as v1 subnets (cloud-init's _v2_to_v1_ipcfg). */
function v2Subnets(where: string, cfg: Doc, nsi: Interpreter): Doc[] {
  const subnets: Doc[] = [];
  const overrides = (k: string, subnet: Doc) => {
    const o = cfg[k];
    if (isMap(o) && o["route-metric"] !== undefined) subnet.metric = o["route-metric"];
  };
  if (isTrue(cfg.dhcp4)) {
    const s: Doc = { type: "dhcp4" };
    overrides("dhcp4-overrides", s);
    subnets.push(s);
  }
  if (isTrue(cfg.dhcp6)) {
    const s: Doc = { type: "dhcp6" };
    overrides("dhcp6-overrides", s);
    subnets.push(s);
  }
  if (cfg.addresses !== undefined && !Array.isArray(cfg.addresses)) fail(where, "addresses must be a list of address/prefix");
  if (cfg.nameservers !== undefined && !isMap(cfg.nameservers)) fail(where, "nameservers must be a mapping with addresses and search");
  let gateway4: unknown = null;
  let gateway6: unknown = null;
  let nameservers: Doc | null = null;
  for (const address of (cfg.addresses as unknown[] | undefined) ?? []) {
    if (typeof address !== "string") fail(where, `addresses: ${JSON.stringify(address)} is not an address/prefix (quote it)`);
    const subnet: Doc = { type: "static", address };
    if (address.includes(":")) {
      if (cfg.gateway6 !== undefined && gateway6 === null) subnet.gateway = gateway6 = cfg.gateway6;
    } else if (cfg.gateway4 !== undefined && gateway4 === null) subnet.gateway = gateway4 = cfg.gateway4;
    if (isMap(cfg.nameservers) && nameservers === null) {
      nameservers = {};
      if (truthy(cfg.nameservers.addresses)) nameservers.dns_nameservers = cfg.nameservers.addresses;
      if (truthy(cfg.nameservers.search)) nameservers.dns_search = cfg.nameservers.search;
      Object.assign(subnet, nameservers);
    }
    subnets.push(subnet);
  }
  if (cfg.routes !== undefined && !Array.isArray(cfg.routes)) fail(where, "routes must be a list of {to, via}");
  const routes = ((cfg.routes as unknown[] | undefined) ?? []).map((r, i) => {
    if (!isMap(r)) fail(`${where} routes[${i}]`, "a route must be a mapping with to and via");
    return { destination: r.to, gateway: r.via, metric: r.metric };
  });
  if (routes.length && subnets.length) subnets[0]!.routes = routes;
  else if (routes.length) nsi.warnings.push(`${where}: routes are ignored on an interface without addresses or dhcp (as cloud-init does)`);
  if ((cfg.gateway4 !== undefined || cfg.gateway6 !== undefined) && !(cfg.addresses as unknown[] | undefined)?.length) nsi.warnings.push(`${where}: gateway4/gateway6 are ignored without addresses (as cloud-init does)`);
  return subnets;
}

function parseV2(doc: Doc, nsi: Interpreter, nicsByMac: Map<string, string>): void {
  for (const [section, body] of Object.entries(doc)) {
    if (section === "version" || section === "renderer") continue;
    if (section === "wifis") {
      nsi.warnings.push("network-config: wifis are written only for netplan, as cloud-init does; ifupdown and systemd-networkd leave them out");
      continue;
    }
    if (!V2_SECTIONS.includes(section)) fail(`network-config ${section}`, `unknown section; version 2 has ${V2_SECTIONS.join(", ")}`);
    if (body === null || body === undefined) continue;
    if (!isMap(body)) fail(`network-config ${section}`, "must be a mapping of interface names to their settings");
    const devNames: Array<[string, Doc, string]> = [];
    for (const [key, raw] of Object.entries(body)) {
      const where = `${section}.${key}`;
      const cfg: Doc = raw === null ? {} : (raw as Doc);
      if (!isMap(cfg)) fail(where, "must be a mapping of settings");
      if (cfg.match !== undefined && !isMap(cfg.match)) fail(where, "match must be a mapping (macaddress, name, driver)");
      const match = (cfg.match as Doc | undefined) ?? {};
      const common: Doc = { name: key };
      if (cfg.mtu !== undefined) common.mtu = cfg.mtu;
      const subnets = v2Subnets(where, cfg, nsi);
      if (subnets.length) common.subnets = subnets;
      let name = key;
      if (section === "ethernets") {
        const mac = checkMac(`${where} match.macaddress`, match.macaddress);
        if (typeof cfg["set-name"] === "string" && cfg["set-name"]) name = cfg["set-name"];
        else if (mac && nicsByMac.has(mac.toLowerCase())) name = nicsByMac.get(mac.toLowerCase())!;
        const cmd: Doc = { ...common, type: "physical", name, mac_address: mac };
        if (typeof match.driver === "string") cmd.params = { driver: match.driver };
        for (const k of ["wakeonlan", "accept-ra"]) if (k in cfg) cmd[k] = cfg[k];
        nsi.physical(where, cmd);
      } else if (section === "vlans") {
        nsi.vlan(where, { ...common, type: "vlan", vlan_id: cfg.id, vlan_link: cfg.link });
      } else {
        const table = section === "bonds" ? V2_BOND_PARAMS : V2_BRIDGE_PARAMS;
        const params: Doc = {};
        if (cfg.parameters !== undefined && !isMap(cfg.parameters)) fail(where, "parameters must be a mapping");
        for (const [k, v] of Object.entries((cfg.parameters as Doc | undefined) ?? {})) {
          const v1 = table[k === "gratuitious-arp" ? "gratuitous-arp" : k];
          if (!v1) fail(`${where}.parameters`, `${k} is not a ${section === "bonds" ? "bond" : "bridge"} parameter sprout knows (${Object.keys(table).join(", ")})`);
          params[v1] = v;
        }
        if (section === "bonds") nsi.bond(where, { ...common, type: "bond", bond_interfaces: cfg.interfaces, params });
        else nsi.bridge(where, { ...common, type: "bridge", bridge_interfaces: cfg.interfaces ?? [], params });
      }
      devNames.push([key, cfg, name]);
    }
    // Nameservers: global, and the interface's own (cloud-init's _v2_common).
    for (const [key, cfg, name] of devNames) {
      if (!isMap(cfg.nameservers)) continue;
      const cmd: Doc = {};
      if (truthy(cfg.nameservers.addresses)) cmd.address = cfg.nameservers.addresses;
      if (truthy(cfg.nameservers.search)) cmd.search = cfg.nameservers.search;
      nsi.nameserver(`${section}.${key}.nameservers`, cmd);
      nsi.nameserver(`${section}.${key}.nameservers`, cmd, name);
    }
  }
}

/**
 * The network state of a network-config document (version 1 or 2; a top-level
 * `network:` wrapper is accepted). Throws NetworkConfigError naming the entry.
 */
export function parseNetworkConfig(input: unknown, opts: ParseOptions = {}): NetworkState {
  let doc = input;
  if (isMap(doc) && isMap(doc.network) && doc.version === undefined) doc = doc.network;
  if (!isMap(doc)) fail("network-config", "is not a mapping; it starts with `version: 1` or `version: 2`");
  const nsi = new Interpreter();
  if (doc.version === 1) parseV1(doc.config, nsi);
  else if (doc.version === 2) parseV2(doc, nsi, opts.nicsByMac ?? new Map());
  else fail("network-config", `version ${JSON.stringify(doc.version ?? null)} is not supported; write version: 1 or version: 2`);
  nsi.checkReferences();
  return { version: doc.version, interfaces: nsi.interfaces, routes: nsi.routes, dns: nsi.dns, warnings: nsi.warnings };
}

export function subnetIsIPv6(s: Subnet): boolean {
  if (s.type.endsWith("6") || ["ipv6_slaac", "ipv6_dhcpv6-stateless", "ipv6_dhcpv6-stateful"].includes(s.type)) return true;
  return s.type === "static" && s.address !== undefined && isIPv6(s.address);
}
