// Builds dist/sprout.js: one self-contained file, runnable with `node` >= 18 and
// no node_modules. Dynamic imports stay lazy inside the bundle, so a command
// initialises only the code it uses.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { precompiledSchemaValidator } from "./schema-validator-plugin.mjs";

// pino's transports are never used (the logger gets sprout's own stream): keep
// thread-stream, sonic-boom and worker_threads out of the boot's start-up cost.
const stub = new URL("./bundle-stubs/unused.cjs", import.meta.url).pathname;
const stubPinoTransports = {
  name: "stub-pino-transports",
  setup(b) {
    b.onResolve({ filter: /^(thread-stream|sonic-boom|worker_threads|node:worker_threads|\.\/transport)$/ }, (args) =>
      /node_modules\/pino\//.test(args.importer) ? { path: stub } : undefined,
    );
  },
};

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const result = await build({
  entryPoints: [new URL("../agent/cli.ts", import.meta.url).pathname],
  write: false,
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  minify: true,
  keepNames: false,
  legalComments: "none",
  define: { __SPROUT_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning",
  plugins: [stubPinoTransports, precompiledSchemaValidator],
});
// The program goes inside the code-cache loader as one string literal; see the loader's comment.
// esbuild keeps import() of Node built-ins (lazily loaded node:https and the like);
// vm.Script cannot run import(), and require() is just as lazy for a built-in.
const program = result.outputFiles[0].text.replace(/\bimport\("(node:[a-z_/]+)"\)/g, 'Promise.resolve(require("$1"))');
if (/\bimport\(/.test(program.replace(/"[^"\n]*"|'[^'\n]*'|`[^`]*`/g, ""))) throw new Error("the bundle still has a dynamic import(), which vm.Script cannot run");
const sourceHash = createHash("sha256").update(program).digest("hex").slice(0, 16);
const loader = readFileSync(new URL("./code-cache-loader.js", import.meta.url), "utf8")
  .replace("__SPROUT_SOURCE_HASH__", () => JSON.stringify(sourceHash))
  .replace("__SPROUT_SOURCE__", () => JSON.stringify(program));
// A fresh checkout has no dist/.
mkdirSync(new URL("../dist/", import.meta.url), { recursive: true });
writeFileSync(new URL("../dist/sprout.js", import.meta.url), "#!/usr/bin/env node\n" + loader);
chmodSync(new URL("../dist/sprout.js", import.meta.url), 0o755);
// The repository is "type": "module"; the bundle is CommonJS (no ESM loader cost).
writeFileSync(new URL("../dist/package.json", import.meta.url), '{ "type": "commonjs" }\n');
