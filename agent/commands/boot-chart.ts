// The boot chart of `sprout analyze --format svg|html`: the stages and modules of
// one boot on a time axis. Pure (a BootRecord in, markup out) and self-contained:
// inline SVG and CSS, no script and no external file, so the page opens anywhere
// (a mail attachment, file://, a ticket) and shows the same picture.
import type { BootRecord } from "./analyze";

const ROW = 22;
const LABEL_W = 230;
const CHART_W = 620;
const PAD = 12;
const AXIS_H = 28;

/** Bar colour per result: what a person scans for is red (failed) and long. */
const COLOURS: Record<string, string> = {
  ok: "#2f7d4f",
  changed: "#2f7d4f",
  unchanged: "#5b7fa6",
  skipped: "#b9c2cc",
  running: "#d08a1e",
  error: "#c62f2f",
  failed: "#c62f2f",
  degraded: "#c62f2f",
};

function colour(result: string): string {
  return COLOURS[result] ?? "#7a6fb0";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmtMs(ms: number): string {
  return ms < 0 ? "did not finish" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

interface Bar {
  label: string;
  offsetMs: number;
  ms: number;
  result: string;
  stage: boolean;
}

function bars(boot: BootRecord): Bar[] {
  const out: Bar[] = [];
  for (const s of boot.stages) {
    out.push({ label: `stage ${s.name}`, offsetMs: s.offsetMs, ms: s.ms, result: s.result, stage: true });
    for (const m of s.modules) out.push({ label: m.name, offsetMs: m.offsetMs, ms: m.ms, result: m.result, stage: false });
  }
  return out;
}

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`. */
export function tickStep(span: number, n = 8): number {
  const raw = Math.max(span, 1e-6) / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const k of [1, 2, 5, 10]) if (raw <= k * pow) return k * pow;
  return 10 * pow;
}

export function renderBootChartSvg(boot: BootRecord): string {
  const rows = bars(boot);
  // A stage that did not finish runs to the end of the last thing recorded.
  const end = Math.max(1, ...rows.map((r) => r.offsetMs + Math.max(0, r.ms)));
  const scale = CHART_W / end;
  const step = tickStep(end);
  const width = LABEL_W + CHART_W + PAD * 2 + 90;
  const height = AXIS_H + rows.length * ROW + PAD * 2;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="sprout-boot-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="sprout boot chart">`,
    `<title>sprout boot at ${esc(boot.start)}: ${rows.filter((r) => r.stage).length} stages, ${rows.filter((r) => !r.stage).length} modules, ${fmtMs(end)}</title>`,
    `<style>text{font:12px sans-serif;fill:#1d2430}.stage{font-weight:bold}.tick{fill:#5d6675;font-size:11px}.grid{stroke:#e3e7ec}.dur{fill:#3b4350;font-size:11px}</style>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  const x0 = PAD + LABEL_W;
  for (let t = 0; t <= end + 1e-9; t += step) {
    const x = x0 + t * scale;
    out.push(`<line class="grid" x1="${x.toFixed(1)}" y1="${PAD + AXIS_H - 6}" x2="${x.toFixed(1)}" y2="${height - PAD}"/>`);
    out.push(`<text class="tick" x="${x.toFixed(1)}" y="${PAD + 12}" text-anchor="middle">${esc(fmtMs(t).replace(".0 ms", " ms"))}</text>`);
  }
  rows.forEach((r, i) => {
    const y = PAD + AXIS_H + i * ROW;
    const w = Math.max(1.5, Math.max(0, r.ms < 0 ? end - r.offsetMs : r.ms) * scale);
    const x = x0 + r.offsetMs * scale;
    const h = r.stage ? ROW - 6 : ROW - 10;
    const yb = y + (ROW - h) / 2;
    out.push(
      `<g class="row ${r.stage ? "stage-row" : "module-row"}" data-result="${esc(r.result)}">`,
      `<title>${esc(r.label)}: ${esc(fmtMs(r.ms))} (${esc(r.result)}), from ${esc(fmtMs(r.offsetMs))}</title>`,
      `<text${r.stage ? ' class="stage"' : ""} x="${PAD + (r.stage ? 0 : 14)}" y="${y + ROW / 2 + 4}">${esc(r.label)}</text>`,
      `<rect x="${x.toFixed(1)}" y="${yb.toFixed(1)}" width="${w.toFixed(1)}" height="${h}" rx="2" fill="${colour(r.result)}"${r.stage ? ' fill-opacity="0.35"' : ""}/>`,
      `<text class="dur" x="${(x + w + 4).toFixed(1)}" y="${y + ROW / 2 + 4}">${esc(fmtMs(r.ms))} ${esc(r.result)}</text>`,
      `</g>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

export function renderBootChartHtml(boot: BootRecord): string {
  const total = boot.stages.reduce((n, s) => n + Math.max(0, s.ms), 0);
  const rows = boot.stages
    .flatMap((s) => [
      `<tr class="stage"><td>${esc(s.name)}</td><td></td><td>${esc(fmtMs(s.ms))}</td><td>${esc(s.result)}</td></tr>`,
      ...s.modules.map((m) => `<tr><td></td><td>${esc(m.name)}</td><td>${esc(fmtMs(m.ms))}</td><td>${esc(m.result)}</td></tr>`),
    ])
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sprout boot chart: ${esc(boot.start)}</title>
<style>body{font:14px sans-serif;margin:1.5em;color:#1d2430}table{border-collapse:collapse;margin-top:1em}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #e3e7ec}tr.stage td{font-weight:bold}svg{max-width:100%;height:auto}</style>
</head><body>
<h1>sprout boot chart</h1>
<p>Boot started ${esc(boot.start)}; the stages took ${esc(fmtMs(total))} of sprout time in all.</p>
${renderBootChartSvg(boot)}<table><thead><tr><th>stage</th><th>module</th><th>time</th><th>result</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
