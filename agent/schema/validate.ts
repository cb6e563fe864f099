// Validating a cloud-config document against the assembled schema, and turning
// the validator's errors into ones a person can act on: file, line, column,
// key path, what was expected, and "did you mean" for a misspelt key.
import type { ErrorObject } from "ajv";
import { isPlainObject } from "../merge";
import type { JsonObject } from "../types";
import { parseYaml } from "../yaml";
import { cloudConfigValidator } from "./compiled-validator";
import { CLOUD_INIT_ONLY_KEYS } from "./cloud-init-only";
import { DEPRECATED_KEYS, DEPRECATED_VALUES } from "./deprecated";
import { didYouMean } from "./did-you-mean";

export { didYouMean };

export interface SchemaProblem {
  /** error: the file is invalid; deprecation and warning: it is valid, and the message says what to know. */
  severity: "error" | "deprecation" | "warning";
  file: string;
  line: number | null;
  col: number | null;
  /** Key path, e.g. "write_files[0].permissions"; "" for the document. */
  path: string;
  message: string;
}

function segments(instancePath: string): Array<string | number> {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function keyPath(segs: ReadonlyArray<string | number>): string {
  return segs.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/** Keeps the errors that say the most: a oneOf is reported once, unless one branch's deeper errors pin it down. */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const alts = errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf");
  return errors.filter((e) => {
    if (e.keyword === "oneOf" || e.keyword === "anyOf") {
      // Deeper errors under it (a mapping branch with one bad key) say more than "expected X or Y".
      return !errors.some((o) => o.instancePath.startsWith(e.instancePath + "/") && o.schemaPath.startsWith(e.schemaPath.replace(/\/(oneOf|anyOf)$/, "")));
    }
    // A branch of a oneOf failing at the same place is noise: the oneOf says it.
    return !alts.some((a) => a.instancePath === e.instancePath && e.schemaPath.startsWith(a.schemaPath + "/"));
  });
}

/** A short human phrase for what a schema accepts: "a string or a list of strings". */
export function describeExpected(s: JsonObject | undefined): string {
  if (!s) return "something else";
  const alts = (s.oneOf ?? s.anyOf) as JsonObject[] | undefined;
  if (alts) return alts.map(describeExpected).join(" or ");
  if (Array.isArray(s.enum)) return s.enum.length > LONG_ENUM ? `one of ${s.enum.length} accepted names` : `one of ${s.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : [];
  const name = (t: string): string => {
    if (t === "array") {
      const items = s.items as JsonObject | undefined;
      return items && (items.type || items.oneOf || items.enum) ? `a list (each item ${describeExpected(items)})` : "a list";
    }
    if (t === "object") return "a mapping";
    if (t === "integer") return "an integer";
    if (t === "null") return "null";
    return `a ${t}`;
  };
  return types.length ? types.map(name).join(" or ") : "a value";
}

/** Past this many values, an enum (module names) is too long to print in a message: it is named, and the nearest value suggested. */
const LONG_ENUM = 12;

function longEnumOf(s: JsonObject | undefined): string[] | null {
  if (!s) return null;
  if (Array.isArray(s.enum) && s.enum.length > LONG_ENUM) return s.enum.filter((v): v is string => typeof v === "string");
  for (const alt of ((s.oneOf ?? s.anyOf) as JsonObject[] | undefined) ?? []) {
    const found = longEnumOf(alt);
    if (found) return found;
  }
  return null;
}

function messageFor(e: ErrorObject, value: unknown): string {
  const message = plainMessageFor(e, value);
  const names = typeof value === "string" ? longEnumOf(e.parentSchema as JsonObject | undefined) : null;
  const near = names ? didYouMean(value as string, names) : null;
  return near ? `${message} (did you mean ${JSON.stringify(near)}?)` : message;
}

function plainMessageFor(e: ErrorObject, value: unknown): string {
  const got = value === null ? "null" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a mapping" : `${JSON.stringify(value)} (a ${typeof value})`;
  switch (e.keyword) {
    case "oneOf":
    case "anyOf":
    case "type":
      return `expected ${describeExpected(e.parentSchema as JsonObject)}, got ${got}`;
    case "enum":
      return `expected ${describeExpected(e.parentSchema as JsonObject)}, got ${JSON.stringify(value)}`;
    case "required":
      return `missing the required key ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}`;
    default:
      return `${e.message ?? "is not valid"}${e.keyword === "pattern" || e.keyword === "minimum" || e.keyword === "maximum" ? `, got ${JSON.stringify(value)}` : ""}`;
  }
}

function valueAt(doc: unknown, segs: ReadonlyArray<string | number>): unknown {
  let cur = doc;
  for (const s of segs) cur = cur !== null && typeof cur === "object" ? (cur as Record<string | number, unknown>)[s] : undefined;
  return cur;
}

function deprecations(doc: JsonObject, at: (segs: Array<string | number>) => { line: number; col: number } | null, file: string): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const push = (segs: Array<string | number>, message: string) => {
    const pos = at(segs);
    out.push({ severity: "deprecation", file, line: pos?.line ?? null, col: pos?.col ?? null, path: keyPath(segs), message });
  };
  for (const [k, d] of Object.entries(DEPRECATED_KEYS)) if (k in doc) push([k], `${k} is deprecated; write ${d.use}`);
  const walk = (value: unknown, pattern: string[], segs: Array<string | number>, rule: (typeof DEPRECATED_VALUES)[number]) => {
    if (pattern.length === 0) {
      if (rule.test(value)) push(segs, rule.message);
      return;
    }
    const [head, ...rest] = pattern;
    if (head === "*" && Array.isArray(value)) value.forEach((v, i) => walk(v, rest, [...segs, i], rule));
    else if (isPlainObject(value) && head !== undefined && head in value) walk(value[head], rest, [...segs, head], rule);
  };
  for (const rule of DEPRECATED_VALUES) walk(doc, rule.path, [], rule);
  return out;
}

function binaryAsText(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (Array.isArray(v)) return v.map(binaryAsText);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, binaryAsText(x)]));
  return v;
}

export interface ValidateOptions {
  /** The file name errors name. */
  file: string;
  /** User-data must start with #cloud-config; system config files need not. */
  requireHeader: boolean;
}

/** Validates one cloud-config text. Errors and deprecations, in the order of the file. */
export function validateCloudConfig(text: string, opts: ValidateOptions): SchemaProblem[] {
  const { file } = opts;
  const problems: SchemaProblem[] = [];
  let body = text;
  if (opts.requireHeader) {
    const lines = text.split("\n");
    let first = 0;
    // `## template: jinja` may come first; the template is checked as written.
    if (/^##\s*template:\s*jinja\s*$/i.test(lines[0]?.trim() ?? "")) first = 1;
    if (!/^#cloud-config\s*$/.test(lines[first]?.trim() ?? "")) {
      problems.push({ severity: "error", file, line: first + 1, col: 1, path: "", message: 'user-data must start with the line "#cloud-config" (sprout would not read it as cloud-config)' });
    }
    body = text;
  }
  const parsed = parseYaml(body);
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) problems.push({ severity: "error", file, line: e.line ?? null, col: e.col ?? null, path: "", message: `YAML syntax error: ${e.message}` });
    return problems;
  }
  if (parsed.value === null || parsed.value === undefined) return problems;
  if (!isPlainObject(parsed.value)) {
    problems.push({ severity: "error", file, line: 1, col: 1, path: "", message: "a cloud-config must be a mapping of keys to values" });
    return problems;
  }
  // YAML !!binary values are bytes; the schema speaks of the text they were written as.
  const doc = binaryAsText(parsed.value) as JsonObject;
  const validate = cloudConfigValidator();
  validate(doc);
  for (const e of simplify(validate.errors ?? [])) {
    let segs = segments(e.instancePath);
    let message: string;
    if (e.keyword === "additionalProperties") {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      segs = [...segs, extra];
      const cloudInitOnly = segs.length === 1 ? CLOUD_INIT_ONLY_KEYS[extra] : undefined;
      if (cloudInitOnly) {
        const pos = parsed.locate(segs);
        const message = `${cloudInitOnly.what} reads this key, and sprout has no counterpart: a boot leaves it unapplied and says so in \`sprout status\``;
        problems.push({ severity: "warning", file, line: pos?.line ?? null, col: pos?.col ?? null, path: extra, message });
        continue;
      }
      // At the top, parentSchema is the whole document's schema: its properties are every known key.
      const near = didYouMean(extra, Object.keys(((e.parentSchema as JsonObject).properties ?? {}) as object));
      message = `unknown key ${JSON.stringify(extra)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : segs.length === 1 ? "; sprout has no module that reads it (see `sprout schema --docs`)" : ""}`;
    } else message = messageFor(e, valueAt(doc, segs));
    const pos = parsed.locate(segs);
    problems.push({ severity: "error", file, line: pos?.line ?? null, col: pos?.col ?? null, path: keyPath(segs), message });
  }
  problems.push(...deprecations(doc, (s) => parsed.locate(s), file));
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

export function formatProblem(p: SchemaProblem): string {
  const where = `${p.file}${p.line !== null ? `:${p.line}:${p.col ?? 1}` : ""}`;
  return `${where}: ${p.severity === "error" ? "" : `${p.severity === "deprecation" ? "deprecated" : "warning"}: `}${p.path ? `${p.path}: ` : ""}${p.message}`;
}
