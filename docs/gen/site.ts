// The pages of the site, from data to HTML strings (pure: main.ts does the I/O).
import type { Module } from "../../agent/types";
import { esc, markdownToHtml, slug } from "./markdown";
import { latestDownloads, latestImages, type Catalogue } from "./simplestreams";

export interface Guide {
  name: string;
  /** docs/*.md: reference notes next to the guides. */
  reference: boolean;
  markdown: string;
}

export interface SiteInput {
  catalogue: Catalogue;
  catalogueSource: string;
  mirror: string;
  guides: Guide[];
  modules: readonly Module[];
  bootChartSvg: string;
}

const CSS = `body{font:16px/1.5 system-ui,sans-serif;color:#1d2430;margin:0}
header{background:#1f4d36;color:#fff;padding:.6em 1.5em}header a{color:#fff;margin-right:1.2em;text-decoration:none}header a.home{font-weight:bold}
main{max-width:62em;margin:0 auto;padding:1em 1.5em 3em}
pre{background:#f3f5f7;padding:.7em 1em;overflow-x:auto;border-radius:4px}code{font:14px ui-monospace,monospace}
table{border-collapse:collapse;margin:1em 0}th,td{border-bottom:1px solid #dde2e8;padding:.25em .7em;text-align:left;vertical-align:top}th{background:#f3f5f7}
a{color:#1d5fa8}.sha{font-size:12px;word-break:break-all}.chart{overflow-x:auto;border:1px solid #dde2e8;padding:.5em}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · sprout</title><link rel="stylesheet" href="style.css"></head>
<body><header><a class="home" href="index.html">sprout</a><a href="images.html">Images</a><a href="guides.html">Guides</a><a href="modules.html">Module reference</a><a href="boot-chart.html">Boot chart</a></header>
<main>
${body}</main></body></html>
`;
}

function imagesPage(s: SiteInput): string {
  const images = latestImages(s.catalogue);
  const downloads = latestDownloads(s.catalogue);
  const releases = [...new Set([...images, ...downloads].map((r) => r.release))].sort();
  const link = (p: string) => esc(new URL(p, s.mirror).toString());
  const parts = [`<h1>Images</h1>`, `<p>The newest image of every release per region and architecture, from the catalogue <code>${esc(s.catalogueSource)}</code> (simplestreams format: <code>streams/v1/index.json</code>). Older serials stay in the catalogue.</p>`];
  parts.push(`<h2 id="latest">Latest per release</h2><ul>`);
  for (const r of releases) {
    const d = downloads.filter((x) => x.release === r);
    parts.push(`<li id="latest-${esc(slug(r))}"><strong>${esc(r)}</strong>: ${d.map((x) => `<a class="latest" href="${link(x.path)}">latest ${esc(x.arch)} ${esc(x.ftype)}</a> (${esc(x.serial)})`).join(", ") || "no downloads"}</li>`);
  }
  parts.push(`</ul>`, `<h2 id="cloud">Cloud images (AMIs)</h2>`);
  parts.push(`<table id="images"><thead><tr><th>release</th><th>arch</th><th>region</th><th>image id</th><th>virtualization</th><th>root store</th><th>serial</th></tr></thead><tbody>`);
  for (const im of images) parts.push(`<tr class="image"><td>${esc(im.release)}</td><td>${esc(im.arch)}</td><td>${esc(im.region)}</td><td><code>${esc(im.id)}</code></td><td>${esc(im.virt)}</td><td>${esc(im.rootStore)}</td><td>${esc(im.serial)}</td></tr>`);
  parts.push(`</tbody></table>`, `<h2 id="downloads">Downloads</h2>`);
  parts.push(`<table id="downloads-table"><thead><tr><th>release</th><th>arch</th><th>type</th><th>serial</th><th>file</th><th>sha256</th></tr></thead><tbody>`);
  for (const d of downloads) parts.push(`<tr class="download"><td>${esc(d.release)}</td><td>${esc(d.arch)}</td><td>${esc(d.ftype)}</td><td>${esc(d.serial)}</td><td><a href="${link(d.path)}">${esc(d.path.split("/").pop()!)}</a></td><td class="sha"><code>${esc(d.sha256)}</code></td></tr>`);
  parts.push(`</tbody></table>`, `<p>Check a download before you use it: <code>sha256sum FILE</code> must print the sha256 above.</p>`);
  return page("Images", parts.join("\n") + "\n");
}

function exampleYaml(key: string, ex: unknown): string {
  return `#cloud-config\n${JSON.stringify({ [key]: ex }) /* JSON is YAML */}`;
}

/** The module reference's examples as cloud-configs, for the tests that validate them. */
export function referenceExamples(modules: readonly Module[]): Array<{ module: string; key: string; config: string }> {
  return modules.flatMap((m) => Object.entries((m.schema as { properties?: Record<string, { examples?: unknown[] }> }).properties ?? {}).flatMap(([key, p]) => (p.examples ?? []).map((ex) => ({ module: m.id, key, config: exampleYaml(key, ex) }))));
}

function typeOf(p: Record<string, unknown>): string {
  if (Array.isArray(p.type)) return p.type.join(" | ");
  if (typeof p.type === "string") return p.type;
  if (Array.isArray(p.oneOf ?? p.anyOf)) return ((p.oneOf ?? p.anyOf) as Array<Record<string, unknown>>).map(typeOf).join(" | ");
  return "any";
}

function modulesPage(s: SiteInput): string {
  const parts = [`<h1>Module reference</h1>`, `<p>Generated from each module's schema, the same schema <code>sprout schema</code> validates against. Modules run in this order within their stage.</p>`, `<ul>`];
  for (const m of s.modules) parts.push(`<li><a href="#${esc(m.id)}">${esc(m.id)}</a> (${esc(m.stage)})</li>`);
  parts.push(`</ul>`);
  for (const m of s.modules) {
    const schema = m.schema as { description?: string; properties?: Record<string, Record<string, unknown>> };
    parts.push(`<section class="module" id="${esc(m.id)}"><h2>${esc(m.id)}</h2><p>${esc(schema.description ?? "")}</p><p>Stage <code>${esc(m.stage)}</code>, frequency <code>${esc(m.frequency)}</code>.</p>`);
    const props = Object.entries(schema.properties ?? {});
    if (props.length === 0) parts.push(`<p>No cloud-config keys of its own.</p>`);
    for (const [key, p] of props) {
      parts.push(`<h3 id="${esc(m.id)}-${esc(key)}"><code>${esc(key)}</code></h3><table class="key"><tbody><tr><th>type</th><td>${esc(typeOf(p))}</td></tr>`);
      if ("default" in p) parts.push(`<tr><th>default</th><td><code>${esc(JSON.stringify(p.default))}</code></td></tr>`);
      parts.push(`<tr><th>description</th><td>${esc(String(p.description ?? ""))}</td></tr></tbody></table>`);
      for (const ex of (p.examples as unknown[] | undefined) ?? []) parts.push(`<pre><code class="language-yaml example">${esc(exampleYaml(key, ex))}</code></pre>`);
    }
    parts.push(`</section>`);
  }
  return page("Module reference", parts.join("\n") + "\n");
}

function bootChartPage(s: SiteInput): string {
  return page(
    "Boot chart",
    `<h1>Boot chart</h1>
<p>When a boot is slow, draw it: <code>sprout analyze --format html &gt; boot.html</code> (or <code>--format svg</code>) shows the stages and modules of the last boot on a time axis. The page has no scripts and no external files: attach it to a ticket as it is.</p>
<p>This one is a real boot of the demo seed (<code>test/demo/seed</code>: write_files, hostname, runcmd) by the built <code>dist/sprout.js</code>, made when this site was built.</p>
<div class="chart" id="boot-chart">
${s.bootChartSvg}</div>
<p>Stage bars are light; module bars are green (changed), blue (unchanged), grey (skipped) or red (failed). Times are sprout's own; Node's start-up comes before the first stage.</p>
`,
  );
}

const LANDING = `<h1>sprout</h1>
<p>sprout is a first-boot agent for Linux images: it does cloud-init's job, reads the same seeds and cloud-configs, and boots fast with a clear record of what went wrong.</p>
<h2>Which image do I run?</h2>
<ul>
<li><strong>On EC2</strong>: take the AMI of your region from the <a href="images.html#cloud">images table</a>, launch it with your cloud-config as user-data. See <a href="ec2.html">EC2</a>.</li>
<li><strong>On KVM / qemu</strong>: download the latest <code>.qcow2</code> from <a href="images.html#latest">latest per release</a>, make a seed ISO with <code>sprout seed</code> and boot. See <a href="kvm.html">the KVM guide</a>.</li>
<li><strong>On VMware or VirtualBox</strong>: import the <code>.ova</code> and fill in its vApp properties or attach the OVF ISO. See <a href="ovf.html">the OVF guide</a>.</li>
<li><strong>Bare metal</strong>: a preseeded Debian install tells sprout where its seed is. See <a href="preseed.html">the preseed guide</a>.</li>
</ul>
<h2>How do I configure it?</h2>
<p>With a <code>#cloud-config</code> file, exactly as for cloud-init: <a href="cloud-config.html">Configuring with cloud-config</a>, checked before boot by <code>sprout schema</code>. Every key is in the <a href="modules.html">module reference</a>. Coming from cloud-init? Read <a href="migrate-from-cloud-init.html">what stays and what differs</a>.</p>
<h2>When something goes wrong</h2>
<p><code>sprout status</code> says how the boot went, <code>sprout analyze</code> where the time went (<a href="boot-chart.html">boot chart</a>), and the <a href="rescue.html">rescue guide</a> brings back a machine that does not boot.</p>
`;

export function renderSite(s: SiteInput): Record<string, string> {
  const files: Record<string, string> = { "style.css": CSS };
  const entries: string[] = [];
  for (const g of [...s.guides].sort((a, b) => Number(a.reference) - Number(b.reference) || a.name.localeCompare(b.name))) {
    const { html, title } = markdownToHtml(g.markdown);
    files[`${g.name}.html`] = page(title || g.name, html);
    entries.push(`<li><a href="${esc(g.name)}.html">${esc(title || g.name)}</a>${g.reference ? " (reference)" : ""}</li>`);
  }
  files["guides.html"] = page("Guides", `<h1>Guides</h1>\n<ul id="guides">\n${entries.join("\n")}\n</ul>\n`);
  files["images.html"] = imagesPage(s);
  files["modules.html"] = modulesPage(s);
  files["boot-chart.html"] = bootChartPage(s);
  files["index.html"] = page("Which image to run, and how", LANDING);
  return files;
}
