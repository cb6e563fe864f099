import type { InstanceData, JsonObject } from "./types";

export const INSTANCE_DATA = "/run/sprout/instance-data.json";
export const INSTANCE_DATA_SENSITIVE = "/run/sprout/instance-data-sensitive.json";
export const REDACTED = "redacted for non-root user";

/** The two instance-data documents: everything (0600), and the same with sensitive values replaced (0644). */
export function instanceDataDocs(data: InstanceData, datasourceId: string, extra: JsonObject = {}): { sensitive: JsonObject; redacted: JsonObject } {
  const v1: JsonObject = {
    instance_id: data.instanceId,
    local_hostname: data.localHostname,
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
  const sensitive: JsonObject = { v1, ds, sensitive_keys: sensitivePaths.map((p) => `ds/${p.replace(/\./g, "/")}`) };
  const redactedDs = structuredClone(ds);
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
