// output: cloud-init's redirection of each stage's console output, e.g.
// `output: {all: "| tee -a /var/log/cloud-init-output.log"}`. sprout appends its
// console lines (per stage: init = local+network, config, final, or all) to the
// file named by the common forms "| tee -a FILE", "| tee FILE", ">> FILE" and
// "> FILE". User scripts' output, always in /var/log/user_data.log, is copied there
// too, as it appears in cloud-init-output.log; an arbitrary "| command" is not run
// (sprout never builds a shell line from config).
import type { LogRecord } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import type { Module, ModuleResult, Stage } from "../../agent/types";

const SPEC = { oneOf: [{ type: "string" }, { type: "array", items: { type: ["string", "null"] } }, { type: "object", properties: { output: { type: "string" }, error: { type: "string" } } }] };

export const OUTPUT_SCHEMA = {
  output: {
    type: "object",
    description: 'Where each stage\'s console output also goes: "all", "init", "config" or "final" mapped to "| tee -a FILE", ">> FILE" or "> FILE" (or [stdout, stderr], or {output, error}).',
    properties: {
      all: { ...SPEC, description: "Every stage.", examples: ["| tee -a /var/log/cloud-init-output.log"] },
      init: { ...SPEC, description: "The local and network stages.", examples: [">> /var/log/sprout-init.log"] },
      config: { ...SPEC, description: "The config stage.", examples: ["> /var/log/sprout-config.log"] },
      final: { ...SPEC, description: "The final stage.", examples: [["| tee -a /var/log/final.out", "| tee -a /var/log/final.err"]] },
    },
    additionalProperties: false,
    examples: [{ all: "| tee -a /var/log/cloud-init-output.log" }],
  },
} as const;

const STAGE_KEYS: Record<string, Stage[]> = { all: ["local", "network", "config", "final"], init: ["local", "network"], config: ["config"], final: ["final"] };

/** The file a redirection names, or an error for forms sprout does not follow. */
export function redirectTarget(spec: string): { file: string; truncate: boolean } | { error: string } {
  const s = spec.trim();
  let m = /^\|\s*tee(\s+-a|\s+--append)?\s+(\/\S+)$/.exec(s);
  if (m) return { file: m[2]!, truncate: !m[1] };
  m = /^(>>?)\s*(\/\S+)$/.exec(s);
  if (m) return { file: m[2]!, truncate: m[1] === ">" };
  return { error: `output ${JSON.stringify(spec)}: sprout follows "| tee -a /path", "| tee /path", ">> /path" and "> /path" only` };
}

function specs(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (isPlainObject(v)) return [v.output, v.error].filter((x): x is string => typeof x === "string");
  return [];
}

function line(rec: LogRecord): string {
  const where = [rec.stage, rec.module].filter(Boolean).join("/");
  return `${rec.time} sprout${where ? `[${where}]` : ""}: ${rec.level === "info" ? "" : `${rec.level.toUpperCase()} `}${rec.msg}\n`;
}

export const output: Module = {
  id: "output",
  stage: "network",
  frequency: "always",
  schema: { type: "object", description: "Copy sprout's console output of each stage, and the output of the user scripts it runs, to a file.", properties: OUTPUT_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const o = cfg.output;
    if (o === undefined || o === null) return { status: "skipped", detail: "no output" };
    if (!isPlainObject(o)) return { status: "unchanged", errors: ["output must be a mapping of all/init/config/final to a redirection"] };
    const errors: string[] = [];
    const routes = new Map<string, Set<Stage>>();
    for (const [key, value] of Object.entries(o)) {
      const stages = STAGE_KEYS[key];
      if (!stages) {
        errors.push(`output.${key}: unknown stage (use all, init, config or final)`);
        continue;
      }
      for (const spec of specs(value)) {
        const t = redirectTarget(spec);
        if ("error" in t) {
          errors.push(t.error);
          continue;
        }
        if (t.truncate && !routes.has(t.file)) ctx.host.root.writeAtomic(t.file, "", { mode: 0o640 });
        const set = routes.get(t.file) ?? new Set<Stage>();
        stages.forEach((s) => set.add(s));
        routes.set(t.file, set);
      }
    }
    const root = ctx.host.root;
    for (const [file, stages] of routes) {
      ctx.host.log.addSink((rec) => {
        if (rec.level === "debug" || (rec.stage && !stages.has(rec.stage as Stage))) return;
        root.append(file, line(rec), 0o640);
      });
      ctx.host.log.addScriptOutputSink((text, stage) => {
        if (stages.has(stage as Stage)) root.append(file, text, 0o640);
      });
    }
    return { status: routes.size ? "changed" : "unchanged", detail: [...routes].map(([f, s]) => `${[...s].join(",")} -> ${f}`).join("; "), errors };
  },
};
