// cloud-init's mergers for cloud-config parts: `merge_how` / `merge_type` in a
// part (or a Merge-Type header) such as "dict(recurse_array,no_replace)+list(append)".
// Which merger runs is chosen by the type of the value merged INTO; a type with
// no merger listed keeps that value. Parts without merge_how use
// "dict(replace)+list()+str()": top-level keys of a later part replace earlier ones.
import { isPlainObject } from "../merge";
import type { JsonObject } from "../types";

export type MergerName = "dict" | "list" | "str";
export type MergerSpec = Array<{ name: string; opts: string[] }>;

export const DEFAULT_PART_MERGERS = "dict(replace)+list()+str()";

const SPEC = /^([a-z_][a-z0-9_]*)\((.*?)\)$/;

/** "dict(a,b)+list(c)" -> [{name: "dict", opts: [a, b]}, ...]; throws on a malformed item. */
export function parseMergeString(text: string): MergerSpec {
  const out: MergerSpec = [];
  for (const raw of text.split("+")) {
    const item = raw.toLowerCase().trim().replace(/-/g, "_");
    if (!item) continue;
    const m = SPEC.exec(item);
    if (!m) throw new Error(`merge type ${JSON.stringify(raw.trim())} is not in the form name(option,option), e.g. list(append)`);
    out.push({ name: m[1]!, opts: m[2]!.split(",").map((o) => o.trim().toLowerCase()).filter(Boolean) });
  }
  return out;
}

/** merge_how / merge_type of a part: a string, or a list of {name, settings} or [name, opt...]. Removes the key. */
export function extractMergers(doc: JsonObject): MergerSpec {
  const key = "merge_how" in doc ? "merge_how" : "merge_type" in doc ? "merge_type" : null;
  if (key === null) return [];
  const raw = doc[key];
  delete doc[key];
  if (typeof raw === "string") return parseMergeString(raw);
  if (!Array.isArray(raw)) throw new Error(`${key} must be a string like "dict(recurse_array)+list(append)" or a list`);
  const out: MergerSpec = [];
  for (const m of raw) {
    if (isPlainObject(m) && typeof m.name === "string") out.push({ name: m.name.replace(/-/g, "_").trim(), opts: Array.isArray(m.settings) ? m.settings.map(String) : [] });
    else if (Array.isArray(m) && typeof m[0] === "string") out.push({ name: m[0], opts: m.slice(1).map(String) });
    else throw new Error(`${key} entry ${JSON.stringify(m)} is neither {name, settings} nor [name, option...]`);
  }
  return out;
}

type Merge = (a: unknown, b: unknown) => unknown;

function firstOf<T extends string>(opts: string[], methods: readonly T[], dflt: T): T {
  return methods.find((m) => opts.includes(m)) ?? dflt;
}

function dictMerger(opts: string[], merge: Merge) {
  const method = firstOf(opts, ["replace", "no_replace"] as const, "no_replace");
  const recurseArray = opts.includes("recurse_array") || opts.includes("recurse_list");
  const recurseStr = opts.includes("recurse_str");
  const allowDelete = opts.includes("allow_delete");
  return (value: JsonObject, other: unknown): unknown => {
    if (!isPlainObject(other)) return value;
    const out: JsonObject = { ...value };
    for (const [k, v] of Object.entries(other)) {
      if (!(k in out)) {
        out[k] = v;
        continue;
      }
      if (v === null && allowDelete) {
        delete out[k];
        continue;
      }
      const old = out[k];
      if (method === "replace") out[k] = v;
      else if (Array.isArray(v) && recurseArray) out[k] = merge(old, v);
      else if (typeof v === "string" && recurseStr) out[k] = merge(old, v);
      else if (isPlainObject(v)) out[k] = merge(old, v);
      // no_replace: the earlier value stays.
    }
    return out;
  };
}

function listMerger(opts: string[], merge: Merge) {
  const method = firstOf(opts, ["append", "prepend", "replace", "no_replace"] as const, "replace");
  const recurseArray = opts.includes("recurse_array") || opts.includes("recurse_list");
  const recurseStr = opts.includes("recurse_str");
  const recurseDict = opts.includes("recurse_dict");
  return (value: unknown[], other: unknown): unknown => {
    if (!Array.isArray(other)) {
      if (method === "replace") return other;
      if (method === "append") return [...value, other];
      if (method === "prepend") return [other, ...value];
      return value;
    }
    if (method === "append") return [...value, ...other];
    if (method === "prepend") return [...other, ...value];
    const out = [...value];
    for (let i = 0; i < Math.min(out.length, other.length); i++) {
      const nv = other[i];
      if (method === "no_replace") continue;
      if (Array.isArray(nv) && recurseArray) out[i] = merge(out[i], nv);
      else if (typeof nv === "string" && recurseStr) out[i] = merge(out[i], nv);
      else if (isPlainObject(nv) && recurseDict) out[i] = merge(out[i], nv);
      else out[i] = nv;
    }
    return out;
  };
}

function strMerger(opts: string[]) {
  const append = opts.includes("append");
  return (value: string, other: unknown): unknown => {
    if (typeof other !== "string") return other;
    return append ? value + other : other;
  };
}

/** A merge function built from a merger spec; unknown merger names are reported, not fatal. */
export function buildMerger(spec: MergerSpec): { merge: Merge; unknown: string[] } {
  let dict: ReturnType<typeof dictMerger> | null = null;
  let list: ReturnType<typeof listMerger> | null = null;
  let str: ReturnType<typeof strMerger> | null = null;
  const unknown: string[] = [];
  const merge: Merge = (a, b) => {
    if (isPlainObject(a)) return dict ? dict(a, b) : a;
    if (Array.isArray(a)) return list ? list(a, b) : a;
    if (typeof a === "string") return str ? str(a, b) : a;
    // No merger for numbers, booleans, null: cloud-init keeps the earlier value.
    return a;
  };
  // The first merger of a kind wins, as in cloud-init's lookup.
  for (const { name, opts } of spec) {
    if (name === "dict") dict ??= dictMerger(opts, merge);
    else if (name === "list") list ??= listMerger(opts, merge);
    else if (name === "str") str ??= strMerger(opts);
    else unknown.push(name);
  }
  return { merge, unknown };
}

/**
 * Merges one cloud-config part into what the earlier parts built. The part's own
 * merge_how/merge_type (removed from it) wins over the MIME header's, and both
 * over the default.
 */
export function mergePart(acc: JsonObject, part: JsonObject, headerMergeType?: string | null): { value: JsonObject; warnings: string[] } {
  const doc = { ...part };
  const warnings: string[] = [];
  let spec: MergerSpec = [];
  try {
    spec = extractMergers(doc);
  } catch (err) {
    warnings.push(`${(err as Error).message}; merged with the default ${DEFAULT_PART_MERGERS}`);
  }
  if (headerMergeType) {
    try {
      spec = [...spec, ...parseMergeString(headerMergeType)];
    } catch (err) {
      warnings.push(`Merge-Type header: ${(err as Error).message}; ignored`);
    }
  }
  if (spec.length === 0) spec = parseMergeString(DEFAULT_PART_MERGERS);
  const { merge, unknown } = buildMerger(spec);
  for (const u of unknown) warnings.push(`unknown merger ${JSON.stringify(u)} (sprout knows dict, list and str); ignored`);
  const value = merge(acc, doc);
  return { value: isPlainObject(value) ? value : acc, warnings };
}
