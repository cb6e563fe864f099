// The cloud-config schema, assembled from the modules' own schemas (one source
// for validation and docs), the keys the agent itself reads, and the
// deprecated cloud-init keys sprout still accepts (./deprecated). No Ajv here: this file is
// also what the docs generator imports.
import { stringify } from "yaml";
import { MODULES } from "../../modules";
import type { JsonObject, Module } from "../types";
import { CORE_SCHEMA } from "./core";
import { DEPRECATED_KEYS } from "./deprecated";

export { CORE_SCHEMA };

type Schema = JsonObject;

/** Every top-level key with the module that owns it ("core" for the agent's own). */
export function ownedKeys(modules: readonly Module[] = MODULES): Map<string, { owner: string; schema: Schema }> {
  const keys = new Map<string, { owner: string; schema: Schema }>();
  for (const [k, s] of Object.entries(CORE_SCHEMA)) keys.set(k, { owner: "core", schema: s });
  for (const m of modules) {
    const props = (m.schema.properties ?? {}) as Record<string, Schema>;
    for (const [k, s] of Object.entries(props)) keys.set(k, { owner: m.id, schema: s });
  }
  return keys;
}

/** Every top-level key sprout reads or accepts as deprecated, from the modules themselves (./known-keys has a boot's cheaper version). */
export function knownTopLevelKeys(modules: readonly Module[] = MODULES): Set<string> {
  return new Set([...ownedKeys(modules).keys(), ...Object.keys(DEPRECATED_KEYS)]);
}

/** The JSON Schema of a whole cloud-config document. */
export function cloudConfigSchema(modules: readonly Module[] = MODULES): Schema {
  const properties: Record<string, Schema> = {};
  for (const [k, { schema }] of ownedKeys(modules)) properties[k] = schema;
  for (const [k, d] of Object.entries(DEPRECATED_KEYS)) properties[k] = { ...d.schema, deprecated: true, description: `Deprecated: use ${d.use}.` };
  return { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties, additionalProperties: false };
}

/** Keys of a schema that lack a description or an example: the registry test keeps this empty. */
export function undocumentedKeys(modules: readonly Module[] = MODULES): string[] {
  const out: string[] = [];
  const walk = (s: Schema, path: string) => {
    if (typeof s.description !== "string" || !s.description) out.push(`${path}: no description`);
    if (!Array.isArray(s.examples) || s.examples.length === 0) out.push(`${path}: no example`);
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const [k, sub] of Object.entries(props)) walk(sub, `${path}.${k}`);
  };
  for (const m of modules) {
    if (typeof m.schema.description !== "string") out.push(`${m.id}: the module schema has no description`);
    for (const [k, s] of Object.entries((m.schema.properties ?? {}) as Record<string, Schema>)) walk(s, `${m.id}: ${k}`);
  }
  return out;
}

function typeName(s: Schema): string {
  const alts = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (alts) return alts.map(typeName).join(" \\| ");
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
  return (Array.isArray(s.type) ? s.type : [s.type ?? "any"]).join(" \\| ");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The module reference in Markdown, from the schemas: every module (or one), its keys, types, defaults and examples. */
export function renderModuleDocs(only?: string, modules: readonly Module[] = MODULES): string {
  const picked = only ? modules.filter((m) => m.id === only) : modules;
  const out: string[] = [];
  if (!only) out.push("# Module reference", "", "Generated from the modules' schemas (`sprout schema --docs`). Modules run in this order within each stage.", "");
  for (const m of picked) {
    const props = (m.schema.properties ?? {}) as Record<string, Schema>;
    out.push(`## ${m.id}`, "", String(m.schema.description ?? ""), "", `Stage: **${m.stage}**. Runs: **${m.frequency}**.`, "");
    if (Object.keys(props).length === 0) {
      out.push("This module has no keys of its own.", "");
      continue;
    }
    out.push("| Key | Type | Default | Description |", "| --- | --- | --- | --- |");
    const rows = (ps: Record<string, Schema>, prefix: string) => {
      for (const [k, s] of Object.entries(ps)) {
        const def = s.default === undefined ? "" : `\`${cell(JSON.stringify(s.default))}\``;
        out.push(`| \`${prefix}${k}\` | ${typeName(s)} | ${def} | ${cell(String(s.description ?? ""))} |`);
        const items = s.items as Schema | undefined;
        if (s.properties) rows(s.properties as Record<string, Schema>, `${prefix}${k}.`);
        else if (items?.properties) rows(items.properties as Record<string, Schema>, `${prefix}${k}[].`);
      }
    };
    rows(props, "");
    out.push("", "Example:", "", "```yaml", "#cloud-config");
    const example: JsonObject = {};
    for (const [k, s] of Object.entries(props)) if (Array.isArray(s.examples) && s.examples.length && s.deprecated !== true) example[k] = s.examples[0];
    out.push(stringify(example).trimEnd(), "```", "");
  }
  return out.join("\n");
}
