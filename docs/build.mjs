// `npm run docs`: bundles the generator (TypeScript, importing the module registry)
// with the repository's esbuild and runs it; no extra dependency.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const out = new URL("../.cache/docs-build.cjs", import.meta.url).pathname;
mkdirSync(new URL("../.cache/", import.meta.url), { recursive: true });
await build({ entryPoints: [new URL("./gen/main.ts", import.meta.url).pathname], bundle: true, platform: "node", target: "node18", format: "cjs", outfile: out, logLevel: "warning", define: { __SPROUT_VERSION__: '"docs"' } });
const { main } = createRequire(import.meta.url)(out);
try {
  process.exitCode = await main(process.argv.slice(2), new URL("..", import.meta.url).pathname);
} catch (e) {
  process.stderr.write(`docs: ${e.message}\n`);
  process.exitCode = 1;
}
