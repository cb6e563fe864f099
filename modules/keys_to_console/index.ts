// keys_to_console: the ssh host keys and their fingerprints on the console once per
// instance, between the markers cloud-init prints, so a person (or a script reading
// the cloud's console output) can check the key of a new machine before trusting it.
import type { Module, ModuleContext } from "../../agent/types";
import { fingerprint } from "./fingerprint";

const SSH_DIR = "/etc/ssh";
const RULE = "#############################################################";

export const KEYS_TO_CONSOLE_SCHEMA = {
  ssh: {
    type: "object",
    description: "Console output of the ssh host keys.",
    properties: {
      emit_keys_to_console: { type: "boolean", description: "Print the host keys and their fingerprints on the console.", default: true, examples: [false] },
    },
    examples: [{ emit_keys_to_console: false }],
  },
  ssh_fp_console_blacklist: {
    type: "array",
    items: { type: "string" },
    description: "Key types whose fingerprints are not printed.",
    default: [],
    examples: [["ssh-dss", "ecdsa-sha2-nistp256"]],
  },
  ssh_key_console_blacklist: {
    type: "array",
    items: { type: "string" },
    description: "Key types whose public keys are not printed.",
    default: ["ssh-dss"],
    examples: [["ssh-dss", "ssh-rsa"]],
  },
} as const;

const typeList = (v: unknown, fallback: string[]): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(",").map((s) => s.trim()) : fallback);

/** The host's public keys, in the order the shell glob /etc/ssh/ssh_host_*key.pub gives. */
function hostKeys(ctx: ModuleContext): Array<{ file: string; text: string }> {
  let names: string[];
  try {
    names = ctx.host.root.readdir(SSH_DIR);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^ssh_host_.*key\.pub$/.test(n))
    .sort()
    .flatMap((n) => {
      const file = `${SSH_DIR}/${n}`;
      const text = ctx.host.root.stat(file)?.kind === "file" ? ctx.host.root.tryReadText(file, 64 * 1024) : null;
      return text === null ? [] : [{ file, text: text.split("\n")[0]!.trim() }];
    });
}

export const keysToConsole: Module = {
  id: "keys_to_console",
  stage: "final",
  frequency: "per-instance",
  schema: {
    type: "object",
    description: "Print the ssh host keys and their fingerprints on the console (ssh.emit_keys_to_console: false turns it off).",
    properties: KEYS_TO_CONSOLE_SCHEMA,
  },
  async run(cfg, ctx) {
    const ssh = cfg.ssh as { emit_keys_to_console?: unknown } | undefined;
    if (ssh?.emit_keys_to_console === false) return { status: "skipped", detail: "ssh.emit_keys_to_console is false" };
    const keys = hostKeys(ctx);
    if (keys.length === 0) return { status: "skipped", detail: `no host keys in ${SSH_DIR}` };
    const noFp = new Set(typeList(cfg.ssh_fp_console_blacklist, []));
    const noKey = new Set(typeList(cfg.ssh_key_console_blacklist, ["ssh-dss"]));
    const unreadable: string[] = [];
    const fps: string[] = [];
    const pubs: string[] = [];
    for (const k of keys) {
      const type = k.text.split(/\s+/)[0] ?? "";
      try {
        if (!noFp.has(type)) fps.push(fingerprint(k.text).line);
      } catch (err) {
        // A key cloud-config handed over (ssh_keys) may be a placeholder: sshd skips it, and so
        // does this listing, as cloud-init's does; a warning, not a degraded boot.
        unreadable.push(`${k.file}: ${(err as Error).message}; if sshd should use it, remove it and run ssh-keygen -A`);
        continue;
      }
      if (!noKey.has(type)) pubs.push(k.text);
    }
    const out: string[] = [];
    if (fps.length) out.push(RULE, "-----BEGIN SSH HOST KEY FINGERPRINTS-----", ...fps, "-----END SSH HOST KEY FINGERPRINTS-----", RULE);
    if (pubs.length) out.push("-----BEGIN SSH HOST KEY KEYS-----", ...pubs, "-----END SSH HOST KEY KEYS-----");
    for (const u of unreadable) ctx.host.log.warn(u);
    const skipped = unreadable.length ? `; not listed: ${unreadable.join("; ")}` : "";
    if (out.length === 0) return { status: "unchanged", detail: `no key to print${skipped}` };
    const text = out.join("\n") + "\n";
    ctx.console?.(text);
    ctx.host.log.info(`host keys: ${fps.join("; ")}`, { fingerprints: fps });
    return { status: "changed", detail: `${fps.length} fingerprints and ${pubs.length} keys printed${skipped}` };
  },
};
