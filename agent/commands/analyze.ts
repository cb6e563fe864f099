import { createHost } from "../host";
import { UsageError } from "./args";
import type { Command } from "./types";

const LOG = "/var/log/sprout.log";
const MAX_LOG_READ = 32 * 1024 * 1024;

export interface BootEvent {
  name: string;
  evt: "start" | "finish";
  time: string;
  ms?: number;
  result?: string;
}

export interface BootRecord {
  start: string;
  /** offsetMs: from the boot's start, taken from the log's `time` fields (millisecond resolution); a module's is its finish time less its duration. */
  stages: Array<{ name: string; start: string; offsetMs: number; ms: number; result: string; modules: Array<{ name: string; offsetMs: number; ms: number; result: string }> }>;
}

function offset(boot: BootRecord, time: string, lessMs = 0): number {
  const d = Date.parse(time) - lessMs - Date.parse(boot.start);
  return Number.isFinite(d) ? Math.max(0, Math.round(d * 10) / 10) : 0;
}

export function parseBoots(text: string): BootRecord[] {
  // A boot starts with the local stage; stages open on their start event so modules attach to them.
  const boots: BootRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"evt"')) continue;
    let e: BootEvent;
    try {
      e = JSON.parse(line) as BootEvent;
    } catch {
      continue;
    }
    const isStage = typeof e.name === "string" && !e.name.includes("/");
    if (!isStage && typeof e.name !== "string") continue;
    if (e.evt === "start" && isStage) {
      if (e.name === "local" || boots.length === 0) boots.push({ start: e.time, stages: [] });
      const boot = boots[boots.length - 1]!;
      boot.stages.push({ name: e.name, start: e.time, offsetMs: offset(boot, e.time), ms: -1, result: "running", modules: [] });
    } else if (e.evt === "finish") {
      const boot = boots[boots.length - 1];
      if (!boot) continue;
      const stageName = isStage ? e.name : e.name.split("/")[0];
      const st = [...boot.stages].reverse().find((s) => s.name === stageName);
      if (!st) continue;
      if (isStage) {
        st.ms = e.ms ?? 0;
        st.result = e.result ?? "ok";
      } else {
        const ms = e.ms ?? 0;
        st.modules.push({ name: e.name.split("/")[1]!, offsetMs: Math.max(st.offsetMs, offset(boot, e.time, ms)), ms, result: e.result ?? "" });
      }
    }
  }
  return boots;
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

export const analyzeCommand: Command = {
  name: "analyze",
  summary: "per-stage and per-module times of recorded boots",
  usage: "sprout analyze show|blame [--format text|json]\n       sprout analyze [chart] --format html|svg > boot.html",
  options: { format: { type: "string", help: "text (default) or json; html or svg draw the last boot's chart", value: "text|json|html|svg" } },
  details: "--format html writes a page with the chart of the last boot (stages and modules on a time axis) and a table; --format svg the chart alone. Both are self-contained (no scripts, no external files).",
  async run(a, g) {
    const format = (a.options.format as string | undefined) ?? "text";
    if (!["text", "json", "html", "svg"].includes(format)) throw new UsageError(`--format must be text, json, html or svg, not ${JSON.stringify(format)}`);
    const chart = format === "html" || format === "svg";
    const sub = a.positionals[0] ?? (chart ? "chart" : undefined);
    if (sub !== "show" && sub !== "blame" && sub !== "chart") throw new UsageError("analyze needs show, blame or chart (or --format html|svg for the chart)");
    if (sub === "chart" && !chart) throw new UsageError("analyze chart draws html or svg: add --format html or --format svg");
    const h = createHost({ root: g.root, logFile: null });
    const st = h.root.stat(LOG);
    if (!st) {
      g.err(`sprout: no ${LOG}: no boot has been recorded yet\n`);
      return 1;
    }
    let text: string;
    if (st.size > MAX_LOG_READ) {
      const r = h.root.openBlock(LOG);
      text = r.read(st.size - MAX_LOG_READ, MAX_LOG_READ).toString("utf8");
      r.close();
    } else text = h.root.readText(LOG);
    const boots = parseBoots(text);
    if (boots.length === 0) {
      g.err(`sprout: ${LOG} holds no boot events yet\n`);
      return 1;
    }
    if (chart) {
      // Only the code that draws pays for loading it.
      const { renderBootChartHtml, renderBootChartSvg } = await import("./boot-chart");
      const last = boots[boots.length - 1]!;
      g.out(format === "html" ? renderBootChartHtml(last) : renderBootChartSvg(last));
      return 0;
    }
    if (sub === "show") {
      if (format === "json") {
        g.out(JSON.stringify(boots, null, 1) + "\n");
        return 0;
      }
      boots.forEach((b, i) => {
        g.out(`-- Boot Record ${String(i + 1).padStart(2, "0")} (${b.start}) --\n`);
        let total = 0;
        for (const s of b.stages) {
          g.out(`  stage ${s.name}: ${s.ms < 0 ? "did not finish" : `${fmt(s.ms)} (${s.result})`}\n`);
          for (const m of s.modules) g.out(`    ${fmt(m.ms)} ${m.name} (${m.result})\n`);
          total += Math.max(0, s.ms);
        }
        g.out(`  total: ${fmt(total)}\n\n`);
      });
      g.out(`${boots.length} boot record(s)\n`);
      return 0;
    }
    const last = boots[boots.length - 1]!;
    const rows = last.stages.flatMap((s) => s.modules.map((m) => ({ stage: s.name, module: m.name, ms: m.ms, result: m.result }))).sort((x, y) => y.ms - x.ms);
    if (format === "json") g.out(JSON.stringify(rows, null, 1) + "\n");
    else {
      g.out(`-- Boot Record (${last.start}) --\n`);
      for (const r of rows) g.out(`  ${fmt(r.ms)} ${r.stage}/${r.module} (${r.result})\n`);
    }
    return 0;
  },
};
