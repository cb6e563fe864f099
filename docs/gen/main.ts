// `npm run docs [-- --catalogue PATH|URL] [--out DIR]`: writes the static site to
// docs/site/ (plain HTML + one CSS file, relative links, so it works from file://
// and from any static web server). Our own small generator, not a package: the
// pages that matter (images, module reference, boot chart) are generated from
// sprout's own data anyway, and this keeps the repository free of a site toolchain.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { MODULES } from "../../modules/index";
import { parseBoots } from "../../agent/commands/analyze";
import { renderBootChartSvg } from "../../agent/commands/boot-chart";
import { CatalogueError, parseCatalogue } from "./simplestreams";
import { renderSite } from "./site";

// Set by main(): the bundled generator runs from .cache/, not from here.
let REPO = resolve(".");
const FETCH_TIMEOUT_MS = 15_000;

function args(argv: string[]): { catalogue: string; out: string; mirror: string } {
  const o = { catalogue: join(REPO, "docs/catalogue"), out: join(REPO, "docs/site"), mirror: "https://images.sprout.example/" };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    if (!["--catalogue", "--out", "--mirror"].includes(k) || v === undefined) throw new Error(`usage: npm run docs -- [--catalogue PATH|URL] [--out DIR] [--mirror URL] (bad argument ${JSON.stringify(k)})`);
    (o as Record<string, string>)[k.slice(2)] = v;
    i++;
  }
  return o;
}

/** A reader for the catalogue's files: a folder or an http(s) URL (one request per file, bounded). */
function reader(where: string): (path: string) => Promise<string> {
  if (/^https?:\/\//.test(where)) {
    const base = where.endsWith("/") ? where : `${where}/`;
    return async (path) => {
      const url = new URL(path, base).toString();
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "follow" });
      } catch (e) {
        throw new CatalogueError(`cannot fetch ${url}: ${(e as Error).message}; check the URL or use a local copy with --catalogue PATH`);
      }
      if (!res.ok) throw new CatalogueError(`${url} answered ${res.status}; check the URL (it must be the folder that holds streams/v1/index.json)`);
      return res.text();
    };
  }
  return async (path) => {
    const file = join(where, path);
    if (!existsSync(file)) throw new CatalogueError(`${file} does not exist; --catalogue must name the folder that holds streams/v1/index.json`);
    return readFileSync(file, "utf8");
  };
}

/** A real boot of the built bundle on the demo seed, for the chart in the docs. */
function demoBootChart(): string {
  const bundle = join(REPO, "dist/sprout.js");
  if (!existsSync(bundle)) throw new Error("dist/sprout.js is missing: run npm run build first (npm run docs does)");
  const root = mkdtempSync(join(tmpdir(), "sprout-docs-boot-"));
  try {
    mkdirSync(join(root, "proc"), { recursive: true });
    writeFileSync(join(root, "proc/cmdline"), "root=LABEL=cloudimg-rootfs ro console=ttyS0\n");
    writeFileSync(join(root, "proc/uptime"), "3.14 2.00\n");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/hosts"), "127.0.0.1 localhost\n");
    cpSync(join(REPO, "test/demo/seed"), join(root, "var/lib/cloud/seed/nocloud"), { recursive: true });
    const env = { ...process.env, SPROUT_DEMO_ROOT: root };
    spawnSync(process.execPath, [bundle, "--root", root, "boot"], { encoding: "utf8", env, timeout: 60_000 });
    const r = spawnSync(process.execPath, [bundle, "--root", root, "analyze", "--format", "svg"], { encoding: "utf8", env, timeout: 30_000 });
    if (r.status !== 0) throw new Error(`sprout analyze --format svg failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function main(argv: string[], repo: string): Promise<number> {
  REPO = repo;
  const o = args(argv);
  const catalogue = await parseCatalogue(reader(o.catalogue));
  const guides = ["docs/guides", "docs"].flatMap((dir) =>
    readdirSync(join(REPO, dir))
      .filter((f) => f.endsWith(".md"))
      .map((f) => ({ name: (dir === "docs" ? "ref-" : "") + basename(f, ".md"), reference: dir === "docs", markdown: readFileSync(join(REPO, dir, f), "utf8") })),
  );
  const files = renderSite({ catalogue, catalogueSource: o.catalogue, mirror: o.mirror, guides, modules: MODULES, bootChartSvg: demoBootChart() });
  rmSync(o.out, { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(o.out, name, ".."), { recursive: true });
    writeFileSync(join(o.out, name), text);
  }
  process.stdout.write(`docs: ${Object.keys(files).length} files in ${o.out}\n`);
  return 0;
}

// parseBoots is re-exported for the tests that build a chart from a log of their own.
export { parseBoots, renderBootChartSvg };
