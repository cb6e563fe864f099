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
import { cloudConfigSchema } from ".";

/**
 * verbose: every error carries its schema (parentSchema), which the messages read;
 * validateSchema is off because schema.test.ts checks the schema once.
 */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true, validateSchema: false } as const;

let compiled: ValidateFunction | null = null;

export function cloudConfigValidator(): ValidateFunction {
  compiled ??= new Ajv(AJV_OPTIONS).compile(cloudConfigSchema());
  return compiled;
}
