import type { TargetRoot } from "./host/types";
import { cloudFqdn, cloudShortHostname } from "./cloud-hostname";
import type { InstanceData, JsonObject } from "./types";

export const INSTANCE_DATA = "/run/sprout/instance-data.json";
export const INSTANCE_DATA_SENSITIVE = "/run/sprout/instance-data-sensitive.json";
export const REDACTED = "redacted for non-root user";

/** The two instance-data documents: everything (0600), and the same with sensitive values replaced (0644). */
export function instanceDataDocs(data: InstanceData, datasourceId: string, extra: JsonObject = {}): { sensitive: JsonObject; redacted: JsonObject } {
  const fqdn = data.localHostname === null ? null : cloudFqdn(data.localHostname);
  const v1: JsonObject = {
    instance_id: data.instanceId,
    // The short name, as cloud-init's v1.local_hostname ({{ v1.local_hostname }} in a jinja template); the whole name is sprout.local_fqdn.
    local_hostname: fqdn === null ? null : cloudShortHostname(fqdn),
    datasource: datasourceId,
    platform: data.platform,
    cloud_name: data.cloudName,
    subplatform: data.subplatform,
    region: data.region,
    availability_zone: data.availabilityZone,
    public_ssh_keys: data.publicSshKeys,
    ...data.extraV1,
    ...extra,
  };
  const ds: JsonObject = { meta_data: data.metaData, ...data.extraDs };
  const sensitivePaths = data.sensitivePaths ?? [];
  const sensitive: JsonObject = { v1, ds, sensitive_keys: sensitivePaths.map((p) => `ds/${p.replace(/\./g, "/")}`), sprout: { local_fqdn: fqdn } };
  // A JSON copy: the documents are JSON anyway, and structuredClone loads three internal
  // modules that a Node without a start-up snapshot compiles at every boot.
  const redactedDs = JSON.parse(JSON.stringify(ds)) as JsonObject;
  for (const p of sensitivePaths) redactPath(redactedDs, p.split("."));
  return { sensitive, redacted: { ...sensitive, ds: redactedDs } };
}

function redactPath(obj: unknown, segs: string[]): void {
  if (typeof obj !== "object" || obj === null) return;
  const o = obj as JsonObject;
  const [head, ...rest] = segs;
  if (head === undefined || !(head in o)) return;
  if (rest.length === 0) o[head] = REDACTED;
  else redactPath(o[head], rest);
}

/** Looks up "v1.instance_id" or "ds.meta_data.local-hostname" (also accepting "_" for "-" as cloud-init does). */
export function lookupKey(doc: unknown, key: string): { found: boolean; value: unknown } {
  let cur: unknown = doc;
  for (const seg of key.split(".")) {
    if (typeof cur !== "object" || cur === null) return { found: false, value: undefined };
    const o = cur as JsonObject;
    if (seg in o) cur = o[seg];
    else if (seg.replace(/_/g, "-") in o) cur = o[seg.replace(/_/g, "-")];
    else if (Array.isArray(cur) && /^\d+$/.test(seg) && Number(seg) < cur.length) cur = cur[Number(seg)];
    else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/**
 * v1 keys that local-stage modules found (e.g. v1.rescue), one JSON file per key.
 * The engine merges them whenever it writes instance data, so a datasource found
 * later (in the network stage) keeps them.
 */
export const V1_EXTRAS_DIR = "/run/sprout/instance-data-v1.d";

export function v1Extras(root: TargetRoot): JsonObject {
  const out: JsonObject = {};
  let names: string[] = [];
  try {
    names = root.readdir(V1_EXTRAS_DIR);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const m = /^([a-z][a-z0-9_]*)\.json$/.exec(name);
    if (!m) continue;
    try {
      out[m[1]!] = JSON.parse(root.readText(`${V1_EXTRAS_DIR}/${name}`, 1024 * 1024)) as unknown;
    } catch {
      // a broken extra is left out; the module that wrote it reports its own problems
    }
  }
  return out;
}

/** Adds v1.<key> now: to the extras, to the instance-data files already written, and to the document in memory. */
export function addV1Key(root: TargetRoot, key: string, value: unknown, doc?: JsonObject): void {
  root.writeAtomic(`${V1_EXTRAS_DIR}/${key}.json`, JSON.stringify(value) + "\n", { mode: 0o644 });
  if (doc && typeof doc.v1 === "object" && doc.v1 !== null) (doc.v1 as JsonObject)[key] = value;
  for (const [path, mode] of [[INSTANCE_DATA_SENSITIVE, 0o600], [INSTANCE_DATA, 0o644]] as const) {
    const text = root.tryReadText(path);
    if (!text) continue;
    try {
      const d = JSON.parse(text) as JsonObject;
      d.v1 = { ...(d.v1 as JsonObject), [key]: value };
      root.writeAtomic(path, JSON.stringify(d, null, 1) + "\n", { mode });
    } catch {
      // unreadable instance data is the engine's to report; the extras file still carries the key
    }
  }
}

/**
 * The machine's whole name from the datasource (meta-data local-hostname, an IPv4
 * address made into ip-a-b-c-d): what set_hostname and phone_home use as the
 * cloud's FQDN. An instance document without sprout.local_fqdn (written by an
 * older sprout) has only v1.local_hostname.
 */
export function localFqdn(instance: JsonObject): string | null {
  const own = (instance.sprout as JsonObject | undefined)?.local_fqdn;
  if (typeof own === "string" && own) return own;
  const v1 = instance.v1 as JsonObject | undefined;
  return typeof v1?.local_hostname === "string" && v1.local_hostname ? v1.local_hostname : null;
}
