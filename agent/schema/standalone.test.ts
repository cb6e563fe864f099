// The bundle validates with the code Ajv generates at build time (./standalone.ts);
// tests run from source validate with Ajv compiling at run time
// (./compiled-validator.ts). Both must report the very same errors.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { MODULES } from "../../modules";
import { parseYaml } from "../yaml";
import { cloudConfigValidator } from "./compiled-validator";
import { standaloneValidatorSource } from "./standalone";

const DOCS = join(__dirname, "../../../shared/corpus/cloud-init/module-docs");

/** The generated module, loaded the way the bundle has it: as code, not through Ajv. */
function loadStandalone(): ValidateFunction {
  const source = standaloneValidatorSource();
  expect(source).not.toMatch(/require\("ajv"\)|new Function/);
  const cjs = transformSync(source, { format: "cjs", loader: "js" }).code;
  const mod = { exports: {} as { cloudConfigValidator?: () => ValidateFunction } };
  new Function("module", "exports", "require", cjs)(mod, mod.exports, createRequire(__filename));
  return mod.exports.cloudConfigValidator!();
}

function errorsOf(validate: ValidateFunction, doc: unknown): Array<Partial<ErrorObject>> | null {
  validate(doc);
  return (validate.errors ?? []).map(({ instancePath, schemaPath, keyword, params, message, parentSchema }) => ({ instancePath, schemaPath, keyword, params, message, parentSchema }));
}

const BAD: Record<string, string> = {
  "unknown top-level key": "write_file: []\n",
  "unknown nested key": "write_files:\n  - path: /x\n    permisions: '0644'\n",
  "wrong type": "runcmd: 5\n",
  "wrong item type": "write_files:\n  - path: /x\n    permissions: [1]\n",
  "bad enum": "power_state: {mode: explode}\n",
  "missing required key": "power_state: {delay: now}\nphone_home: {post: all}\n",
  "oneOf fails every branch": "manage_etc_hosts: 7\nssh_pwauth: maybe\n",
  "pattern and minimum": "power_state: {mode: reboot, delay: soon, timeout: -1}\nphone_home: {url: http://127.0.0.1/, tries: 0}\n",
  "minItems": "package_upgrade: true\npackages: [[]]\n",
  "bad encoding and source": "write_files:\n  - path: /x\n    encoding: rot13\n  - path: /y\n    source: {}\n",
  "deep list items": "users:\n  - name: a\n    groups: 5\n    ssh_authorized_keys: [1, 2]\n  - 7\n",
  "deprecated keys of the wrong type": "apt_update: yes-please\n",
  "everything wrong at once": "bootcmd: {}\nhostname: [a]\ntimezone: 3\nfinal_message: []\noutput: 1\n",
};

describe("the generated validator agrees with Ajv compiling at run time", () => {
  const generated = loadStandalone();
  const runtime = cloudConfigValidator();

  const examples = readdirSync(DOCS).flatMap((dir) => readdirSync(join(DOCS, dir)).map((f) => join(dir, f)));
  it("finds the module-docs examples", () => expect(examples.length).toBeGreaterThan(20));
  for (const f of examples) {
    it(`module-docs ${f}`, () => {
      const doc = parseYaml(readFileSync(join(DOCS, f), "utf8")).value;
      expect(errorsOf(generated, doc)).toEqual(errorsOf(runtime, doc));
    });
  }

  it("on every module's own examples", () => {
    for (const m of MODULES) {
      for (const [k, s] of Object.entries((m.schema.properties ?? {}) as Record<string, { examples?: unknown[] }>)) {
        for (const ex of s.examples ?? []) {
          const doc = { [k]: ex };
          expect(generated(doc), `${m.id}: ${k}`).toBe(true);
          expect(runtime(doc), `${m.id}: ${k}`).toBe(true);
        }
      }
    }
  });

  for (const [what, yaml] of Object.entries(BAD)) {
    it(`on bad input: ${what}`, () => {
      const doc = parseYaml(yaml).value;
      const fromRuntime = errorsOf(runtime, doc);
      expect(fromRuntime!.length).toBeGreaterThan(0);
      expect(errorsOf(generated, doc)).toEqual(fromRuntime);
    });
  }
});
