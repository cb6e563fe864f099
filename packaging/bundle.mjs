// Builds dist/sprout.js: one self-contained file, runnable with `node` >= 18 and
// no node_modules. Dynamic imports stay lazy inside the bundle, so a command
// initialises only the code it uses.
import { build } from "esbuild";
import { readFileSync, writeFileSync, chmodSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
await build({
  entryPoints: [new URL("../agent/cli.ts", import.meta.url).pathname],
  outfile: new URL("../dist/sprout.js", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  minify: true,
  keepNames: false,
  legalComments: "none",
  banner: { js: "#!/usr/bin/env node" },
  define: { __SPROUT_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning",
});
chmodSync(new URL("../dist/sprout.js", import.meta.url), 0o755);
// The repository is "type": "module"; the bundle is CommonJS (no ESM loader cost).
writeFileSync(new URL("../dist/package.json", import.meta.url), '{ "type": "commonjs" }\n');
