// esbuild plugin: the bundle gets the cloud-config validator as plain JavaScript,
// generated now by Ajv's standalone code from the modules' schemas, in place of
// agent/schema/compiled-validator.ts (which compiles with Ajv at run time, for
// tests run from source). So `sprout schema` pays neither for loading Ajv's
// compiler and every module nor for compiling with `new Function`, which no code
// cache can keep. Nothing generated is written to the repository.
import { build } from "esbuild";
import { createRequire } from "node:module";

const agentSchema = new URL("../agent/schema/", import.meta.url).pathname;

export const precompiledSchemaValidator = {
  name: "precompiled-schema-validator",
  setup(b) {
    b.onLoad({ filter: /[\\/]agent[\\/]schema[\\/]compiled-validator\.ts$/ }, async () => {
      // agent/schema/standalone.ts is TypeScript: bundle it (packages from node_modules) and run it.
      const gen = await build({
        entryPoints: [agentSchema + "standalone.ts"],
        write: false,
        bundle: true,
        platform: "node",
        format: "cjs",
        packages: "external",
        define: b.initialOptions.define,
        logLevel: "warning",
      });
      const mod = { exports: {} };
      new Function("module", "exports", "require", gen.outputFiles[0].text)(mod, mod.exports, createRequire(agentSchema));
      return { contents: mod.exports.standaloneValidatorSource(), loader: "js", resolveDir: agentSchema };
    });
  },
};
