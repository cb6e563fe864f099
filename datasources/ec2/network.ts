// The network configuration EC2's meta-data describes (network/interfaces/macs/), as
// cloud-init's convert_ec2_metadata_network_config (22.4) makes it: a version 2
// config with DHCPv4 on every NIC the machine has and the metadata lists, DHCPv6
// where the NIC has IPv6 addresses, the secondary addresses as static ones, and
// route metrics 100, 200, ... by device-number so the primary NIC's default route
// wins. Pure: the NICs (MAC -> name) and the fallback NIC come from the caller.
import { isPlainObject } from "../../agent/merge";
import type { JsonObject } from "../../agent/types";

export interface Ec2NetworkResult {
  /** Version 2 network-config, or null when the metadata describes none of this machine's NICs. */
  config: JsonObject | null;
  warnings: string[];
}

/** A leaf that cloud-init's crawl turns into a list when it has several lines. */
function asList(v: unknown): string[] | null {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return null;
}

function secondaryAddresses(nic: JsonObject, mac: string, warnings: string[]): string[] {
  const out: string[] = [];
  // Before API 2018-09-24, local-ipv4s and ipv6s are one address (a string): no secondaries.
  for (const [key, cidrKey, dflt, kind] of [
    ["local-ipv4s", "subnet-ipv4-cidr-block", "24", "ipv4"],
    ["ipv6s", "subnet-ipv6-cidr-block", "128", "ipv6"],
  ] as const) {
    const ips = asList(nic[key]);
    if (!ips || ips.length < 2) continue;
    const cidr = nic[cidrKey];
    let prefix: string = dflt;
    if (typeof cidr === "string" && cidr.split("/").length === 2) prefix = cidr.split("/")[1]!;
    else warnings.push(`EC2 meta-data: cannot read ${cidrKey} ${JSON.stringify(cidr ?? null)} of the NIC ${mac}: its secondary ${kind} addresses get /${prefix}`);
    for (const ip of ips.slice(1)) out.push(`${ip}/${prefix}`);
  }
  // cloud-init sorts them as strings.
  return out.sort();
}

/**
 * @param networkMd meta-data's `network` ({interfaces: {macs: {MAC: {...}}}})
 * @param nicsByMac the machine's NICs, lower-case MAC -> name
 * @param fallbackNic the NIC cloud-init's fallback picks (carrier, eth0 first)
 * @param full datasource.Ec2.apply_full_imds_network_config (default true): every NIC
 *   and the secondary addresses; false: only the fallback NIC, DHCP only
 */
export function ec2NetworkConfig(networkMd: unknown, nicsByMac: Map<string, string>, fallbackNic: string | null, full: boolean): Ec2NetworkResult {
  const warnings: string[] = [];
  const interfaces = isPlainObject(networkMd) ? networkMd.interfaces : undefined;
  const macsMd = isPlainObject(interfaces) ? interfaces.macs : undefined;
  if (!isPlainObject(macsMd)) {
    if (networkMd !== undefined) warnings.push("EC2 meta-data: network/interfaces/macs is missing or not a directory; using the DHCP fallback");
    return { config: null, warnings };
  }
  // The crawl keeps the service's spelling; NICs' MACs are lower case.
  const byMac = new Map(Object.entries(macsMd).map(([mac, v]) => [mac.toLowerCase(), v]));
  const ethernets: Record<string, JsonObject> = {};
  if (!full) {
    const mac = [...nicsByMac].find(([, name]) => name === fallbackNic)?.[0];
    const md = mac === undefined ? undefined : byMac.get(mac);
    if (mac === undefined || !isPlainObject(md)) return { config: null, warnings };
    ethernets[fallbackNic!] = { dhcp4: true, dhcp6: hasAddresses(md.ipv6s), match: { macaddress: mac }, "set-name": fallbackNic! };
    return { config: { version: 2, ethernets }, warnings };
  }
  let nicIdx = 0;
  // cloud-init walks the NICs sorted by MAC.
  for (const [mac, name] of [...nicsByMac].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const md = byMac.get(mac);
    if (!isPlainObject(md)) continue; // not a NIC the metadata describes
    const deviceNumber = Number.parseInt(String(md["device-number"] ?? ""), 10);
    nicIdx = (Number.isNaN(deviceNumber) ? nicIdx : deviceNumber) + 1;
    const metric = { "route-metric": nicIdx * 100 };
    const dev: JsonObject = { dhcp4: true, "dhcp4-overrides": metric, dhcp6: false, match: { macaddress: mac }, "set-name": name };
    if (hasAddresses(md.ipv6s)) {
      dev.dhcp6 = true;
      dev["dhcp6-overrides"] = metric;
    }
    const addresses = secondaryAddresses(md, mac, warnings);
    if (addresses.length) dev.addresses = addresses;
    ethernets[name] = dev;
  }
  const names = Object.keys(ethernets);
  if (names.length === 0) return { config: null, warnings };
  // One NIC: no route metrics, as cloud-init.
  if (names.length === 1) {
    delete ethernets[names[0]!]!["dhcp4-overrides"];
    delete ethernets[names[0]!]!["dhcp6-overrides"];
  }
  return { config: { version: 2, ethernets }, warnings };
}

/** cloud-init's truth test on ipv6s: a non-empty string or list. */
function hasAddresses(v: unknown): boolean {
  return (typeof v === "string" && v !== "") || (Array.isArray(v) && v.length > 0);
}
