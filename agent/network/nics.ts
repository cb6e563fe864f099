// The NICs of the machine being configured, from /sys/class/net under the target
// root (never the build host's own when --root is elsewhere), and cloud-init's
// choice of the NIC a DHCP fallback goes to. Reads only; a missing /sys is no NICs.
import type { TargetRoot } from "../host/types";

export interface Nic {
  name: string;
  /** Lower case; null for devices without one (tun). */
  mac: string | null;
  carrier: boolean;
  /** Could get a carrier once brought up (dormant, or down/unknown operstate). */
  mayConnect: boolean;
  /** Bridges, bonds, VLANs and veths: not a NIC of its own. */
  virtual: boolean;
}

const SYS_CLASS_NET = "/sys/class/net";

function attr(root: TargetRoot, name: string, file: string): string | null {
  try {
    return root.tryReadText(`${SYS_CLASS_NET}/${name}/${file}`, 4096)?.trim() ?? null;
  } catch {
    return null; // unreadable attributes (carrier of a down link is EINVAL) count as absent
  }
}

export function readNics(root: TargetRoot): Nic[] {
  let names: string[];
  try {
    names = root.readdir(SYS_CLASS_NET);
  } catch {
    return [];
  }
  const out: Nic[] = [];
  for (const name of names.sort()) {
    if (name === "lo") continue;
    const mac = attr(root, name, "address")?.toLowerCase() || null;
    const virtual =
      name.startsWith("veth") ||
      root.exists(`${SYS_CLASS_NET}/${name}/bridge`) ||
      root.exists(`${SYS_CLASS_NET}/${name}/bonding`) ||
      /^DEVTYPE=vlan$/m.test(attr(root, name, "uevent") ?? "");
    const operstate = attr(root, name, "operstate");
    out.push({
      name,
      mac: mac && !/^(00:)*00$/.test(mac) ? mac : null,
      carrier: attr(root, name, "carrier") === "1",
      mayConnect: attr(root, name, "dormant") === "1" || ["dormant", "down", "lowerlayerdown", "unknown"].includes(operstate ?? ""),
      virtual,
    });
  }
  return out;
}

/** MAC -> current name of the machine's own NICs (what v2's match.macaddress finds). */
export function nicsByMac(nics: Nic[]): Map<string, string> {
  return new Map(nics.filter((n) => n.mac && !n.virtual).map((n) => [n.mac!, n.name]));
}

/** cloud-init's natural sort: eth2 before eth10. */
function naturalKey(s: string): Array<string | number> {
  return s.split(/(\d+)/).map((p) => (/^\d+$/.test(p) ? Number(p) : p.toLowerCase()));
}

function naturalCompare(a: string, b: string): number {
  const ka = naturalKey(a);
  const kb = naturalKey(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] === kb[i]) continue;
    return ka[i]! < kb[i]! ? -1 : 1;
  }
  return ka.length - kb.length;
}

/** The NIC cloud-init's fallback picks: the one most likely plugged in (a carrier first, eth0 first among equals); null when none. */
export function fallbackNic(nics: Nic[]): Nic | null {
  const pick = (list: Nic[]) => {
    const names = list.map((n) => n.name).sort(naturalCompare);
    return names.includes("eth0") ? "eth0" : names[0];
  };
  const usable = nics.filter((n) => n.mac && !n.virtual);
  const name = pick(usable.filter((n) => n.carrier)) ?? pick(usable.filter((n) => !n.carrier && n.mayConnect));
  return name === undefined ? null : usable.find((n) => n.name === name)!;
}

/**
 * cloud-init's fallback when no network-config is given: DHCPv4 on the fallback NIC,
 * matched by its MAC. Null when the machine has no such NIC.
 */
export function fallbackConfig(nics: Nic[]): { version: 2; ethernets: Record<string, unknown> } | null {
  const nic = fallbackNic(nics);
  if (!nic) return null;
  return { version: 2, ethernets: { [nic.name]: { dhcp4: true, "set-name": nic.name, match: { macaddress: nic.mac! } } } };
}
