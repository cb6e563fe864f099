// Pure parts of the Ec2 datasource: platform identification from DMI, the
// metadata service's listings, API version choice, and the tree the crawl builds.
import type { JsonObject } from "../../agent/types";

/** API versions sprout reads, newest first. 2009-04-04 is the oldest every EC2 copy serves. */
export const API_VERSIONS = ["2021-03-23", "2018-09-24", "2016-09-02"] as const;
export const FALLBACK_API_VERSION = "2009-04-04";

/**
 * True for an EC2 system UUID in either byte order: "ec2e1916-..." as written,
 * or with the first field's bytes swapped ("45e12aec-..."), which is how some
 * firmware reports SMBIOS UUIDs (little-endian first fields).
 */
export function isEc2Uuid(uuid: string): boolean {
  const u = uuid.trim().toLowerCase();
  if (u.startsWith("ec2")) return true;
  const first = /^([0-9a-f]{8})-/.exec(u)?.[1];
  if (!first) return false;
  const swapped = first.match(/../g)!.reverse().join("");
  return swapped.startsWith("ec2");
}

export interface Ec2PlatformFacts {
  productUuid: string | null;
  hypervisorUuid: string | null;
  sysVendor: string | null;
  productName: string | null;
  boardAssetTag: string | null;
}

/** Why this machine looks like EC2, or null. Never guesses from anything but firmware facts. */
export function ec2PlatformReason(f: Ec2PlatformFacts): string | null {
  if (f.hypervisorUuid && isEc2Uuid(f.hypervisorUuid)) return `/sys/hypervisor/uuid ${f.hypervisorUuid.trim()} is an EC2 uuid`;
  if (f.productUuid && isEc2Uuid(f.productUuid)) return `DMI product_uuid ${f.productUuid.trim()} is an EC2 uuid`;
  for (const [field, value] of [
    ["sys_vendor", f.sysVendor],
    ["product_name", f.productName],
    ["board_asset_tag", f.boardAssetTag],
  ] as const) {
    if (value && /\bamazon\b/i.test(value)) return `DMI ${field} is ${JSON.stringify(value.trim())}`;
  }
  return null;
}

export interface ListingEntry {
  /** The key in the tree. */
  name: string;
  /** The path to fetch, relative to the listing. */
  resource: string;
  dir: boolean;
}

export interface Listing {
  entries: ListingEntry[];
  /** Lines that are not safe path segments (".." and the like), left out. */
  rejected: string[];
}

// A segment a service may list: no "/", no "..", no whitespace or control characters.
const SAFE_SEGMENT = /^(?!\.\.?$)[^/\s\x00-\x1f\x7f]+$/;

/**
 * One directory listing: a name per line, a trailing "/" marks a directory.
 * `0=name` (public-keys) is the key named `name`, read from `0/openssh-key`.
 */
export function parseListing(text: string): Listing {
  const entries: ListingEntry[] = [];
  const rejected: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const dir = line.endsWith("/");
    const field = dir ? line.slice(0, -1) : line;
    let name = field;
    let resource = field;
    const eq = field.indexOf("=");
    const keyed = !dir && eq > 0 && /^\d+$/.test(field.slice(0, eq));
    if (keyed) {
      name = field.slice(eq + 1);
      resource = `${field.slice(0, eq)}/openssh-key`;
    }
    const segment = keyed ? field.slice(0, eq) : field;
    if (!SAFE_SEGMENT.test(segment) || !name || /[\x00-\x1f\x7f]/.test(name) || name === "__proto__") {
      rejected.push(line);
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    entries.push({ name, resource: dir ? `${resource}/` : resource, dir });
  }
  return { entries, rejected };
}

/** The newest API version sprout reads among those the service lists. */
export function chooseApiVersion(listing: string): string {
  const offered = new Set(listing.split(/\r?\n/).map((l) => l.trim().replace(/\/$/, "")));
  return API_VERSIONS.find((v) => offered.has(v)) ?? FALLBACK_API_VERSION;
}

/** An HTML page where data was expected: a proxy, a captive portal or a web server answers instead of the service. */
export function htmlTitle(body: Buffer, contentType: string | undefined): string | null {
  const head = body.subarray(0, 2048).toString("latin1");
  const isHtml = /text\/html/i.test(contentType ?? "") || /^\s*(<\?xml[^>]*>\s*)?<(!doctype\s+html|html)[\s>]/i.test(head);
  if (!isHtml) return null;
  const title = /<title>([^<]{0,120})<\/title>/i.exec(head)?.[1]?.trim();
  return title || "untitled page";
}

/** A session token is one printable word; anything else is not a token. */
export function isValidToken(body: string): boolean {
  return body.length > 0 && body.length <= 4096 && /^[\x21-\x7e]+$/.test(body);
}

/**
 * A leaf's value as cloud-init's crawl decodes it (MetadataLeafDecoder): the JSON object
 * when the text is one (iam/info, security-credentials), a list of lines when it has
 * several (security-groups, local-ipv4s and ipv6s of a NIC with secondary addresses),
 * else the text. Meta-data values are text; bytes that are not UTF-8 are kept readable
 * with replacement characters (only user-data is kept as bytes).
 */
export function decodeLeaf(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  const trimmed = text.trim();
  if (trimmed.startsWith("{") && trimmed.endsWith("}")) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON after all: keep the text
    }
  }
  return text.includes("\n") ? splitLines(text) : text;
}

/** Python's str.splitlines(): every line break it knows, no empty last line after a final break. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Region from the availability zone, "us-east-1a" -> "us-east-1", when nothing better says it. */
export function regionFromZone(az: string | null): string | null {
  if (!az) return null;
  const m = /^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$/.exec(az);
  return m ? m[1]! : null;
}

function str(v: unknown): string | null {
  // A value with a stray line break arrives as a list of lines (decodeLeaf).
  if (Array.isArray(v) && v.length === 1) return str(v[0]);
  return typeof v === "string" && v.trim() ? v.trim() : null;
}

function get(tree: JsonObject, path: string): unknown {
  let cur: unknown = tree;
  for (const seg of path.split("/")) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as JsonObject)[seg];
  }
  return cur;
}

export interface Ec2Summary {
  instanceId: string | null;
  localHostname: string | null;
  availabilityZone: string | null;
  region: string | null;
  instanceType: string | null;
}

/** The v1 facts, from the meta-data tree and the identity document (which wins where both say). */
export function summarize(md: JsonObject, identity: JsonObject | null): Ec2Summary {
  const az = str(identity?.availabilityZone) ?? str(get(md, "placement/availability-zone"));
  return {
    instanceId: str(md["instance-id"]) ?? str(identity?.instanceId),
    // local-hostname alone: cloud-init's get_hostname never reads the `hostname` key. An
    // IPv4 address there becomes ip-a-b-c-d in the instance data, as for every
    // datasource (agent/cloud-hostname.ts).
    localHostname: str(md["local-hostname"]),
    availabilityZone: az,
    region: str(identity?.region) ?? str(get(md, "placement/region")) ?? regionFromZone(az),
    instanceType: str(md["instance-type"]) ?? str(identity?.instanceType),
  };
}

/** Paths (dotted, under the instance data's `ds`) of credentials that must not be world-readable. */
export function sensitivePaths(md: JsonObject): string[] {
  const out: string[] = [];
  if (get(md, "iam/security-credentials") !== undefined) out.push("meta_data.iam.security-credentials");
  if (get(md, "identity-credentials") !== undefined) out.push("meta_data.identity-credentials");
  return out;
}
