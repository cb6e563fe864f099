// final_message: one line at the end of every boot saying sprout finished, when,
// with which datasource and after how long; and the boot-finished file.
import type { Module } from "../../agent/types";
import { VERSION } from "../../agent/version";

export const DEFAULT_FINAL_MESSAGE = "sprout $VERSION finished at $TIMESTAMP. Datasource $DATASOURCE. Up $UPTIME seconds";

export const FINAL_MESSAGE_SCHEMA = {
  final_message: {
    type: "string",
    description:
      "The message logged at the end of the boot. $UPTIME, $TIMESTAMP, $INSTANCE_ID, $VERSION and $DATASOURCE (also written ${NAME}) are replaced by their values.",
    default: DEFAULT_FINAL_MESSAGE,
    examples: ["The system is finally up, after $UPTIME seconds"],
  },
} as const;

export function renderFinalMessage(template: string, vars: Record<string, string>): string {
  // cloud-init's own examples write $version, $timestamp: lower case works too.
  return template.replace(/\$\{?([A-Za-z_]+)\}?/g, (m, name: string) => vars[name] ?? vars[name.toUpperCase()] ?? m);
}

export const finalMessage: Module = {
  id: "final_message",
  stage: "final",
  frequency: "always",
  schema: { type: "object", description: "Log a message at the end of every boot and write boot-finished.", properties: FINAL_MESSAGE_SCHEMA },
  async run(cfg, ctx) {
    const uptimeText = ctx.host.root.tryReadText("/proc/uptime");
    const uptime = uptimeText ? uptimeText.split(/\s+/)[0]! : "unknown";
    const timestamp = ctx.host.clock.now().toUTCString().replace("GMT", "+0000");
    const vars = { UPTIME: uptime, TIMESTAMP: timestamp, INSTANCE_ID: ctx.instanceId, VERSION, DATASOURCE: ctx.datasource };
    const template = typeof cfg.final_message === "string" ? cfg.final_message : DEFAULT_FINAL_MESSAGE;
    const message = renderFinalMessage(template, vars);
    ctx.host.log.info(message, { final_message: true });
    ctx.host.root.writeAtomic(`${ctx.paths.instanceDir}/boot-finished`, `${uptime} - ${timestamp} - v. ${VERSION}\n`, { durable: false });
    return { status: "changed", detail: message };
  },
};
