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
import type { JsonObject } from "../types";
import { cloudConfigSchema } from ".";

/**
 * verbose: every error carries its schema (parentSchema), which the messages read;
 * validateSchema is off because schema.test.ts checks the schema once;
 * inlineRefs off keeps each $ref a function of its own (see validatorSchema).
 */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true, validateSchema: false, inlineRefs: false } as const;

/**
 * The document's schema with each top-level key's schema behind a $ref: the
 * generated code then has one small function per key instead of one function
 * for every key, so a run compiles (or reads from the code cache) only the
 * functions of the keys its file has. The errors are the same but for schemaPath.
 */
export function validatorSchema(): JsonObject {
  const full = cloudConfigSchema();
  const props = full.properties as Record<string, JsonObject>;
  const pointer = (k: string) => `#/definitions/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  return { ...full, properties: Object.fromEntries(Object.keys(props).map((k) => [k, { $ref: pointer(k) }])), definitions: props };
}

let compiled: ValidateFunction | null = null;

export function cloudConfigValidator(): ValidateFunction {
  compiled ??= new Ajv(AJV_OPTIONS).compile(validatorSchema());
  return compiled;
}
