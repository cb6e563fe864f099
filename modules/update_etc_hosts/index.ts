// update_etc_hosts: with manage_etc_hosts true (or "template") /etc/hosts is
// written from the hostname on every boot; with "localhost" only the 127.0.1.1
// line is kept in line (what set_hostname does when the key is unset).
import type { Module } from "../../agent/types";
import { chooseHostname, hostsWithLoopbackName, type HostnameChoice } from "../set_hostname";

export const UPDATE_ETC_HOSTS_SCHEMA = {
  manage_etc_hosts: {
    oneOf: [{ type: "boolean" }, { type: "string", enum: ["template", "localhost"] }],
    description:
      'true or "template": rewrite /etc/hosts on every boot with the hostname (edits to it are lost; change the cloud-config instead). "localhost": only keep a 127.0.1.1 line for the hostname. false: leave /etc/hosts alone.',
    default: false,
    examples: [true, "localhost"],
  },
} as const;

export function renderHosts(choice: HostnameChoice): string {
  const names = choice.fqdn !== choice.short ? `${choice.fqdn} ${choice.short}` : choice.short;
  return [
    "# Written by sprout on every boot because the cloud-config sets manage_etc_hosts.",
    "# Edits here are lost at the next boot: change the hostname or manage_etc_hosts in the cloud-config instead.",
    `127.0.1.1 ${names}`,
    "127.0.0.1 localhost",
    "",
    "# The following lines are desirable for IPv6 capable hosts",
    `::1 localhost ip6-localhost ip6-loopback`,
    "ff02::1 ip6-allnodes",
    "ff02::2 ip6-allrouters",
    "",
  ].join("\n");
}

export const updateEtcHosts: Module = {
  id: "update_etc_hosts",
  stage: "network",
  frequency: "always",
  schema: { type: "object", description: "Manage /etc/hosts from the hostname on every boot (manage_etc_hosts).", properties: UPDATE_ETC_HOSTS_SCHEMA },
  async run(cfg, ctx) {
    const mode = cfg.manage_etc_hosts;
    if (mode === undefined || mode === null || mode === false) return { status: "skipped", detail: "manage_etc_hosts is off" };
    if (mode !== true && mode !== "template" && mode !== "localhost") return { status: "unchanged", errors: [`manage_etc_hosts must be true, false, "template" or "localhost", not ${JSON.stringify(mode)}`] };
    const choice = chooseHostname(cfg, ctx, "update_etc_hosts");
    if (!choice) return { status: "skipped", detail: "no hostname in cloud-config or meta-data" };
    const root = ctx.host.root;
    const current = root.tryReadText("/etc/hosts");
    const next = mode === "localhost" ? hostsWithLoopbackName(current ?? "127.0.0.1 localhost\n", choice) : renderHosts(choice);
    if (next === current) return { status: "unchanged", detail: "/etc/hosts is up to date" };
    root.writeAtomic("/etc/hosts", next, { mode: 0o644 });
    return { status: "changed", detail: `/etc/hosts (${mode === "localhost" ? "127.0.1.1 line" : "rewritten"}) for ${choice.fqdn}` };
  },
};
