// The command registry. Each command loads on demand, so `sprout status` does not
// pay for the boot engine and the boot does not pay for `sprout schema`.
import type { Command } from "./types";

export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  boot: { summary: "run all boot stages (local, network, config, final) in one process", load: async () => (await import("./boot")).bootCommand },
  init: { summary: "run one boot stage (--stage local|network|config|final)", load: async () => (await import("./boot")).initCommand },
  status: { summary: "how the last boot went (--wait to wait for it)", load: async () => (await import("./status")).statusCommand },
  query: { summary: "print instance data (v1.instance_id, ds.meta_data.*, ...)", load: async () => (await import("./query")).queryCommand },
  analyze: { summary: "per-stage and per-module times of recorded boots", load: async () => (await import("./analyze")).analyzeCommand },
  seed: { summary: "write a seed ISO (NoCloud cidata or OVF environment) to attach to a VM", load: async () => (await import("./seed")).seedCommand },
  schema: { summary: "check a cloud-config or print the module docs", load: async () => (await import("./schema")).schemaCommand },
  clean: { summary: "forget the instance state so the next boot is a first boot", load: async () => (await import("./clean")).cleanCommand },
  rescue: { summary: "rescue mode: what happened (status) and finishing it (done)", load: async () => (await import("./rescue")).rescueCommand },
};
