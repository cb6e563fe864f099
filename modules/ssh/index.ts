// ssh: host keys and who may log in. On the first boot of an instance the host
// keys baked into the image are deleted (ssh_deletekeys) and new ones made with
// ssh-keygen, or taken from ssh_keys; the instance's public keys and
// ssh_authorized_keys go to the default user; root gets the keys with a command
// that tells the person to log in as the default user (disable_root), and
// ssh_pwauth sets PasswordAuthentication in sshd_config and has a running sshd reload it.
import { isPlainObject } from "../../agent/merge";
import { systemdRunsTarget } from "../../agent/platform";
import type { CloudConfig, Module, ModuleContext, ModuleResult } from "../../agent/types";
import { addAuthorizedKeys, defaultUserName, DISABLE_USER_OPTS, readPasswd, usersFromConfig } from "../users_groups";
import { describeFailure } from "../../agent/target-command";

const SSH_DIR = "/etc/ssh";
const KEY_TYPES = ["rsa", "ecdsa", "ed25519"] as const;
// A DSA key the seed gives is installed, as cloud-init does; sprout never makes one.
const GIVEN_KEY_TYPES = ["rsa", "dsa", "ecdsa", "ed25519"] as const;
const GIVEN_KEY = new RegExp(`^(${GIVEN_KEY_TYPES.join("|")})_(private|public|certificate)$`);
const KEYGEN_TIMEOUT_MS = 120_000;

/** cloud-init's message for root logins when disable_root is on; $USER and $DISABLE_USER are filled in. */
export const DISABLE_ROOT_OPTS = DISABLE_USER_OPTS;

export const SSH_SCHEMA = {
  ssh_authorized_keys: {
    type: "array",
    items: { type: "string" },
    description: "Public keys added to the default user's ~/.ssh/authorized_keys (with the instance's own keys from meta-data).",
    examples: [["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... admin@laptop"]],
  },
  allow_public_ssh_keys: { type: "boolean", description: "Add the instance's public keys from meta-data to the default user.", default: true, examples: [false] },
  disable_root: { type: "boolean", description: "Let root log in with the keys only to be told which user to log in as.", default: true, examples: [false] },
  disable_root_opts: { type: "string", description: "The authorized_keys options put before root's keys when disable_root is on; $USER is the default user, $DISABLE_USER root.", default: DISABLE_ROOT_OPTS, examples: ["no-port-forwarding,no-agent-forwarding,no-X11-forwarding"] },
  ssh_deletekeys: { type: "boolean", description: "Delete the image's host keys on the first boot of an instance, so no two instances share them.", default: true, examples: [false] },
  ssh_genkeytypes: { type: "array", items: { type: "string", enum: [...KEY_TYPES] }, description: "Host key types to generate when missing (not used when ssh_keys gives host keys).", default: [...KEY_TYPES], examples: [["ed25519"]] },
  ssh_keys: {
    type: "object",
    description:
      "Host keys to install instead of generating them: <type>_private, <type>_public and <type>_certificate for rsa, ecdsa, ed25519 (and dsa). When given, no other host keys are generated (as in cloud-init). A private key given without its public key gets one made from it (comment root@localhost); a certificate is named in sshd_config's HostCertificate. A key that does not end in a newline gets one: OpenSSH cannot load a private key without it.",
    additionalProperties: { type: "string" },
    examples: [{ ed25519_private: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n", ed25519_public: "ssh-ed25519 AAAA... host" }],
  },
  ssh_quiet_keygen: { type: "boolean", description: "Do not print the key fingerprints while generating.", default: false, examples: [true] },
  ssh_publish_hostkeys: {
    type: "object",
    description: "Accepted for compatibility: sprout has no datasource to publish host keys to.",
    properties: {
      enabled: { type: "boolean", description: "Publish the host keys.", examples: [true] },
      blacklist: { type: "array", items: { type: "string" }, description: "Key types not to publish.", examples: [["rsa"]] },
    },
    examples: [{ enabled: false }],
  },
  ssh_pwauth: {
    oneOf: [{ type: "boolean" }, { type: "string", enum: ["unchanged", "yes", "no"] }],
    description: "Set PasswordAuthentication in /etc/ssh/sshd_config: true, false, or unchanged. A running sshd is told to reload (systemctl try-reload-or-restart).",
    default: "unchanged",
    examples: [false],
  },
} as const;

function hostKeyPath(type: string): string {
  return `${SSH_DIR}/ssh_host_${type}_key`;
}

async function hostKeys(cfg: CloudConfig, ctx: ModuleContext, done: string[], errors: string[]): Promise<void> {
  const root = ctx.host.root;
  if (cfg.ssh_deletekeys !== false && root.stat(SSH_DIR)?.kind === "dir") {
    for (const name of root.readdir(SSH_DIR)) if (/^ssh_host_.*key/.test(name)) root.remove(`${SSH_DIR}/${name}`);
  }
  const given = isPlainObject(cfg.ssh_keys) ? cfg.ssh_keys : {};
  if (cfg.ssh_keys !== undefined && cfg.ssh_keys !== null && !isPlainObject(cfg.ssh_keys)) {
    errors.push(`ssh_keys must be a mapping of <type>_private / _public / _certificate to keys, not a ${Array.isArray(cfg.ssh_keys) ? "list" : typeof cfg.ssh_keys}; host keys are generated instead`);
  }
  let certificate: string | null = null;
  for (const [key, value] of Object.entries(given)) {
    const m = GIVEN_KEY.exec(key);
    if (!m || typeof value !== "string") {
      errors.push(`ssh_keys.${key} is not one of <rsa|ecdsa|ed25519>_<private|public|certificate>; skipped`);
      continue;
    }
    const path = m[2] === "private" ? hostKeyPath(m[1]!) : m[2] === "public" ? `${hostKeyPath(m[1]!)}.pub` : `${hostKeyPath(m[1]!)}-cert.pub`;
    // The public parts are not secrets: 0644, as ssh-keygen makes them, so anybody can
    // check a fingerprint (cloud-init 22.4.2 writes them 0600).
    root.writeAtomic(path, value.endsWith("\n") ? value : `${value}\n`, { mode: m[2] === "private" ? 0o600 : 0o644 });
    done.push(path);
    // The last certificate given is the one sshd presents, as in cloud-init.
    if (m[2] === "certificate") certificate = path;
  }
  for (const type of GIVEN_KEY_TYPES) {
    if (typeof given[`${type}_private`] !== "string" || given[`${type}_public`] !== undefined) continue;
    await publicKeyFromPrivate(ctx, type, done, errors);
  }
  if (certificate) hostCertificate(ctx, certificate, done);
  // Keys given in ssh_keys replace generation, as cloud-init documents ("If no host keys
  // are specified using ssh_keys, then keys will be generated"; cc_ssh 22.4.2 and later):
  // a type that is not given is not made. (An empty ssh_keys: {} still generates.)
  if (Object.keys(given).length > 0) return;
  // Host keys are for sshd: a target without it (a bare tree, a minimal image) gets
  // none unless ssh_genkeytypes asks for them; key generation is a boot's slowest step.
  if (cfg.ssh_genkeytypes === undefined && !root.exists("/etc/ssh/sshd_config") && !root.exists("/usr/sbin/sshd")) return;
  const types = Array.isArray(cfg.ssh_genkeytypes) ? cfg.ssh_genkeytypes.map(String) : [...KEY_TYPES];
  for (const type of types) {
    if (!(KEY_TYPES as readonly string[]).includes(type)) {
      errors.push(`ssh_genkeytypes: unknown key type ${JSON.stringify(type)} (use rsa, ecdsa or ed25519)`);
      continue;
    }
    if (root.exists(hostKeyPath(type))) continue;
    root.mkdirp(SSH_DIR, 0o755);
    const res = await ctx.host.run.run(["ssh-keygen", "-t", type, "-N", "", "-q", "-C", `root@${ctx.instanceId}`, "-f", root.resolve(hostKeyPath(type))], { timeoutMs: KEYGEN_TIMEOUT_MS });
    if (res.code !== 0) errors.push(`ssh-keygen -t ${type} failed: ${describeFailure(res, KEYGEN_TIMEOUT_MS)}${res.spawnError ? " (install openssh-client)" : ""}`);
    else done.push(`host key ${type}`);
  }
}

/**
 * The public key of a host key given only as its private key, as cloud-init makes it
 * (`ssh-keygen -y`, comment root@localhost): tools that show host key fingerprints
 * read the .pub file.
 */
async function publicKeyFromPrivate(ctx: ModuleContext, type: string, done: string[], errors: string[]): Promise<void> {
  const root = ctx.host.root;
  const res = await ctx.host.run.run(["ssh-keygen", "-y", "-f", root.resolve(hostKeyPath(type))], { timeoutMs: KEYGEN_TIMEOUT_MS });
  const key = res.stdout.toString("utf8").trim();
  if (res.code !== 0 || !key) {
    errors.push(`ssh_keys.${type}_private: ssh-keygen -y could not read it (${describeFailure(res, KEYGEN_TIMEOUT_MS)}), so ${hostKeyPath(type)}.pub was not made: check the key is complete, from its BEGIN line to its END line${res.spawnError ? " (install openssh-client)" : ""}`);
    return;
  }
  root.writeAtomic(`${hostKeyPath(type)}.pub`, `${key} root@localhost\n`, { mode: 0o644 });
  done.push(`${hostKeyPath(type)}.pub (made from the private key)`);
}

/** Names the given host certificate in sshd_config (HostCertificate), as cloud-init does. */
function hostCertificate(ctx: ModuleContext, path: string, done: string[]): void {
  const file = `${SSH_DIR}/sshd_config`;
  const root = ctx.host.root;
  const text = root.tryReadText(file) ?? "";
  const next = withSshdSetting(text, "HostCertificate", path);
  if (next === null) return;
  root.writeAtomic(file, next, { mode: root.stat(file)?.mode ?? 0o644 });
  done.push(`HostCertificate ${path}`);
}

/**
 * Sets one sshd_config keyword, keeping every other line: each line that sets it is
 * changed (as cloud-init does), else a line goes before the first Match block (a setting after it would
 * only apply inside it). Returns null when nothing changes.
 */
export function withSshdSetting(text: string, keyword: string, value: string): string | null {
  const setting = new RegExp(`^\\s*${keyword}\\s`, "i");
  const lines = text.split("\n").map((l) => (setting.test(l) ? `${keyword} ${value}` : l));
  if (!lines.some((l) => setting.test(l))) {
    const match = lines.findIndex((l) => /^\s*Match\s/i.test(l));
    if (match >= 0) lines.splice(match, 0, `${keyword} ${value}`);
    else {
      if (lines.length && lines[lines.length - 1] === "") lines.pop();
      lines.push(`${keyword} ${value}`, "");
    }
  }
  const next = lines.join("\n");
  return next === text ? null : next;
}

/** Sets PasswordAuthentication, keeping every other line; returns null when nothing changes. */
export function withPasswordAuth(text: string, value: "yes" | "no"): string | null {
  return withSshdSetting(text, "PasswordAuthentication", value);
}

/** Writes PasswordAuthentication into sshd_config; true when the file changed. */
function pwauth(cfg: CloudConfig, ctx: ModuleContext, done: string[]): boolean {
  const v = cfg.ssh_pwauth;
  if (v === undefined || v === null || v === "unchanged") return false;
  const value = v === true || v === "yes" ? "yes" : "no";
  const file = `${SSH_DIR}/sshd_config`;
  const text = ctx.host.root.tryReadText(file) ?? "";
  const next = withPasswordAuth(text, value);
  if (next === null) return false;
  ctx.host.root.writeAtomic(file, next, { mode: ctx.host.root.stat(file)?.mode ?? 0o644 });
  done.push(`PasswordAuthentication ${value}`);
  return true;
}

const SSHD_RELOAD_TIMEOUT_MS = 30_000;

/**
 * sshd reads its config when it starts, so a running one is told to reload, as
 * cloud-init restarts it. try-reload-or-restart leaves a stopped sshd alone: on a
 * first boot sprout usually runs before sshd starts, and it then reads the new file.
 * Debian names the unit ssh.service, most others sshd.service.
 */
export async function reloadSshd(ctx: ModuleContext, done: string[], errors: string[]): Promise<void> {
  const h = ctx.host;
  if (!systemdRunsTarget(h)) {
    done.push("sshd not reloaded (no running systemd here): it reads the file when it starts");
    return;
  }
  const unit = ["/lib/systemd/system/ssh.service", "/usr/lib/systemd/system/ssh.service", "/etc/systemd/system/ssh.service"].some((f) => h.root.exists(f)) ? "ssh.service" : "sshd.service";
  const argv = ["systemctl", "try-reload-or-restart", unit];
  const r = await h.run.run(argv, { timeoutMs: SSHD_RELOAD_TIMEOUT_MS });
  if (r.code === 0) done.push(`sshd told to reload (${argv.join(" ")})`);
  else errors.push(`\`${argv.join(" ")}\` failed (${describeFailure(r, SSHD_RELOAD_TIMEOUT_MS)}); /etc/ssh/sshd_config is written: reload sshd by hand (systemctl reload ${unit})`);
}

export const INITRAMFS_KEYS = "/etc/sprout/initramfs/authorized_keys";
const UPDATE_INITRAMFS_TIMEOUT_MS = 600_000;

/**
 * The keys that may log in to the initramfs's ssh server (dropbear, when the root
 * does not mount): the instance's keys, where sprout's initramfs pieces are
 * installed (/etc/sprout/rescue.conf) and dropbear is not left out (DROPBEAR=never).
 * When they change on the running system the initramfs is rebuilt in the
 * background: update-initramfs takes many seconds and the boot need not wait.
 */
function initramfsKeys(ctx: ModuleContext, keys: string[], done: string[]): void {
  const root = ctx.host.root;
  const conf = root.tryReadText("/etc/sprout/rescue.conf");
  if (conf === null || /^\s*DROPBEAR=["']?never\b/m.test(conf)) return;
  const text = `# written by sprout's ssh module from the public keys of instance ${ctx.instanceId}\n${keys.join("\n")}\n`;
  if (root.tryReadText(INITRAMFS_KEYS) === text) return;
  root.writeAtomic(INITRAMFS_KEYS, text, { mode: 0o600 });
  done.push(`${INITRAMFS_KEYS} (initramfs ssh)`);
  if (!root.isSystemRoot || !ctx.host.run.which("update-initramfs")) return;
  const log = ctx.host.log;
  void ctx.host.run.run(["update-initramfs", "-u"], { timeoutMs: UPDATE_INITRAMFS_TIMEOUT_MS }).then((r) => {
    if (r.code === 0) log.info("initramfs rebuilt with the instance's ssh keys");
    else log.error(`[module:ssh] update-initramfs -u failed (${describeFailure(r, UPDATE_INITRAMFS_TIMEOUT_MS)}); the initramfs ssh server has the old keys: run update-initramfs -u`);
  });
}

export const ssh: Module = {
  id: "ssh",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Host keys (delete the image's, generate or install new ones), the default user's authorized keys, root login and password authentication for sshd.", properties: SSH_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const done: string[] = [];
    const errors: string[] = [];
    await hostKeys(cfg, ctx, done, errors);
    const v1 = isPlainObject(ctx.instance.v1) ? ctx.instance.v1 : {};
    const instanceKeys = cfg.allow_public_ssh_keys === false ? [] : Array.isArray(v1.public_ssh_keys) ? v1.public_ssh_keys.map(String) : [];
    const keys = [...new Set([...instanceKeys, ...(Array.isArray(cfg.ssh_authorized_keys) ? cfg.ssh_authorized_keys.map(String) : [])])];
    // cloud-init ignores a key written as a plain string here (it extends its key list
    // with the string's characters); newer cloud-init's boot-time schema check reports it.
    // Not applied, as there, but said plainly.
    if (cfg.ssh_authorized_keys !== undefined && cfg.ssh_authorized_keys !== null && !Array.isArray(cfg.ssh_authorized_keys)) {
      errors.push(`ssh_authorized_keys must be a list of keys, not a ${typeof cfg.ssh_authorized_keys}; nothing from it was added: write each key as a list item ("- ssh-ed25519 AAAA... you@host")`);
    }
    // users: without "default" (`users: []` among them) asks for no default user: as in
    // cloud-init, the keys then go to root alone, whose message names the user "NONE".
    const user = usersFromConfig(cfg, ctx.host).users.some((u) => u.isDefault) ? defaultUserName(cfg, ctx.host) : null;
    const userExists = user !== null && readPasswd(ctx.host).some((p) => p.name === user);
    if (keys.length && !ctx.host.root.exists("/etc/passwd")) {
      // A target with no user database (a bare --root): nobody to give the keys to.
      done.push("no /etc/passwd in the target: authorized keys not written");
    } else if (keys.length) {
      if (user === null) done.push('no default user (users: without "default"): the keys go to root only');
      else if (!userExists && user !== "root") errors.push(`the default user ${user} does not exist, so its ssh keys were not written (did creating it fail? see the users_groups module's errors)`);
      else {
        try {
          done.push(addAuthorizedKeys(ctx.host, user, keys));
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (user !== "root") {
        const opts = cfg.disable_root === false ? undefined : (typeof cfg.disable_root_opts === "string" ? cfg.disable_root_opts : DISABLE_ROOT_OPTS).replace(/\$USER/g, user ?? "NONE").replace(/\$DISABLE_USER/g, "root");
        try {
          done.push(`${addAuthorizedKeys(ctx.host, "root", keys, opts)}${opts ? " (disable_root)" : ""}`);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    }
    if (keys.length) initramfsKeys(ctx, keys, done);
    if (pwauth(cfg, ctx, done)) await reloadSshd(ctx, done, errors);
    return { status: done.length ? "changed" : "unchanged", detail: done.join(", "), errors };
  },
};
