// apt_pipelining: how many HTTP requests apt sends down one connection, written to
// the file cloud-init writes, with its content. Some proxies and mirrors break on
// pipelined requests; `false` turns it off.
import type { Module } from "../../agent/types";

export const APT_PIPELINING_FILE = "/etc/apt/apt.conf.d/90cloud-init-pipelining";

/** What a value asks for: a depth to write, nothing (apt's own default), or an error. */
export function pipelineDepth(value: unknown): { depth: string } | { leave: string } | { error: string } {
  // cloud-init compares str(value).lower(): YAML false and "false", 3 and "3" are the same.
  const text = String(value).toLowerCase().trim();
  if (text === "false") return { depth: "0" };
  if (text === "os" || text === "none" || text === "unchanged") return { leave: `apt_pipelining is ${text}: apt's own setting is kept` };
  // cloud-init's schema allows true, then warns that it is no setting: apt pipelines by default anyway.
  if (text === "true") return { leave: "apt_pipelining is true: apt pipelines by default, nothing to write" };
  if (/^[0-5]$/.test(text)) return { depth: text };
  return { error: `apt_pipelining ${JSON.stringify(value)} is not a setting: write false (off), a depth from 0 to 5, or os (apt's default)` };
}

export const aptPipelining: Module = {
  id: "apt_pipelining",
  stage: "config",
  frequency: "per-instance",
  schema: {
    type: "object",
    description: "Set apt's HTTP pipeline depth (Acquire::http::Pipeline-Depth) in /etc/apt/apt.conf.d/90cloud-init-pipelining, as cloud-init does. Off (`false`) helps behind proxies that mishandle pipelined requests.",
    properties: {
      apt_pipelining: {
        oneOf: [{ type: "boolean" }, { type: "integer", minimum: 0, maximum: 5 }, { type: "string", enum: ["os", "none", "unchanged"] }],
        description: "`false`: no pipelining (depth 0); 0 to 5: that depth; `os`, `none` or `unchanged`: leave apt's own setting.",
        examples: [false, 3, "os"],
      },
    },
  },
  async run(cfg, ctx) {
    if (cfg.apt_pipelining === undefined) return { status: "skipped", detail: "no apt_pipelining" };
    const wanted = pipelineDepth(cfg.apt_pipelining);
    if ("error" in wanted) return { status: "unchanged", errors: [wanted.error] };
    if ("leave" in wanted) return { status: "skipped", detail: wanted.leave };
    const content = `//Written by cloud-init per 'apt_pipelining'\nAcquire::http::Pipeline-Depth "${wanted.depth}";\n`;
    const root = ctx.host.root;
    if (root.tryReadText(APT_PIPELINING_FILE) === content) return { status: "unchanged", detail: `pipeline depth ${wanted.depth}` };
    root.mkdirp("/etc/apt/apt.conf.d", 0o755);
    root.writeAtomic(APT_PIPELINING_FILE, content, { mode: 0o644 });
    return { status: "changed", detail: `${APT_PIPELINING_FILE}: pipeline depth ${wanted.depth}` };
  },
};
