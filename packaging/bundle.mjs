// Builds dist/sprout.js: one self-contained file, runnable with `node` >= 18 and
// no node_modules. Dynamic imports stay lazy inside the bundle, so a command
// initialises only the code it uses.
import { build } from "esbuild";
import { readFileSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { precompiledSchemaValidator } from "./schema-validator-plugin.mjs";
import { embedProgram } from "./embed-program.mjs";

// yaml requires the `process` and `buffer` built-ins for process.emitWarning, process.env
// and Buffer. A Node without a start-up snapshot (Debian's 18) makes a built-in's public
// module by reading every export, so require("process") creates stdout, stderr and stdin
// and compiles six internal modules at every boot: the globals are the same objects.
const yamlBuiltinsAsGlobals = {
  name: "yaml-builtins-as-globals",
  setup(b) {
    b.onResolve({ filter: /^(node:)?(process|buffer)$/ }, (args) =>
      /node_modules\/yaml\//.test(args.importer) ? { path: args.path.replace(/^node:/, ""), namespace: "global-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "global-builtin" }, (args) => ({
      contents: args.path === "process" ? "module.exports = process;" : "module.exports = { Buffer: Buffer };",
      loader: "js",
    }));
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
  // SPROUT_BUNDLE_READABLE=1 keeps names and layout, for reading a CPU profile of a boot.
  minify: process.env.SPROUT_BUNDLE_READABLE !== "1",
  keepNames: false,
  legalComments: "none",
  define: { __SPROUT_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning",
  plugins: [yamlBuiltinsAsGlobals, precompiledSchemaValidator],
});
// esbuild keeps import() of Node built-ins (lazily loaded node:https and the like);
// vm.Script cannot run import(), and require() is just as lazy for a built-in.
const program = result.outputFiles[0].text.replace(/\bimport\("(node:[a-z_/]+)"\)/g, 'Promise.resolve(require("$1"))');
if (/\bimport\(/.test(program.replace(/"[^"\n]*"|'[^'\n]*'|`[^`]*`/g, ""))) throw new Error("the bundle still has a dynamic import(), which vm.Script cannot run");
// The program rides in a comment at the end of the loader (see the loader's comment).
const embedded = embedProgram(program);
// Each "*/" makes the loader unescape the whole program at every start (about 2 ms): say so.
if (embedded.hasCommentClose) console.warn('bundle: the program contains "*/"; the loader will unescape it at every start. Rewrite it (a regex ending in "*/" can use "{0,}/").');
// A fresh checkout has no dist/.
mkdirSync(new URL("../dist/", import.meta.url), { recursive: true });
writeFileSync(new URL("../dist/sprout.js", import.meta.url), embedded.text);
chmodSync(new URL("../dist/sprout.js", import.meta.url), 0o755);
// The repository is "type": "module"; the bundle is CommonJS (no ESM loader cost).
writeFileSync(new URL("../dist/package.json", import.meta.url), '{ "type": "commonjs" }\n');
