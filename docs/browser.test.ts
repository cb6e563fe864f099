// The site in a real browser: Debian's chromium, headless, driven by its own
// --dump-dom and --screenshot flags (no extra npm dependency). Served over
// node:http on 127.0.0.1 and opened from file:// too. Screenshots of the landing
// page and the boot chart are kept in test-results/docs/ as artefacts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODULES } from "../modules/index";
import { latestImages, parseCatalogue } from "./gen/simplestreams";

const REPO = resolve(__dirname, "..");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const ARTEFACTS = join(REPO, "test-results/docs");
const tmp = mkdtempSync(join(tmpdir(), "sprout-docs-browser-"));
const SITE = join(tmp, "site");
let server: ChildProcess | undefined;
let base = "";

function chromium(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const profile = mkdtempSync(join(tmp, "profile-"));
  const r = spawnSync(
    CHROMIUM!,
    ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`, "--window-size=1100,900", ...args],
    { encoding: "utf8", timeout: 90_000, maxBuffer: 32 << 20 },
  );
  rmSync(profile, { recursive: true, force: true });
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: r.status };
}

const dom = (url: string) => chromium(["--dump-dom", url]).stdout;

/** Distinct colours in a PNG (8-bit RGB/RGBA, any filter): a blank page has one. */
export function pngColours(png: Buffer): number {
  let off = 8;
  let width = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString("latin1", off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  const colours = new Set<number>();
  for (let row = 0; (row + 1) * (stride + 1) <= raw.length; row++) {
    const f = raw[row * (stride + 1)]!;
    const line = raw.subarray(row * (stride + 1) + 1, (row + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const p = a + b - c;
      const pred = f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? (Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c) : 0;
      cur[i] = (line[i]! + pred) & 255;
    }
    for (let x = 0; x < width; x += 3) colours.add(cur.readUIntBE(x * channels, 3));
    cur.copy(prev);
  }
  return colours.size;
}

/** A static file server for SITE on 127.0.0.1; prints its port. */
const SERVER = `
const { createServer } = require("node:http"); const { existsSync, readFileSync } = require("node:fs"); const { join, extname } = require("node:path");
const SITE = process.argv[1]; const TYPES = { ".html": "text/html; charset=utf-8", ".css": "text/css" };
const s = createServer((req, res) => {
  const f = join(SITE, decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\\/+/, "") || "index.html");
  if (!f.startsWith(SITE) || !existsSync(f)) return res.writeHead(404).end("not found");
  res.writeHead(200, { "content-type": TYPES[extname(f)] || "application/octet-stream" }).end(readFileSync(f));
});
s.listen(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));`;

beforeAll(async () => {
  if (!CHROMIUM) return;
  const r = spawnSync(process.execPath, [join(REPO, "docs/build.mjs"), "--out", SITE], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`docs build failed: ${r.stderr}`);
  // The server runs in its own process: chromium is driven with spawnSync, which blocks this one's event loop.
  const child = spawn(process.execPath, ["-e", SERVER, SITE], { stdio: ["ignore", "pipe", "inherit"] });
  server = child;
  const port = await new Promise<string>((ok, fail) => {
    child.stdout!.once("data", (d: Buffer) => ok(d.toString().trim()));
    child.once("exit", () => fail(new Error("the test web server did not start")));
  });
  base = `http://127.0.0.1:${port}/`;
  mkdirSync(ARTEFACTS, { recursive: true });
});
afterAll(() => {
  server?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

if (!CHROMIUM) console.warn("docs browser tests skipped: chromium is not installed (apt-get install chromium; it is in test/system-packages.txt)");

describe.skipIf(!CHROMIUM)("the site in headless chromium", () => {
  it("the images table shows the example catalogue's latest rows", async () => {
    const latest = latestImages(await parseCatalogue(async (p) => readFileSync(join(REPO, "docs/catalogue", p), "utf8")));
    const html = dom(base + "images.html");
    expect(html.match(/<tr class="image">/g)).toHaveLength(latest.length);
    for (const im of latest) expect(html).toContain(im.id);
  });

  it("the module reference lists every registered module", () => {
    const html = dom(base + "modules.html");
    for (const m of MODULES) expect(html).toContain(`id="${m.id}"`);
  });

  it("the boot chart renders (svg laid out with bars) and is not blank", () => {
    const html = dom(base + "boot-chart.html");
    expect(html).toContain("sprout-boot-chart");
    expect((html.match(/<rect /g) ?? []).length).toBeGreaterThan(4);
    const png = join(ARTEFACTS, "boot-chart.png");
    rmSync(png, { force: true });
    chromium([`--screenshot=${png}`, base + "boot-chart.html"]);
    expect(pngColours(readFileSync(png))).toBeGreaterThan(5);
  });

  it("the landing page renders with its stylesheet, over http and from file://", () => {
    const png = join(ARTEFACTS, "landing.png");
    rmSync(png, { force: true });
    chromium([`--screenshot=${png}`, base + "index.html"]);
    expect(pngColours(readFileSync(png))).toBeGreaterThan(5);
    const fromFile = dom(`file://${SITE}/index.html`);
    expect(fromFile).toContain("Which image do I run?");
    expect(dom(`file://${SITE}/images.html`)).toContain('<tr class="image">');
  });

  it("the colour count tells a blank page from a drawn one (the check works)", () => {
    const blank = join(tmp, "blank.png");
    chromium([`--screenshot=${blank}`, "data:text/html,<body style='background:white'></body>"]);
    expect(pngColours(readFileSync(blank))).toBe(1);
  });
});
