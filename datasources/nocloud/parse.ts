// Pure parsers for NoCloud: the kernel command line / DMI serial forms and the meta-data document.
import { cmdlineValue, type Cmdline } from "../../agent/cmdline";
import { DatasourceError } from "../../agent/errors";
import { isPlainObject } from "../../agent/merge";
import type { JsonObject } from "../../agent/types";
import { utf8Text } from "../../agent/utf8";
import { parseYaml } from "../../agent/yaml";

export interface NoCloudCmdline {
  /** "nocloud" or "nocloud-net", as written. */
  mode: string;
  seedfrom: string | null;
  instanceId: string | null;
  localHostname: string | null;
}

const SHORT: Record<string, "seedfrom" | "instanceId" | "localHostname"> = {
  s: "seedfrom",
  seedfrom: "seedfrom",
  i: "instanceId",
  "instance-id": "instanceId",
  h: "localHostname",
  "local-hostname": "localHostname",
};

/**
 * cloud-init's `ds=nocloud;s=URL;i=ID;h=NAME` (also `ds=nocloud-net`), from the
 * kernel command line or the SMBIOS serial. `;` reaches the kernel only when the
 * GRUB line quotes it ("ds=nocloud;s=...") or escapes it (ds=nocloud\;s=...).
 */
export function parseNoCloudSpec(spec: string): NoCloudCmdline | null {
  // A boot loader that does not unescape passes GRUB's `\;` through as written.
  const parts = spec.replace(/\\;/g, ";").split(";");
  const mode = parts[0]!.trim().toLowerCase();
  if (mode !== "nocloud" && mode !== "nocloud-net") return null;
  const out: NoCloudCmdline = { mode, seedfrom: null, instanceId: null, localHostname: null };
  for (const part of parts.slice(1)) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const field = SHORT[part.slice(0, eq).trim()];
    if (field) out[field] = part.slice(eq + 1).trim();
  }
  return out;
}

export function noCloudFromCmdline(c: Cmdline, dmiSerial: string | null): NoCloudCmdline | null {
  const ds = cmdlineValue(c, "ds");
  let found = ds !== null ? parseNoCloudSpec(ds) : null;
  if (!found && dmiSerial) {
    const m = /(?:^|\s)ds=(\S+)/.exec(dmiSerial);
    if (m) found = parseNoCloudSpec(m[1]!);
  }
  // seedfrom= and local-hostname= also work as separate kernel arguments.
  const seedfrom = cmdlineValue(c, "seedfrom");
  if (!found && seedfrom) found = { mode: "nocloud", seedfrom: null, instanceId: null, localHostname: null };
  if (found) {
    found.seedfrom ??= seedfrom || null;
    found.localHostname ??= cmdlineValue(c, "local-hostname") || null;
    found.instanceId ??= cmdlineValue(c, "instance-id") || null;
  }
  return found;
}

/** meta-data: YAML (JSON is YAML too). Must be UTF-8 text and a mapping; empty is an empty mapping. */
export function parseMetaData(bytes: Buffer, source: string): JsonObject {
  const text = utf8Text(bytes);
  if (text === null) throw new DatasourceError("NoCloud", `${source} is not UTF-8 text`, { hint: "write meta-data as UTF-8 YAML, e.g. 'instance-id: iid-1'" });
  const parsed = parseYaml(text);
  if (parsed.errors.length > 0) {
    const e = parsed.errors[0]!;
    throw new DatasourceError("NoCloud", `${source}: YAML error at line ${e.line ?? "?"} column ${e.col ?? "?"}: ${e.message}`, {
      hint: "fix the YAML; meta-data is a mapping like 'instance-id: iid-1'",
      location: { file: source, line: e.line, col: e.col },
    });
  }
  if (parsed.value === null || parsed.value === undefined) return {};
  if (!isPlainObject(parsed.value)) {
    throw new DatasourceError("NoCloud", `${source} is YAML but not a mapping (it is a ${Array.isArray(parsed.value) ? "list" : typeof parsed.value})`, {
      hint: "meta-data must be keys and values, e.g. 'instance-id: iid-1'",
      location: { file: source, line: 1, col: 1 },
    });
  }
  return parsed.value;
}

/** The URL of one seed file: `%s` in the base is replaced by the name, else the name is appended after a "/". */
export function seedFileUrl(base: string, name: string): string {
  if (base.includes("%s")) return base.replace("%s", name);
  return base.endsWith("/") ? base + name : `${base}/${name}`;
}
