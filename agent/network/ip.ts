// IP addresses, prefixes, netmasks and MAC addresses as network-config writes them.
// Pure (node:net is the host layer's): only syntax is checked, as `ip` would.

export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return false;
  let text = s;
  let groupsNeeded = 8;
  // An embedded IPv4 tail (::ffff:10.0.0.1) counts as two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!isIPv4(tail)) return false;
    text = text.slice(0, lastColon + 1) + "0";
    groupsNeeded = 7;
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < groupsNeeded : all.length === groupsNeeded;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** The prefix length of a dotted IPv4 netmask (255.255.255.0 -> 24), or null when it is not a contiguous mask. */
export function ipv4MaskToPrefix(mask: string): number | null {
  if (/^\d{1,2}$/.test(mask)) return Number(mask) <= 32 ? Number(mask) : null;
  if (!isIPv4(mask)) return null;
  const bits = mask
    .split(".")
    .map((o) => Number(o).toString(2).padStart(8, "0"))
    .join("");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : null;
}

export function prefixToIPv4Mask(prefix: number): string {
  const bits = "1".repeat(prefix).padEnd(32, "0");
  return [0, 8, 16, 24].map((i) => parseInt(bits.slice(i, i + 8), 2)).join(".");
}

/** An IPv6 prefix: a number 0-128 (cloud-init also takes an IPv6 netmask, rarely written). */
export function ipv6MaskToPrefix(mask: string): number | null {
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= 128 ? Number(mask) : null;
  return null;
}

/** An address with an optional /prefix (or /netmask for IPv4): its parts, or null when it is not one. */
export function parseNetwork(text: string): { address: string; prefix: number | null; v6: boolean } | null {
  const [address, maybePrefix, extra] = text.split("/");
  if (extra !== undefined || address === undefined) return null;
  const v6 = isIPv6(address);
  if (!v6 && !isIPv4(address)) return null;
  if (maybePrefix === undefined) return { address, prefix: null, v6 };
  const prefix = v6 ? ipv6MaskToPrefix(maybePrefix) : ipv4MaskToPrefix(maybePrefix);
  return prefix === null ? null : { address, prefix, v6 };
}

/** Ethernet (6 bytes) or InfiniBand (20 bytes) hardware address, colon separated. */
export function isMac(s: string): boolean {
  return /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s) || /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){19}$/.test(s);
}
