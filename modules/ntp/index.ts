// ntp: cloud-init's cc_ntp on Debian. Picks the client (ntp_client, else the first
// installed of chrony, systemd-timesyncd, ntp, ntpdate, else chrony), renders its
// configuration from cloud-init's Debian template (or ntp.config.template), keeps the
// file it replaces as <confpath>.dist, installs the client's package when it is
// missing (through package_update_upgrade_install's apt path) and restarts the
// service when systemd runs the target. Every input is checked before anything is
// written: a bad entry is an error naming it, and no file changes.
import { isFalse } from "../../agent/cloud-bool";
import { isPlainObject } from "../../agent/merge";
import { systemdRunsTarget } from "../../agent/platform";
import { describeFailure, findInTarget } from "../../agent/target-command";
import { renderTemplate, TemplateError } from "../../agent/templater";
import type { CloudConfig, Module, ModuleContext, ModuleResult } from "../../agent/types";
import { installPackages } from "../package_update_upgrade_install";
import { CLIENTS, DEFAULT_POOLS, selectClient, type ClientConfig } from "./clients";
import { BUILTIN_TEMPLATES, TEMPLATE_OPTIONS } from "./templates";

const RESTART_TIMEOUT_MS = 60_000;
const CLIENT_NAMES = Object.keys(CLIENTS);
const CONFIG_KEYS = ["confpath", "check_exe", "packages", "service_name", "template"] as const;
const REQUIRED = ["check_exe", "confpath", "packages", "service_name"] as const;

const hostList = (description: string, example: string[]) => ({ type: "array", items: { type: "string" }, description, examples: [example] });

export const NTP_SCHEMA = {
  ntp: {
    type: ["object", "null"],
    description:
      "Configure an NTP client. `ntp:` alone (or `ntp: {}`) configures the image's client with the default pools 0-3.debian.pool.ntp.org, installing chrony when no client is installed.",
    examples: [{ enabled: true, ntp_client: "chrony", servers: ["ntp.example.com"], pools: ["0.int.pool.ntp.org"] }],
    additionalProperties: false,
    properties: {
      enabled: { type: "boolean", description: "false: leave NTP alone (nothing installed or written).", default: true, examples: [false] },
      ntp_client: {
        type: "string",
        description: `The client: auto (the first installed of chrony, systemd-timesyncd, ntp, ntpdate, else chrony), ${CLIENT_NAMES.join(", ")}, or a name of your own with a complete ntp.config. ntp writes /etc/ntp.conf, as cloud-init does; Debian 12's ntp is ntpsec, which reads /etc/ntpsec/ntp.conf (set config.confpath).`,
        default: "auto",
        examples: ["chrony", "systemd-timesyncd"],
      },
      servers: hostList("NTP servers (host names or addresses), one `server NAME iburst` line each.", ["ntp.example.com", "192.0.2.20"]),
      pools: hostList("NTP pools (host names), one `pool NAME iburst` line each. Without servers and pools, 0-3.debian.pool.ntp.org.", ["0.int.pool.ntp.org", "1.int.pool.ntp.org"]),
      peers: hostList("Peers (newer cloud-init's key): `peer NAME` lines in chrony's configuration; other clients' templates do not use them.", ["ntp-peer-1.example.com"]),
      allow: hostList("Networks allowed to query this machine (newer cloud-init's key): `allow NET` lines in chrony's configuration.", ["192.0.2.0/24"]),
      config: {
        type: "object",
        description: "Overrides of the client's settings, or the whole settings of a client of your own (then confpath, check_exe, packages, service_name and template are all needed).",
        examples: [{ confpath: "/etc/chrony/chrony.conf", service_name: "chrony" }],
        additionalProperties: false,
        properties: {
          confpath: { type: "string", description: "Where the configuration file is written.", examples: ["/etc/myntpclient/myntpclient.conf"] },
          check_exe: { type: "string", description: "The program whose presence means the client is installed (a name on PATH or an absolute path).", examples: ["chronyd"] },
          packages: { type: "array", items: { type: "string" }, description: "Packages installed (apt-get) when check_exe is missing.", examples: [["chrony"]] },
          service_name: { type: "string", description: "The systemd service restarted after the file is written.", examples: ["chrony"] },
          template: {
            type: "string",
            description: "The configuration file's template text (not a path), starting with `## template:jinja`; it sees servers, pools, peers and allow.",
            examples: ["## template:jinja\n{% for server in servers -%}\nserver {{server}} iburst\n{% endfor %}\n"],
          },
        },
      },
    },
  },
} as const;

// A host name, an IPv4/IPv6 address (with an optional %zone) or a bracketed one. No
// space, newline, quote or `#`: each would add or cut a directive in the file.
const HOST = /^(?!-)[A-Za-z0-9._:%[\]-]+$/;
const NETWORK = /^(?!-)[A-Za-z0-9._:%/[\]-]+$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/;
const SERVICE = /^[A-Za-z0-9_.@:-]+$/;

type Checked = { name: string; client: ClientConfig; servers: string[]; pools: string[]; peers: string[]; allow: string[]; text: string; renderedFrom: string } | { errors: string[] };

function list(ntp: Record<string, unknown>, key: string, shape: RegExp, what: string, whats: string, errors: string[]): string[] {
  const v = ntp[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push(`ntp.${key} must be a list of ${whats}, e.g. [${key === "allow" ? "192.0.2.0/24" : "ntp.example.com"}], not ${JSON.stringify(v)}`);
    return [];
  }
  v.forEach((x, i) => {
    if (typeof x !== "string" || !shape.test(x)) {
      errors.push(`ntp.${key}[${i}] ${JSON.stringify(x)} is not a ${what} (spaces, newlines, quotes and # would change other lines of the file): write one ${what} per entry`);
    }
  });
  return v.map(String);
}

/** Everything the module will do, checked: or every error found. */
function check(ntp: Record<string, unknown>, ctx: ModuleContext): Checked {
  const errors: string[] = [];
  const servers = list(ntp, "servers", HOST, "host name or address", "host names or addresses", errors);
  const pools = list(ntp, "pools", HOST, "host name", "host names", errors);
  const peers = list(ntp, "peers", HOST, "host name or address", "host names or addresses", errors);
  const allow = list(ntp, "allow", NETWORK, "network (address or address/prefix)", "networks", errors);

  // As cloud-init: unset, null, "" and auto all mean auto.
  const requested = ntp.ntp_client || undefined;
  if (requested !== undefined && typeof requested !== "string") errors.push(`ntp.ntp_client must be a client name (auto, ${CLIENT_NAMES.join(", ")}), not ${JSON.stringify(requested)}`);
  const given = ntp.config ?? {};
  if (!isPlainObject(given)) {
    errors.push(`ntp.config must be a mapping (confpath, check_exe, packages, service_name, template), not ${JSON.stringify(given)}`);
    return { errors };
  }
  for (const k of Object.keys(given)) if (!(CONFIG_KEYS as readonly string[]).includes(k)) errors.push(`ntp.config.${k} is not a setting of ntp.config (${CONFIG_KEYS.join(", ")})`);
  if (errors.length) return { errors };

  const picked = selectClient(requested as string | undefined, ctx.host.root);
  const client = { ...picked.config, ...given } as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => client[k] === undefined);
  if (missing.length) {
    const known = picked.name in CLIENTS;
    errors.push(
      known
        ? `ntp.config is missing ${missing.join(", ")}`
        : `ntp.ntp_client "${picked.name}" is not one of auto, ${CLIENT_NAMES.join(", ")}: pick one of those, or describe your own client with ntp.config (confpath, check_exe, packages, service_name, template)`,
    );
    return { errors };
  }
  const { confpath, check_exe, packages, service_name, template } = client;
  if (typeof confpath !== "string" || !confpath.startsWith("/") || /[\s]/.test(confpath)) errors.push(`ntp.config.confpath must be an absolute path without spaces, not ${JSON.stringify(confpath)}`);
  if (typeof check_exe !== "string" || check_exe === "" || /\s/.test(check_exe)) errors.push(`ntp.config.check_exe must be a program name or path, not ${JSON.stringify(check_exe)}`);
  if (!Array.isArray(packages) || !packages.every((p) => typeof p === "string" && PACKAGE.test(p))) errors.push(`ntp.config.packages must be a list of Debian package names, e.g. [chrony], not ${JSON.stringify(packages)}`);
  if (typeof service_name !== "string" || !SERVICE.test(service_name) || service_name.startsWith("-")) errors.push(`ntp.config.service_name must be a service name like chrony, not ${JSON.stringify(service_name)}`);

  let text: string | undefined;
  let renderedFrom: string;
  if (template !== undefined && template !== null && template !== "") {
    if (typeof template !== "string") errors.push(`ntp.config.template must be the template's text, not ${JSON.stringify(template)}`);
    else if (!template.includes("\n") && template.trim().startsWith("/")) {
      const there = ctx.host.root.exists(template.trim()) ? "" : " (and there is no such file)";
      errors.push(`ntp.config.template is the template's text, not a path: ${JSON.stringify(template)}${there}; put the file's content there, starting with "## template:jinja"`);
    } else text = template;
    renderedFrom = "ntp.config.template";
  } else {
    const name = String(client.template_name ?? "");
    text = BUILTIN_TEMPLATES[name];
    renderedFrom = `template ${name}`;
    if (text === undefined) errors.push(`ntp.ntp_client "${picked.name}" has no Debian template (cloud-init has none either): give its configuration as ntp.config.template`);
  }
  if (errors.length || text === undefined) return { errors };
  return { name: picked.name, client: client as unknown as ClientConfig, servers, pools, peers, allow, text, renderedFrom };
}

async function restart(ctx: ModuleContext, service: string): Promise<string> {
  const h = ctx.host;
  if (!systemdRunsTarget(h)) return `${service} not restarted (no running systemd here); the file applies when ${service} starts`;
  // cloud-init's manage_service("reload") under systemd.
  const argv = ["systemctl", "reload-or-restart", service];
  const r = await h.run.run(argv, { timeoutMs: RESTART_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`\`${argv.join(" ")}\` failed (${describeFailure(r, RESTART_TIMEOUT_MS)}); the configuration is written, restart ${service} by hand`);
  return `${service} restarted`;
}

export const ntp: Module = {
  id: "ntp",
  stage: "config",
  frequency: "per-instance",
  schema: { type: "object", description: "Configure the NTP client (chrony, systemd-timesyncd, ntp, ...): servers, pools, install and restart.", properties: NTP_SCHEMA },
  async run(cfg: CloudConfig, ctx): Promise<ModuleResult> {
    if (!("ntp" in cfg) || cfg.ntp === undefined) return { status: "skipped", detail: "no ntp key" };
    const ntpCfg = cfg.ntp ?? {};
    if (!isPlainObject(ntpCfg)) return { status: "unchanged", errors: [`ntp must be a mapping (servers, pools, ntp_client, ...), not ${JSON.stringify(ntpCfg)}; nothing written`] };
    if (isFalse(ntpCfg.enabled ?? true)) return { status: "skipped", detail: "disabled (ntp.enabled: false)" };
    const c = check(ntpCfg, ctx);
    if ("errors" in c) return { status: "unchanged", errors: c.errors.map((e) => `${e}; nothing written`) };

    const pools = c.servers.length === 0 && c.pools.length === 0 ? DEFAULT_POOLS : c.pools;
    let content: string;
    try {
      content = await renderTemplate(c.text, { servers: c.servers, pools, peers: c.peers, allow: c.allow }, TEMPLATE_OPTIONS);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      return { status: "unchanged", errors: [`${c.renderedFrom}: ${err.message}; nothing written`] };
    }
    const root = ctx.host.root;
    const path = c.client.confpath;
    const existing = root.lstat(path);
    if (existing && existing.kind !== "file" && existing.kind !== "symlink") return { status: "unchanged", errors: [`ntp.config.confpath ${path} is a ${existing.kind}, not a file; nothing written`] };

    // cloud-init renames the file it replaces to .dist; a copy (or the same link) then an
    // atomic replace leaves a complete file at `path` at every moment.
    const notes: string[] = [];
    if (existing?.kind === "file") root.writeAtomic(`${path}.dist`, root.readFile(path), { mode: existing.mode & 0o7777 });
    else if (existing?.kind === "symlink") root.symlinkAtomic(root.readlink(path)!, `${path}.dist`);
    if (existing) notes.push(`kept the previous file as ${path}.dist`);
    root.writeAtomic(path, content, { mode: 0o644 });
    const errors: string[] = [];
    // cloud-init 22.4.2 writes /etc/ntp.conf for ntp; Debian 12's ntp is ntpsec, which reads /etc/ntpsec/ntp.conf.
    if (path === "/etc/ntp.conf" && root.exists("/etc/ntpsec")) {
      const warning = "this is ntpsec, which reads /etc/ntpsec/ntp.conf, not /etc/ntp.conf: set ntp.config.confpath: /etc/ntpsec/ntp.conf";
      ctx.host.log.warn(`ntp: ${warning}`);
      notes.push(warning);
    }
    const unused = (["peers", "allow"] as const).filter((k) => c[k].length > 0 && !c.text.includes(k));
    if (unused.length) notes.push(`${unused.join(" and ")} not used: the ${c.name} configuration has no place for them (chrony's has)`);

    let installed = findInTarget(root, c.client.check_exe) !== null;
    if (!installed && c.client.packages.length > 0) {
      ctx.host.log.info(`ntp: ${c.client.check_exe} not found; installing ${c.client.packages.join(" ")}`);
      const why = await installPackages(ctx, cfg, c.client.packages);
      if (why) errors.push(`the ntp client ${c.name} is not installed and installing it failed (${why}); preinstall ${c.client.packages.join(" ")} in the image, or set ntp.ntp_client to a client the image has. ${path} is written`);
      else {
        installed = true;
        notes.push(`installed ${c.client.packages.join(" ")}`);
      }
    } else if (!installed) notes.push(`${c.client.check_exe} not found and no package to install`);
    if (installed) {
      try {
        notes.push(await restart(ctx, c.client.service_name));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return { status: "changed", detail: [`${c.name}: wrote ${path}`, ...notes].join("; "), errors };
  },
};
