// Which archive mirrors the sources.list template gets: `primary:` and
// `security:` entries chosen by architecture as cloud-init does (the entry naming
// the machine's architecture, else the one naming "default"), a `uri:` or the
// first `search:` candidate whose host name resolves, else the distribution's
// defaults. A security mirror that is not configured is the primary one (cloud-init's rule).
import { isPlainObject } from "../../agent/merge";

export type MirrorKind = "primary" | "security";

/** Debian's defaults (package_mirrors in Debian's /etc/cloud/cloud.cfg) and cloud-init's built-in Ubuntu ones. */
export function defaultMirrors(distro: string, arch: string | null): { primary: string; security: string } {
  if (distro === "ubuntu") {
    const ports = arch !== null && !["amd64", "i386"].includes(arch);
    return ports
      ? { primary: "http://ports.ubuntu.com/ubuntu-ports", security: "http://ports.ubuntu.com/ubuntu-ports" }
      : { primary: "http://archive.ubuntu.com/ubuntu/", security: "http://security.ubuntu.com/ubuntu/" };
  }
  return { primary: "https://deb.debian.org/debian", security: "https://deb.debian.org/debian-security" };
}

export interface MirrorChoice {
  /** The entry that applies (its index in the list), or null when none names the arch or "default". */
  index: number | null;
  entry: Record<string, unknown> | null;
}

/** The mirror entry for `arch`: the first naming it, else the last naming "default" (cloud-init's order). */
export function chooseEntry(list: unknown, arch: string | null): MirrorChoice {
  if (!Array.isArray(list)) return { index: null, entry: null };
  let fallback: MirrorChoice = { index: null, entry: null };
  for (const [i, e] of list.entries()) {
    if (!isPlainObject(e)) continue;
    const arches = Array.isArray(e.arches) ? e.arches.map(String) : [];
    if (arch !== null && arches.includes(arch)) return { index: i, entry: e };
    if (arches.includes("default")) fallback = { index: i, entry: e };
  }
  return fallback;
}

/** Whether choosing needs the machine's architecture (an entry names one other than "default"). */
export function needsArch(...lists: unknown[]): boolean {
  return lists.some((l) => Array.isArray(l) && l.some((e) => isPlainObject(e) && Array.isArray(e.arches) && e.arches.some((a) => a !== "default")));
}

const MIRROR_URL = /^(https?|ftp|file|mirror\+[a-z]+|tor\+https?):\/\/[^\s"']+$/i;

/** Why a mirror URL is unusable, or null. */
export function mirrorUrlProblem(url: unknown): string | null {
  if (typeof url !== "string") return `is ${url === null ? "null" : typeof url}, not a URL string`;
  const u = url.trim();
  if (!MIRROR_URL.test(u)) return `${JSON.stringify(url)} is not a mirror URL: write e.g. "http://mirror.example.com/debian"`;
  if (!/^file:/i.test(u) && !hostOf(u)) return `${JSON.stringify(url)} has no host name: write e.g. "http://mirror.example.com/debian"`;
  return null;
}

/** The host name of a URL, for the resolver check of `search:` candidates. */
export function hostOf(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/i.exec(url.trim());
  return m ? m[1]!.replace(/^\[|\]$/g, "") : null;
}
