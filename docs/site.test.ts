// The site as a reader meets it: built by the real generator (docs/build.mjs) with the
// built bundle, then checked: no dead internal links, every cloud-config in the guides
// and every example in the module reference validates against the modules' schemas,
// every runnable CLI example runs, and catalogues (good, bad, over http) behave.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODULES } from "../modules/index";
import { markdownToHtml, type CodeBlock } from "./gen/markdown";
import { referenceExamples } from "./gen/site";
import { latestImages, parseCatalogue } from "./gen/simplestreams";
import { BUNDLE } from "../test/helpers/cli";

const REPO = resolve(__dirname, "..");
const EXAMPLE = join(REPO, "docs/catalogue");
const tmp = mkdtempSync(join(tmpdir(), "sprout-docs-test-"));
const SITE = join(tmp, "site");

function buildSite(...args: string[]) {
  return spawnSync(process.execPath, [join(REPO, "docs/build.mjs"), ...args], { encoding: "utf8", timeout: 120_000 });
}

/** The build in a child process while this process's event loop serves the test catalogue. */
function buildAsync(...args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((ok) => {
    const c = spawn(process.execPath, [join(REPO, "docs/build.mjs"), ...args]);
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr += d));
    c.on("close", (status) => ok({ status, stderr }));
  });
}

const readCatalogue = (dir: string) => parseCatalogue(async (p) => readFileSync(join(dir, p), "utf8"));

beforeAll(() => {
  const r = buildSite("--out", SITE);
  if (r.status !== 0) throw new Error(`docs build failed: ${r.stderr}`);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pages = () => readdirSync(SITE).filter((f) => f.endsWith(".html"));
const guideFiles = () => [...readdirSync(join(REPO, "docs/guides")).map((f) => join(REPO, "docs/guides", f)), ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(REPO, "docs", f))].filter((f) => f.endsWith(".md"));
function guideBlocks(): Array<CodeBlock & { file: string }> {
  return guideFiles().flatMap((file) => {
    const blocks: CodeBlock[] = [];
    markdownToHtml(readFileSync(file, "utf8"), blocks);
    return blocks.map((b) => ({ ...b, file }));
  });
}

/** Validates a cloud-config with the built CLI's `sprout schema --config-file`: the docs check what a user's check checks. */
function validateCloudConfig(text: string): string[] {
  const f = join(mkdtempSync(join(tmp, "cc-")), "user-data");
  writeFileSync(f, text);
  const r = spawnSync(process.execPath, [BUNDLE, "schema", "--config-file", f], { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? [] : [`exit ${r.status}: ${r.stdout}${r.stderr}`];
}

describe("the built site", () => {
  it("has the landing page, images, guides, module reference and boot chart", () => {
    for (const f of ["index.html", "images.html", "guides.html", "modules.html", "boot-chart.html", "style.css", "ec2.html", "rescue.html", "migrate-from-cloud-init.html"]) expect(existsSync(join(SITE, f)), f).toBe(true);
  });

  it("has no dead internal links (pages and anchors)", () => {
    const dead: string[] = [];
    for (const p of pages()) {
      const html = readFileSync(join(SITE, p), "utf8");
      for (const [, url] of html.matchAll(/(?:href|src)="([^"]+)"/g)) {
        if (/^[a-z]+:/i.test(url!)) continue;
        const [file, anchor] = url!.split("#");
        const target = file ? join(SITE, file) : join(SITE, p);
        if (!existsSync(target)) dead.push(`${p} -> ${url}`);
        else if (anchor && target.endsWith(".html") && !readFileSync(target, "utf8").includes(`id="${anchor}"`)) dead.push(`${p} -> ${url} (no such anchor)`);
      }
    }
    expect(dead).toEqual([]);
  });

  it("renders every guide", () => {
    for (const f of guideFiles()) {
      const name = (f.includes("/guides/") ? "" : "ref-") + f.split("/").pop()!.replace(/\.md$/, ".html");
      expect(existsSync(join(SITE, name)), name).toBe(true);
    }
  });

  it("lists the latest image of every release and region of the example catalogue", async () => {
    const html = readFileSync(join(SITE, "images.html"), "utf8");
    const latest = latestImages(await readCatalogue(EXAMPLE));
    expect(latest.length).toBeGreaterThan(4);
    expect(html.match(/<tr class="image">/g)).toHaveLength(latest.length);
    for (const im of latest) expect(html).toContain(im.id);
    expect(html).toContain('id="latest-bookworm"');
    expect(html).toContain('id="latest-trixie"');
  });

  it("documents every registered module", () => {
    const html = readFileSync(join(SITE, "modules.html"), "utf8");
    for (const m of MODULES) expect(html).toContain(`<section class="module" id="${m.id}">`);
  });

  it("shows a chart of a real boot", () => {
    const html = readFileSync(join(SITE, "boot-chart.html"), "utf8");
    expect(html).toContain('class="sprout-boot-chart"');
    expect(html).toMatch(/module-row" data-result="changed"/);
  });
});

describe("examples in the docs", () => {
  it("every example in the module reference validates against its module's schema", () => {
    const examples = referenceExamples(MODULES);
    expect(examples.length).toBeGreaterThanOrEqual(MODULES.length - 1);
    for (const ex of examples) expect(validateCloudConfig(ex.config), `${ex.module}.${ex.key}`).toEqual([]);
  });

  it("the validator rejects a wrong example (the check works)", () => {
    expect(validateCloudConfig("#cloud-config\nruncmd: 3\n").length).toBeGreaterThan(0);
  });

  it("every cloud-config block in the guides validates", () => {
    const cc = guideBlocks().filter((b) => b.lang === "yaml" && /^#cloud-config[ \t]*(\n|$)/.test(b.code));
    expect(cc.length).toBeGreaterThan(1);
    for (const b of cc) expect(validateCloudConfig(b.code), b.file).toEqual([]);
  });

  it("every runnable CLI example (sh lines `sprout ...` with --help, --version or schema) runs", () => {
    const help = spawnSync(process.execPath, [BUNDLE, "--help"], { encoding: "utf8" }).stdout;
    const lines = guideBlocks().filter((b) => b.lang === "sh").flatMap((b) => b.code.split("\n").map((l) => ({ l: l.trim(), file: b.file })));
    const runnable = lines.filter(({ l }) => /^sprout (.*\s)?(--help|--version)\b|^sprout schema\b/.test(l));
    expect(runnable.length).toBeGreaterThan(1);
    let ran = 0;
    for (const { l, file } of runnable) {
      const argv = l.split(/\s+/).slice(1);
      const cmd = argv.find((a) => !a.startsWith("-"));
      // `sprout schema` lands from another branch: until its command is registered, its examples wait.
      if (cmd && !new RegExp(`^\\s+${cmd}\\b`, "m").test(help)) continue;
      const r = spawnSync(process.execPath, [BUNDLE, ...argv], { encoding: "utf8", timeout: 30_000 });
      expect(r.status, `${file}: ${l}\n${r.stderr}`).toBe(0);
      ran++;
    }
    expect(ran).toBeGreaterThan(0);
  });
});

describe("catalogues", () => {
  function brokenCopy(edit: (dl: any) => void): string {
    const dir = join(mkdtempSync(join(tmp, "cat-")), "c");
    cpSync(EXAMPLE, dir, { recursive: true });
    const f = join(dir, "streams/v1/org.sprout.images:download.json");
    const dl = JSON.parse(readFileSync(f, "utf8"));
    edit(dl);
    writeFileSync(f, JSON.stringify(dl));
    return dir;
  }

  it("a missing field names the product, version, item and field, and the build fails", () => {
    const dir = brokenCopy((dl) => delete dl.products["org.sprout.images:trixie:arm64"].versions["20261121"].items.qcow2.sha256);
    const r = buildSite("--catalogue", dir, "--out", join(tmp, "bad-site"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('product org.sprout.images:trixie:arm64 version 20261121 item qcow2: missing field "sha256"');
  });

  it("a product without release is refused", async () => {
    const dir = brokenCopy((dl) => delete dl.products["org.sprout.images:bookworm:amd64"].release);
    await expect(readCatalogue(dir)).rejects.toThrow(/product org.sprout.images:bookworm:amd64: missing field "release"/);
  });

  it("bad JSON names the file", async () => {
    const dir = brokenCopy(() => {});
    writeFileSync(join(dir, "streams/v1/index.json"), "{ not json");
    await expect(readCatalogue(dir)).rejects.toThrow(/streams\/v1\/index.json is not valid JSON/);
  });

  it("picks the newest serial per release and region", async () => {
    const latest = latestImages(await readCatalogue(EXAMPLE));
    const bw = latest.filter((x) => x.release === "bookworm");
    expect(new Set(bw.map((x) => x.serial))).toEqual(new Set(["20261120"]));
  });

  it("reads a catalogue over http (127.0.0.1)", async () => {
    const server: Server = createServer((req, res) => {
      const f = join(EXAMPLE, decodeURIComponent(req.url!.replace(/^\/cat\//, "")));
      if (!req.url!.startsWith("/cat/") || !existsSync(f)) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(f));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    try {
      const out = join(tmp, "http-site");
      const r = await buildAsync("--catalogue", `http://127.0.0.1:${port}/cat/`, "--out", out);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(readFileSync(join(out, "images.html"), "utf8")).toContain(`http://127.0.0.1:${port}/cat/`);
      const missing = await buildAsync("--catalogue", `http://127.0.0.1:${port}/nothing/`, "--out", join(tmp, "x"));
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toMatch(/answered 404/);
    } finally {
      server.close();
    }
  });
});

describe("markdown subset", () => {
  it("converts headings, lists with code, tables, inline code and links to other guides", () => {
    const blocks: CodeBlock[] = [];
    const { html, title } = markdownToHtml("# T `x`\n\n- a <b>\n  more\n  ```sh\n  sprout --help\n  ```\n1. one\n\n| k | v |\n|---|---|\n| `a` | [r](rescue.md#x) |\n", blocks);
    expect(title).toBe("T x");
    expect(html).toContain("<li>a &lt;b&gt; more\n<pre><code class=\"language-sh\">sprout --help</code></pre></li>");
    expect(html).toContain("<ol>");
    expect(html).toContain('<td><a href="rescue.html#x">r</a></td>');
    expect(blocks).toEqual([{ lang: "sh", code: "sprout --help" }]);
  });
});
