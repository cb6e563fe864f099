// User-data: what the instance's owner wrote, in any of cloud-init's formats —
// #cloud-config, #! scripts, MIME multipart, gzip, #include / #include-once,
// #cloud-boothook, #cloud-config-archive, ## template: jinja — turned into one
// merged cloud-config, the scripts to run, and the boothooks. Pure: the only way
// out is the fetchInclude function the caller passes. Never throws: what cannot
// be used is reported with where it is, and everything else is still applied.
import { isPlainObject } from "../merge";
import { hasJinjaHeader, TemplateError } from "../templater";
import type { JsonObject } from "../types";
import { parseYaml } from "../yaml";
import { gunzipCapped, isGzip, MAX_DECOMPRESSED } from "./gzip";
import { mergePart } from "./mergers";
import { looksLikeMime, parseMime, type MimeHeaders } from "./mime";

export interface UserDataProblem {
  source: string;
  message: string;
  line?: number;
  col?: number;
  /** Worth telling, but nothing the owner asked for was lost (an ignored part type). */
  warning?: boolean;
}

export interface UserScript {
  /** The name a person recognises: the MIME part's filename, or part-NNN. */
  name: string;
  content: Buffer;
}

/** One part as sprout used it, for user-data.txt.i. */
export interface ProcessedPart {
  contentType: string;
  filename: string;
  body: Buffer;
}

/** How often a text/x-shellscript-per-* part runs: the /var/lib/sprout/scripts folder it goes to. */
export type ScriptFrequency = "per-boot" | "per-instance" | "per-once";

export interface ProcessedUserData {
  /** All cloud-config parts merged, in order (merge_how honoured); null when there were none. */
  cloudConfig: JsonObject | null;
  scripts: UserScript[];
  boothooks: UserScript[];
  /** MIME text/x-shellscript-per-boot, -per-instance and -per-once parts (line ends made LF). */
  frequencyScripts: Array<UserScript & { frequency: ScriptFrequency }>;
  parts: ProcessedPart[];
  problems: UserDataProblem[];
}

export interface UserDataOptions {
  /** "user-data" or "vendor-data": names the source in every problem. */
  source: string;
  /** The instance data, for `## template: jinja`. */
  instance?: JsonObject;
  /** Fetches an #include URL (include-once: cached by the caller). Throws an Error saying why it failed. */
  fetchInclude?: (url: string, once: boolean) => Promise<Buffer>;
  /** Cap on any decompressed gzip. */
  maxDecompressed?: number;
}

export function emptyUserData(): ProcessedUserData {
  return { cloudConfig: null, scripts: [], boothooks: [], frequencyScripts: [], parts: [], problems: [] };
}

const MAX_INCLUDE_DEPTH = 5;
const MAX_INCLUDES = 64;

// cloud-init's table: the start of a part's text says its type when the part does not.
const STARTS_WITH: Array<[string, string]> = [
  ["#cloud-config-archive", "text/cloud-config-archive"],
  ["#cloud-config-jsonp", "text/cloud-config-jsonp"],
  ["#cloud-config", "text/cloud-config"],
  ["#cloud-boothook", "text/cloud-boothook"],
  ["#include-once", "text/x-include-once-url"],
  ["#include", "text/x-include-url"],
  ["#part-handler", "text/part-handler"],
  ["#upstart-job", "text/upstart-job"],
  ["#!", "text/x-shellscript"],
];

/** The content type a part's text announces, or null. */
export function typeFromContent(body: Buffer | string): string | null {
  const text = (typeof body === "string" ? body : body.subarray(0, 256).toString("utf8")).trimStart();
  if (hasJinjaHeader(text)) return "text/jinja2";
  const lc = text.toLowerCase();
  for (const [prefix, type] of STARTS_WITH) if (lc.startsWith(prefix)) return type;
  return null;
}

// Types that say nothing about the content: look at the content instead.
const GENERIC = new Set(["text/plain", "text/x-not-multipart", "application/octet-stream", "text/x-unknown", ""]);
const HEADER_MERGE = ["merge-type", "x-merge-type"];

interface State {
  opts: UserDataOptions;
  out: ProcessedUserData;
  partNo: number;
  includes: number;
  names: Set<string>;
}

function problem(st: State, where: string, message: string, extra: Partial<UserDataProblem> = {}): void {
  st.out.problems.push({ source: st.opts.source, message: `${where}: ${message}`, ...extra });
}

/** A safe, unique script name: the part's filename without directories, else part-NNN. */
function scriptName(st: State, filename: string | null): string {
  let name = (filename ?? "").split("/").pop()!.replace(/[^A-Za-z0-9._@+-]/g, "_").replace(/^\.+/, "");
  if (!name) name = `part-${String(st.partNo).padStart(3, "0")}`;
  let unique = name;
  for (let n = 2; st.names.has(unique); n++) unique = `${name}.${n}`;
  st.names.add(unique);
  return unique;
}

async function handleBlob(st: State, bytes: Buffer, where: string, depth: number): Promise<void> {
  if (bytes.length === 0) return;
  if (isGzip(bytes)) {
    try {
      bytes = gunzipCapped(bytes, st.opts.maxDecompressed ?? MAX_DECOMPRESSED);
    } catch (err) {
      problem(st, where, `${(err as Error).message}; nothing of it was applied`);
      return;
    }
  }
  if (looksLikeMime(bytes)) {
    const mime = parseMime(bytes);
    for (const p of mime.problems) problem(st, where, p);
    for (const [i, part] of mime.parts.entries()) await handlePart(st, part.contentType, part.body, part.filename, part.headers, `${where} part ${i + 1}`, depth);
    return;
  }
  await handlePart(st, "text/x-not-multipart", bytes, null, {}, where, depth);
}

async function handlePart(st: State, declared: string, body: Buffer, filename: string | null, headers: MimeHeaders, where: string, depth: number): Promise<void> {
  st.partNo++;
  const label = filename ? `${where} (${filename})` : where;
  if (isGzip(body)) {
    try {
      body = gunzipCapped(body, st.opts.maxDecompressed ?? MAX_DECOMPRESSED);
    } catch (err) {
      problem(st, label, `${(err as Error).message}; this part was not applied`);
      return;
    }
  }
  let type = declared.toLowerCase();
  if (GENERIC.has(type) || type === "application/x-gzip" || type === "application/gzip") {
    const found = typeFromContent(body);
    if (!found) {
      const first = body.subarray(0, 200).toString("utf8").trimStart().split("\n")[0]!.slice(0, 40);
      problem(st, label, `unrecognised user-data format (first line ${JSON.stringify(first)}); start it with #cloud-config, #!, #include or #cloud-boothook`, { line: 1, col: 1 });
      return;
    }
    type = found;
  }
  if (type === "text/jinja2" || hasJinjaHeader(body.subarray(0, 200).toString("utf8").trimStart())) {
    let rendered: string;
    try {
      // The engine loads only when a template is rendered: boot does not pay for it otherwise.
      const { renderJinja, jinjaVariables } = await import("../jinja");
      const r = renderJinja(body.toString("utf8").trimStart(), jinjaVariables(st.opts.instance ?? {}));
      rendered = r.text;
      for (const name of r.missing) problem(st, label, `jinja variable ${JSON.stringify(name)} is not in the instance data; it was rendered as CI_MISSING_JINJA_VAR/${name.split(".").pop()} (see \`sprout query --all\` for the variables)`);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problem(st, label, `jinja template error: ${err.message}; this part was not applied`, { line: err.line });
      return;
    }
    body = Buffer.from(rendered, "utf8");
    if (type === "text/jinja2") {
      const found = typeFromContent(body);
      if (!found) {
        problem(st, label, "the rendered jinja template is neither #cloud-config nor a #! script; not applied", { line: 2, col: 1 });
        return;
      }
      type = found;
    }
  }
  switch (type) {
    case "text/cloud-config":
      return cloudConfigPart(st, body, label, headers);
    case "text/x-shellscript": {
      const name = scriptName(st, filename);
      st.out.scripts.push({ name, content: body });
      st.out.parts.push({ contentType: type, filename: name, body });
      return;
    }
    case "text/cloud-boothook": {
      const name = scriptName(st, filename);
      const content = Buffer.from(body.toString("utf8").replace(/^\s*#cloud-boothook[^\n]*\n?/i, ""), "utf8");
      st.out.boothooks.push({ name, content });
      st.out.parts.push({ contentType: type, filename: name, body });
      return;
    }
    case "text/x-shellscript-per-boot":
    case "text/x-shellscript-per-instance":
    case "text/x-shellscript-per-once": {
      // cloud-init 22.2 and later: the script goes to the scripts folder of that
      // frequency (run this boot and as the folder says after), with DOS line ends made
      // Unix ones, as cloud-init does.
      const name = scriptName(st, filename);
      const frequency = type.slice("text/x-shellscript-".length) as ScriptFrequency;
      st.out.frequencyScripts.push({ name, frequency, content: Buffer.from(body.toString("utf8").replace(/\r\n/g, "\n"), "utf8") });
      st.out.parts.push({ contentType: type, filename: name, body });
      return;
    }
    case "text/x-include-url":
    case "text/x-include-once-url":
      return includePart(st, body, label, type === "text/x-include-once-url", depth);
    case "text/cloud-config-archive":
      return archivePart(st, body, label, depth);
    default:
      problem(st, label, `part of type ${type} is not supported by sprout and was ignored`, { warning: true });
  }
}

function cloudConfigPart(st: State, body: Buffer, label: string, headers: MimeHeaders): void {
  const parsed = parseYaml(body.toString("utf8"));
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) problem(st, label, `YAML error: ${e.message}; this cloud-config was not applied`, { line: e.line, col: e.col });
    return;
  }
  st.out.parts.push({ contentType: "text/cloud-config", filename: `part-${String(st.partNo).padStart(3, "0")}`, body });
  if (parsed.value === null || parsed.value === undefined) return; // an empty #cloud-config is valid and does nothing
  if (!isPlainObject(parsed.value)) {
    problem(st, label, "cloud-config is not a mapping of keys to values; not applied", { line: 1, col: 1 });
    return;
  }
  const header = HEADER_MERGE.map((h) => headers[h]).find(Boolean) ?? null;
  const merged = mergePart(st.out.cloudConfig ?? {}, parsed.value, header);
  for (const w of merged.warnings) problem(st, label, w, { warning: true });
  st.out.cloudConfig = merged.value;
}

async function includePart(st: State, body: Buffer, label: string, onceByDefault: boolean, depth: number): Promise<void> {
  let once = onceByDefault;
  const urls: Array<{ url: string; once: boolean }> = [];
  for (let line of body.toString("utf8").split(/\r?\n/)) {
    const lc = line.toLowerCase();
    if (lc.startsWith("#include-once")) {
      line = line.slice("#include-once".length);
      once = true;
    } else if (lc.startsWith("#include")) {
      line = line.slice("#include".length);
      once = false;
    }
    const url = line.trim();
    if (!url || url.startsWith("#")) continue;
    urls.push({ url, once });
  }
  for (const { url, once: o } of urls) {
    if (depth >= MAX_INCLUDE_DEPTH) {
      problem(st, label, `#include ${url} skipped: includes nest deeper than ${MAX_INCLUDE_DEPTH} levels (does an included file include itself?)`);
      continue;
    }
    if (++st.includes > MAX_INCLUDES) {
      problem(st, label, `#include ${url} skipped: more than ${MAX_INCLUDES} includes in one user-data`);
      continue;
    }
    if (!st.opts.fetchInclude) {
      problem(st, label, `#include ${url} skipped: URLs cannot be fetched here`, { warning: true });
      continue;
    }
    let content: Buffer;
    try {
      content = await st.opts.fetchInclude(url, o);
    } catch (err) {
      problem(st, label, `#include ${url} failed: ${(err as Error).message}; the rest of the user-data was applied`);
      continue;
    }
    await handleBlob(st, content, `${label} -> ${url}`, depth + 1);
  }
}

async function archivePart(st: State, body: Buffer, label: string, depth: number): Promise<void> {
  const parsed = parseYaml(body.toString("utf8"));
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) problem(st, label, `YAML error in #cloud-config-archive: ${e.message}; not applied`, { line: e.line, col: e.col });
    return;
  }
  if (!Array.isArray(parsed.value)) {
    problem(st, label, "#cloud-config-archive must be a YAML list of parts ({content, type, filename}); not applied", { line: 1, col: 1 });
    return;
  }
  for (const [i, raw] of parsed.value.entries()) {
    const ent = typeof raw === "string" ? { content: raw } : raw;
    if (!isPlainObject(ent)) {
      problem(st, label, `archive entry ${i + 1} is neither text nor a mapping with content; skipped`);
      continue;
    }
    const content = ent.content instanceof Uint8Array ? Buffer.from(ent.content) : Buffer.from(typeof ent.content === "string" ? ent.content : "", "utf8");
    const type = typeof ent.type === "string" && ent.type ? ent.type : (typeFromContent(content) ?? "text/cloud-config");
    const headers: MimeHeaders = {};
    for (const k of ["merge_how", "merge_type", "merge-type", "x-merge-type"]) {
      const v = Object.entries(ent).find(([key]) => key.toLowerCase() === k)?.[1];
      if (typeof v === "string") headers["merge-type"] = v;
    }
    await handlePart(st, type, content, typeof ent.filename === "string" ? ent.filename : null, headers, `${label} entry ${i + 1}`, depth);
  }
}

/** Parses one user-data (or vendor-data) blob in any of cloud-init's formats. */
export async function processUserData(bytes: Buffer | null, opts: UserDataOptions): Promise<ProcessedUserData> {
  const st: State = { opts, out: emptyUserData(), partNo: 0, includes: 0, names: new Set() };
  if (bytes && bytes.length > 0) await handleBlob(st, bytes, opts.source, 0);
  return st.out;
}

/** The processed parts as one MIME message: what sprout applied, kept as user-data.txt.i. */
export function processedToMime(parts: ProcessedPart[]): string {
  const boundary = "===============sprout-processed==";
  const lines = ["Content-Type: multipart/mixed; boundary=\"" + boundary + "\"", "MIME-Version: 1.0", "Number-Attachments: " + parts.length, ""];
  for (const p of parts) {
    lines.push(`--${boundary}`, `Content-Type: ${p.contentType}; charset="utf-8"`, "MIME-Version: 1.0", "Content-Transfer-Encoding: base64", `Content-Disposition: attachment; filename="${p.filename}"`, "");
    lines.push(...(p.body.toString("base64").match(/.{1,76}/g) ?? [""]));
  }
  lines.push(`--${boundary}--`, "");
  return lines.join("\n");
}
