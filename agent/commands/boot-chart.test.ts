import { describe, expect, it } from "vitest";
import { parseBoots } from "./analyze";
import { renderBootChartHtml, renderBootChartSvg, tickStep } from "./boot-chart";

const ev = (time: string, evt: string, name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ level: "info", time, evt, name, ...extra });
const LOG = [
  ev("2026-01-01T00:00:00.000Z", "start", "local"),
  ev("2026-01-01T00:00:00.050Z", "finish", "local", { ms: 50, result: "ok" }),
  ev("2026-01-01T00:00:00.060Z", "start", "final"),
  ev("2026-01-01T00:00:00.100Z", "finish", "final/runcmd", { ms: 30, result: "changed" }),
  ev("2026-01-01T00:00:00.120Z", "finish", "final/write_files <x>", { ms: 10, result: "failed" }),
].join("\n");

describe("parseBoots offsets", () => {
  it("places stages at their start and modules at finish time less duration", () => {
    const [boot] = parseBoots(LOG);
    expect(boot!.stages.map((s) => s.offsetMs)).toEqual([0, 60]);
    expect(boot!.stages[1]!.modules.map((m) => [m.name, m.offsetMs])).toEqual([
      ["runcmd", 70],
      ["write_files <x>", 110],
    ]);
  });

  it("never puts a module before its stage (clock resolution)", () => {
    const log = [ev("2026-01-01T00:00:00.000Z", "start", "local"), ev("2026-01-01T00:00:00.010Z", "finish", "local/m", { ms: 40, result: "ok" })].join("\n");
    expect(parseBoots(log)[0]!.stages[0]!.modules[0]!.offsetMs).toBe(0);
  });
});

describe("boot chart", () => {
  const boot = parseBoots(LOG)[0]!;

  it("draws one bar per stage and module, escaped, with the result as data", () => {
    const svg = renderBootChartSvg(boot);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<g class="row stage-row"/g)).toHaveLength(2);
    expect(svg.match(/<g class="row module-row"/g)).toHaveLength(2);
    expect(svg).toContain("write_files &lt;x&gt;");
    expect(svg).not.toContain("<x>");
    expect(svg).toContain('data-result="failed"');
    expect(svg).toContain("#c62f2f");
  });

  it("is self-contained: no script, no external reference", () => {
    const html = renderBootChartHtml(boot);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|src=|href=|@import/);
    expect(html).toContain("<svg");
  });

  it("draws a stage that did not finish up to the end of the record", () => {
    const b = parseBoots([ev("2026-01-01T00:00:00.000Z", "start", "local"), ev("2026-01-01T00:00:00.080Z", "finish", "local/slow", { ms: 80, result: "ok" })].join("\n"))[0]!;
    expect(b.stages[0]!.ms).toBe(-1);
    expect(renderBootChartSvg(b)).toContain("did not finish");
  });

  it("picks round tick steps", () => {
    expect(tickStep(200)).toBe(50);
    expect(tickStep(2500)).toBe(500);
    expect(tickStep(7)).toBe(1);
  });
});
