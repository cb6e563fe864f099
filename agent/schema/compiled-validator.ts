// The compiled validator of a whole cloud-config document.
//
// Run from source (vitest, tsx) this file compiles the schema with Ajv when first
// asked. The bundle never contains this file: packaging/schema-validator-plugin.mjs
// puts in its place the same validator, generated at build time by Ajv's
// standalone code from the same schema and options (./standalone.ts), so
// `sprout schema` loads neither the modules nor Ajv's compiler, and the
// validation code is plain JavaScript the code cache keeps. standalone.test.ts
// checks that both give the same errors.
import Ajv, { type ValidateFunction } from "ajv";
import { isPlainObject } from "../merge";
import type { JsonObject } from "../types";
import { cloudConfigSchema } from ".";

/**
 * verbose: every error carries its schema (parentSchema), which the messages read;
 * validateSchema is off because schema.test.ts checks the schema once;
 * inlineRefs off keeps each $ref a function of its own (see validatorSchema).
 */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true, validateSchema: false, inlineRefs: false } as const;

const ANNOTATIONS = new Set(["title", "description", "default", "examples", "deprecated"]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "definitions"]);
const SUBSCHEMAS = new Set(["items", "additionalItems", "additionalProperties", "propertyNames", "contains", "not", "oneOf", "anyOf", "allOf", "if", "then", "else"]);

/** A schema without the words for people (docs), which validation never reads: a third of the generated code. */
function withoutAnnotations(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(withoutAnnotations);
  if (!isPlainObject(s)) return s;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(s)) {
    if (ANNOTATIONS.has(k)) continue;
    if (SCHEMA_MAPS.has(k) && isPlainObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, withoutAnnotations(sub)]));
    else out[k] = SUBSCHEMAS.has(k) ? withoutAnnotations(v) : v;
  }
  return out;
}

/**
 * The document's schema as the validator is compiled from it: without
 * annotations, and with each top-level key's schema behind a $ref, so the
 * generated code has one small function per key instead of one function for
 * every key and a run compiles (or reads from the code cache) only the
 * functions of the keys its file has. The errors are the same but for schemaPath.
 */
export function validatorSchema(): JsonObject {
  const full = withoutAnnotations(cloudConfigSchema()) as JsonObject;
  const props = full.properties as Record<string, JsonObject>;
  const pointer = (k: string) => `#/definitions/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  return { ...full, properties: Object.fromEntries(Object.keys(props).map((k) => [k, { $ref: pointer(k) }])), definitions: props };
}

let compiled: ValidateFunction | null = null;

export function cloudConfigValidator(): ValidateFunction {
  compiled ??= new Ajv(AJV_OPTIONS).compile(validatorSchema());
  return compiled;
}
