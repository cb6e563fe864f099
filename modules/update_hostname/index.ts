// update_hostname: on every boot, keep the hostname in line with cloud-config
// and meta-data, unless a person changed it since sprout last set it.
import type { Module } from "../../agent/types";
import { applyHostname, chooseHostname, HOSTNAME_SCHEMA, PREVIOUS_HOSTNAME } from "../set_hostname";

export const updateHostname: Module = {
  id: "update_hostname",
  stage: "network",
  frequency: "always",
  schema: {
    type: "object",
    description: "On every boot, set the hostname again from cloud-config or meta-data. A hostname a person changed by hand since sprout set it is left alone.",
    properties: HOSTNAME_SCHEMA,
  },
  async run(cfg, ctx) {
    if (cfg.preserve_hostname === true) return { status: "skipped", detail: "preserve_hostname is true" };
    const choice = chooseHostname(cfg, ctx, "update_hostname");
    if (!choice) return { status: "skipped", detail: "no hostname in cloud-config or meta-data" };
    const root = ctx.host.root;
    const previous = root.tryReadText(PREVIOUS_HOSTNAME)?.trim();
    const current = root.tryReadText("/etc/hostname")?.trim();
    if (previous && current && current !== previous && current !== choice.written) {
      return { status: "unchanged", detail: `/etc/hostname was changed by hand to ${current}; left alone` };
    }
    return applyHostname(cfg, ctx, choice);
  },
};
