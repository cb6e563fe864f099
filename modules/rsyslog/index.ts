// rsyslog: drop-in files for rsyslog from cloud-config (cloud-init's keys):
// `configs` entries and `remotes` (name -> "[selector] [@|@@]host[:port]")
// written atomically under config_dir, and rsyslog restarted only when a file
// changed. A bad remote keeps the file it belongs to as it was, and is reported.
import type { Host } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import { systemdRunsTarget } from "../../agent/platform";
import type { Module, ModuleResult } from "../../agent/types";
import { parseConfigs, parseRemote, remoteLines } from "./parse";
import { describeFailure } from "../../agent/target-command";

const RELOAD_TIMEOUT_MS = 30_000;

export const RSYSLOG_SCHEMA = {
  rsyslog: {
    type: ["object", "array"],
    description: "rsyslog drop-in configuration. (A list is the old form: the same as `configs`.)",
    examples: [{ remotes: { central: "*.* @@10.0.0.5:514" } }],
    properties: {
      config_dir: { type: "string", description: "Where the files go.", default: "/etc/rsyslog.d", examples: ["/etc/rsyslog.d"] },
      config_filename: { type: "string", description: "The file for entries without a filename, and for remotes.", default: "20-cloud-config.conf", examples: ["50-remote.conf"] },
      configs: {
        type: "array",
        description: "rsyslog configuration: strings go to config_filename; {filename, content} to their own file.",
        items: { type: ["string", "object"] },
        examples: [["*.* @@10.0.0.5:514", { filename: "01-example.conf", content: "*.*    @@syslogd.example.com" }]],
      },
      remotes: {
        type: "object",
        description: 'Remote servers, name -> "[selector] [@|@@]host[:port]". @ is UDP, @@ TCP; the selector defaults to *.*; IPv6 addresses go in brackets.',
        additionalProperties: { type: "string" },
        examples: [{ central: "*.* @@10.0.0.5:514", v6: "@[2001:db8::1]:514" }],
      },
      service_reload_command: {
        type: ["string", "array"],
        description: "How to restart rsyslog after a change: auto (systemctl try-restart when systemd runs) or a command as a list of arguments.",
        default: "auto",
        examples: [["systemctl", "restart", "rsyslog"]],
      },
    },
  },
} as const;

interface Settings {
  dir: string;
  file: string;
  configs: unknown[];
  remotes: Record<string, unknown>;
  reload: "auto" | string[];
}

function settings(cfg: Record<string, unknown>): Settings | string {
  const raw = cfg.rsyslog;
  const r = Array.isArray(raw) ? { configs: raw } : isPlainObject(raw) ? raw : null;
  if (!r) return `rsyslog must be a mapping (config_dir, configs, remotes, ...), not a ${typeof raw}`;
  const reload = r.service_reload_command ?? "auto";
  if (reload !== "auto" && !(Array.isArray(reload) && reload.length > 0 && reload.every((a) => typeof a === "string"))) return `rsyslog.service_reload_command must be auto or a command as a list, e.g. [systemctl, restart, rsyslog]`;
  if (r.remotes !== undefined && !isPlainObject(r.remotes)) return "rsyslog.remotes must be a mapping of name to \"[selector] @host:port\"";
  if (r.configs !== undefined && !Array.isArray(r.configs)) return "rsyslog.configs must be a list";
  return {
    dir: typeof r.config_dir === "string" ? r.config_dir : typeof cfg.rsyslog_dir === "string" ? cfg.rsyslog_dir : "/etc/rsyslog.d",
    file: typeof r.config_filename === "string" ? r.config_filename : typeof cfg.rsyslog_filename === "string" ? cfg.rsyslog_filename : "20-cloud-config.conf",
    configs: (r.configs as unknown[] | undefined) ?? [],
    remotes: (r.remotes as Record<string, unknown> | undefined) ?? {},
    reload: reload as Settings["reload"],
  };
}

async function restart(h: Host, reload: Settings["reload"]): Promise<string> {
  let argv: string[];
  if (reload === "auto") {
    // Only a running systemd can restart the service; in a chroot or image build the new file applies at next start.
    if (!systemdRunsTarget(h)) return "rsyslog not restarted (no running systemd here); the file applies when rsyslog starts";
    argv = ["systemctl", "try-restart", "rsyslog.service"];
  } else argv = reload;
  const r = await h.run.run(argv, { timeoutMs: RELOAD_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`restarting rsyslog with \`${argv.join(" ")}\` failed (${describeFailure(r, RELOAD_TIMEOUT_MS)}); the files are written, restart rsyslog by hand`);
  return `rsyslog restarted (${argv.join(" ")})`;
}

export const rsyslog: Module = {
  id: "rsyslog",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Configure rsyslog: drop-in files and remote syslog servers.", properties: RSYSLOG_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    if (cfg.rsyslog === undefined || cfg.rsyslog === null) return { status: "skipped", detail: "no rsyslog key" };
    const s = settings(cfg);
    if (typeof s === "string") return { status: "skipped", errors: [`${s}; no file written`] };
    const { entries, errors } = parseConfigs(s.configs, s.file);
    const remoteText: string[] = [];
    for (const [name, line] of Object.entries(s.remotes)) {
      const r = typeof line === "string" ? parseRemote(name, line) : { error: `remotes.${name} must be a string like "*.* @@10.0.0.5:514"` };
      if ("error" in r) errors.push(r.error);
      else remoteText.push(remoteLines(r));
    }
    const badRemote = remoteText.length !== Object.keys(s.remotes).length;
    const remotesFile = s.file.startsWith("/") ? s.file : `${s.dir}/${s.file}`;
    if (Object.keys(s.remotes).length > 0) entries.push({ filename: s.file, content: `# begin remotes\n${remoteText.join("")}# end remotes\n` });
    const files = new Map<string, string>();
    for (const e of entries) {
      const path = e.filename.startsWith("/") ? e.filename : `${s.dir}/${e.filename}`;
      files.set(path, (files.get(path) ?? "") + (e.content.endsWith("\n") ? e.content : `${e.content}\n`));
    }
    const changed: string[] = [];
    for (const [path, content] of files) {
      if (badRemote && path === remotesFile) {
        errors.push(`${path} left as it was because of the remotes error above; fix the entry and boot again (or run \`sprout clean\`)`);
        continue;
      }
      if (h.root.tryReadText(path) === content) continue;
      h.root.writeAtomic(path, content, { mode: 0o644 });
      changed.push(path);
    }
    if (changed.length === 0) return { status: "unchanged", detail: files.size ? "rsyslog files already up to date" : "nothing to write", errors };
    let detail = `wrote ${changed.join(", ")}`;
    try {
      detail += `; ${await restart(h, s.reload)}`;
    } catch (err) {
      errors.push((err as Error).message);
    }
    return { status: "changed", detail, errors };
  },
};
