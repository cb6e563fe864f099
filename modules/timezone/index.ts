// timezone: /etc/timezone and the /etc/localtime link, checked against the
// zone files the target has (a typo is an error, not a machine on UTC).
import type { Module } from "../../agent/types";

const ZONEINFO = "/usr/share/zoneinfo";

export const TIMEZONE_SCHEMA = {
  timezone: { type: "string", description: `The time zone, a name under ${ZONEINFO}.`, examples: ["Europe/Berlin", "America/New_York"] },
} as const;

export const timezone: Module = {
  id: "timezone",
  stage: "config",
  frequency: "per-instance",
  schema: { type: "object", description: "Set the system time zone.", properties: TIMEZONE_SCHEMA },
  async run(cfg, ctx) {
    const tz = cfg.timezone;
    if (tz === undefined || tz === null || tz === "") return { status: "skipped", detail: "no timezone" };
    if (typeof tz !== "string" || !/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return { status: "unchanged", errors: [`timezone ${JSON.stringify(tz)} is not a zone name like Europe/Berlin`] };
    const root = ctx.host.root;
    const zone = `${ZONEINFO}/${tz}`;
    if (root.stat(zone)?.kind !== "file") return { status: "unchanged", errors: [`timezone ${tz}: no ${zone} on this system (is tzdata installed? is the name spelled as in ${ZONEINFO}?)`] };
    const changed = root.tryReadText("/etc/timezone")?.trim() !== tz || root.readlink("/etc/localtime") !== zone;
    if (!changed) return { status: "unchanged", detail: tz };
    root.writeAtomic("/etc/timezone", `${tz}\n`, { mode: 0o644 });
    root.symlinkAtomic(zone, "/etc/localtime");
    return { status: "changed", detail: tz };
  },
};
