// set_hostname: the hostname from cloud-config (hostname/fqdn) or meta-data
// (local-hostname), written to /etc/hostname and the 127.0.1.1 line of
// /etc/hosts, and set on the running kernel when the target is the running system.
import type { TargetRoot } from "../../agent/host/types";
import { ModuleError } from "../../agent/errors";
import type { CloudConfig, Module, ModuleContext, ModuleResult } from "../../agent/types";
import { localFqdn } from "../../agent/instance-data";

export const HOSTNAME_SCHEMA = {
  hostname: {
    type: "string",
    description: "The hostname to set. With `fqdn` unset and a dot in it, the part before the first dot is the short name.",
    examples: ["myhost"],
  },
  fqdn: { type: "string", description: "The fully qualified domain name; its first label is the short hostname.", examples: ["myhost.example.com"] },
  prefer_fqdn_over_hostname: {
    type: "boolean",
    description: "Write the FQDN, not the short name, to /etc/hostname.",
    default: false,
    examples: [true],
  },
  preserve_hostname: {
    type: "boolean",
    description: "Leave the hostname alone: neither /etc/hostname nor the running hostname are changed.",
    default: false,
    examples: [true],
  },
  create_hostname_file: {
    type: "boolean",
    description: "Create /etc/hostname when it does not exist. With false, a missing file stays missing.",
    default: true,
    examples: [false],
  },
} as const;

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function validHostname(name: string): boolean {
  return name.replace(/\.$/, "").split(".").every((label) => LABEL.test(label));
}

export interface HostnameChoice {
  short: string;
  fqdn: string;
  /** What goes into /etc/hostname. */
  written: string;
  source: string;
  /**
   * Set when cloud-config's name is no valid host name and the meta-data's is used
   * instead: what is wrong and what to write. set_hostname reports it as an error.
   */
  problem?: string;
}

/** Which hostname cloud-config and meta-data ask for, or null when neither names one. */
export function chooseHostname(cfg: CloudConfig, ctx: ModuleContext, moduleId: string): HostnameChoice | null {
  // `hostname: 12345` is a number to YAML. cloud-init 22.4.2 fails on it (and keeps the
  // meta-data's name); sprout says to quote it, and names the machine as cloud-init leaves it.
  const notText = (["hostname", "fqdn"] as const).find((k) => cfg[k] !== undefined && cfg[k] !== null && typeof cfg[k] !== "string");
  if (notText !== undefined) {
    const value = JSON.stringify(cfg[notText]);
    const problem = `${notText}: ${value} is not text (YAML reads it as a ${typeof cfg[notText]}); quote it: ${notText}: "${String(cfg[notText])}"`;
    const rest = chooseHostname({ ...cfg, [notText]: undefined }, ctx, moduleId);
    if (!rest) throw new ModuleError(moduleId, problem);
    return { ...rest, problem: rest.problem ? `${problem}; ${rest.problem}` : `${problem}; the name used is ${rest.written}` };
  }
  const cloudName = localFqdn(ctx.instance);
  let fqdn: string | null = null;
  let short: string | null = null;
  let source = "";
  if (typeof cfg.fqdn === "string" && cfg.fqdn) {
    fqdn = cfg.fqdn;
    source = "cloud-config fqdn";
  }
  if (typeof cfg.hostname === "string" && cfg.hostname) {
    short = cfg.hostname;
    source ||= "cloud-config hostname";
  }
  if (!fqdn && !short && cloudName) {
    short = cloudName;
    source = "meta-data local-hostname";
  }
  if (!fqdn && !short) return null;
  if (!fqdn && short!.includes(".")) fqdn = short!;
  // A short `hostname` alone: the FQDN is the cloud's (meta-data local-hostname), as
  // cloud-init documents it ("the FQDN of the cloud will be used") and does
  // (util.get_hostname_fqdn, 22.4.2 and later): it shows in /etc/hosts and, with
  // prefer_fqdn_over_hostname, in /etc/hostname.
  // A meta-data name that is no valid host name is not used for it: the user's own name still applies.
  if (!fqdn && source === "cloud-config hostname" && cloudName && validHostname(cloudName)) fqdn = cloudName;
  if (fqdn && (!short || short.includes("."))) short = fqdn.split(".")[0]!;
  fqdn ??= short!;
  const hint = "use letters, digits and '-' in labels of 1 to 63 characters separated by dots";
  const invalid = [...new Set([short!, fqdn])].find((name) => !validHostname(name));
  if (invalid !== undefined) {
    const why = `hostname ${JSON.stringify(invalid)} (from ${source}) is not a valid host name`;
    // The machine still gets a name it can use: the meta-data's, which is what the
    // running hostname stays at under cloud-init too (hostname(1) and the kernel refuse
    // such a name). Nothing invalid is written to /etc/hostname.
    if (source.startsWith("cloud-config") && cloudName && validHostname(cloudName)) {
      const fallback = chooseHostname({ ...cfg, hostname: undefined, fqdn: undefined }, ctx, moduleId)!;
      return { ...fallback, problem: `${why}, so the meta-data's name ${fallback.written} is used: ${hint}` };
    }
    throw new ModuleError(moduleId, why, { hint });
  }
  return { short: short!, fqdn, written: cfg.prefer_fqdn_over_hostname === true ? fqdn : short!, source };
}

/** Rewrites only the 127.0.1.1 line of /etc/hosts (adding it when missing); every other line is kept. */
export function hostsWithLoopbackName(hosts: string, choice: HostnameChoice): string {
  const names = choice.fqdn !== choice.short ? `${choice.fqdn} ${choice.short}` : choice.short;
  const wanted = `127.0.1.1 ${names}`;
  const lines = hosts.split("\n");
  let found = false;
  const out = lines.map((line) => {
    if (/^\s*127\.0\.1\.1\s/.test(line)) {
      if (found) return `# ${line}`;
      found = true;
      return wanted;
    }
    return line;
  });
  if (!found) {
    if (out.length > 0 && out[out.length - 1] === "") out.pop();
    out.push(wanted, "");
  }
  return out.join("\n");
}

export const PREVIOUS_HOSTNAME = "/var/lib/sprout/data/previous-hostname";

/** The kernel's hostname (sethostname(2) and `hostname NAME` refuse longer ones). */
const KERNEL_HOSTNAME = "/proc/sys/kernel/hostname";
const KERNEL_HOSTNAME_MAX_BYTES = 64;

/**
 * Sets the running hostname by writing the kernel's setting, as sethostname(2) does:
 * the same effect as `hostname NAME`, which cloud-init runs, without a process. Never
 * hostnamectl: it needs dbus and systemd-hostnamed, which may not be up this early.
 * Nothing is written when the kernel has the name already. Returns an error message,
 * or null.
 */
function setRunningHostname(root: TargetRoot, name: string): string | null {
  let current: string | undefined;
  try {
    current = root.tryReadText(KERNEL_HOSTNAME, 4096)?.trim();
  } catch {
    // Unreadable: the write below says what is wrong.
  }
  if (current === name) return null;
  const keep = "/etc/hostname is written, so the name takes effect at the next boot";
  // The kernel would cut a longer name short without a word; sethostname(2) refuses it.
  if (Buffer.byteLength(name) > KERNEL_HOSTNAME_MAX_BYTES) {
    return `the running hostname cannot be set to ${name}: the kernel allows ${KERNEL_HOSTNAME_MAX_BYTES} bytes and it has ${Buffer.byteLength(name)}; set a shorter hostname, or prefer_fqdn_over_hostname: false (${keep})`;
  }
  try {
    root.writeInPlace(KERNEL_HOSTNAME, name);
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EPERM" || e.code === "EACCES" ? "sprout lacks the right to change it here (CAP_SYS_ADMIN; a container?)" : e.message;
    return `the running hostname could not be set to ${name}: ${why}; ${keep}`;
  }
}

/** Writes the hostname files and sets the running hostname. Shared by set_hostname and update_hostname. */
export async function applyHostname(cfg: CloudConfig, ctx: ModuleContext, choice: HostnameChoice): Promise<ModuleResult> {
  const root = ctx.host.root;
  const changes: string[] = [];
  const current = root.tryReadText("/etc/hostname");
  if (current === null && cfg.create_hostname_file === false) {
    // Asked not to create it.
  } else if (current?.trim() !== choice.written) {
    root.writeAtomic("/etc/hostname", `${choice.written}\n`, { mode: 0o644 });
    changes.push(`/etc/hostname=${choice.written}`);
  }
  if (cfg.manage_etc_hosts !== true && cfg.manage_etc_hosts !== "template" && cfg.manage_etc_hosts !== false) {
    const hosts = root.tryReadText("/etc/hosts") ?? "127.0.0.1 localhost\n";
    const next = hostsWithLoopbackName(hosts, choice);
    if (next !== hosts) {
      root.writeAtomic("/etc/hosts", next, { mode: root.stat("/etc/hosts")?.mode ?? 0o644 });
      changes.push("/etc/hosts 127.0.1.1");
    }
  }
  root.writeAtomic(PREVIOUS_HOSTNAME, `${choice.written}\n`, { mode: 0o644, durable: false });
  if (root.isSystemRoot) {
    const error = setRunningHostname(root, choice.written);
    if (error) return { status: changes.length ? "changed" : "unchanged", errors: [error] };
  }
  return changes.length ? { status: "changed", detail: `${choice.written} (from ${choice.source})` } : { status: "unchanged", detail: choice.written };
}

export const setHostname: Module = {
  id: "set_hostname",
  stage: "network",
  frequency: "per-instance",
  schema: {
    type: "object",
    description: "Set the hostname from cloud-config or meta-data on the first boot of an instance: /etc/hostname, the 127.0.1.1 line of /etc/hosts, and the running hostname.",
    properties: HOSTNAME_SCHEMA,
  },
  async run(cfg, ctx) {
    if (cfg.preserve_hostname === true) return { status: "skipped", detail: "preserve_hostname is true" };
    const choice = chooseHostname(cfg, ctx, "set_hostname");
    if (!choice) return { status: "skipped", detail: "no hostname in cloud-config or meta-data" };
    const result = await applyHostname(cfg, ctx, choice);
    return choice.problem ? { ...result, errors: [choice.problem, ...(result.errors ?? [])] } : result;
  },
};
