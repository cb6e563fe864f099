// users_groups: the default user and the `users` and `groups` of cloud-config,
// made with useradd / usermod / groupadd through the Runner (with --prefix when
// the target is not the running system, so a temp root or an image is changed,
// never the machine sprout runs on). A user that exists already is updated:
// missing groups added, shell, lock, sudo rules and keys applied.
import type { Host } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import { passwordText } from "../../agent/password-text";
import { sha512Crypt } from "../../agent/sha512-crypt";
import { describeFailure } from "../../agent/target-command";
import type { CloudConfig, JsonObject, Module, ModuleContext, ModuleResult } from "../../agent/types";

const SUDOERS_FILE = "/etc/sudoers.d/90-cloud-init-users";

/**
 * cloud-init's authorized_keys options for a user who may not log in with ssh keys
 * (root with disable_root, a user with ssh_redirect_user): the login prints which
 * user to log in as, and ends. $USER and $DISABLE_USER are filled in.
 */
export const DISABLE_USER_OPTS =
  'no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo \'Please login as the user \\"$USER\\" rather than the user \\"$DISABLE_USER\\".\';echo;sleep 10;exit 142"';
const TOOL_TIMEOUT_MS = 60_000;

const STR_OR_LIST = { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] };

const USER_PROPERTIES = {
  name: { type: "string", description: "The login name.", examples: ["alice"] },
  gecos: { type: "string", description: "The comment field (full name).", examples: ["Alice Example"] },
  groups: { ...STR_OR_LIST, description: "Supplementary groups: a list or a comma-separated string. Missing groups are created.", examples: [["sudo", "docker"], "adm, sudo"] },
  primary_group: { type: "string", description: "The primary group (default: a group named after the user).", examples: ["staff"] },
  sudo: {
    oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }, { type: "boolean", enum: [false] }, { type: "null" }],
    description: 'sudo rules for this user, written to /etc/sudoers.d/90-cloud-init-users; false or null for none. `true` is not a rule (cloud-init refuses it too): write the rule, e.g. "ALL=(ALL) NOPASSWD:ALL".',
    examples: ["ALL=(ALL) NOPASSWD:ALL", ["ALL=(ALL) /usr/bin/systemctl"]],
  },
  shell: { type: "string", description: "The login shell.", examples: ["/bin/bash"] },
  homedir: { type: "string", description: "The home directory (default /home/<name>).", examples: ["/srv/alice"] },
  no_create_home: { type: "boolean", description: "Do not create the home directory.", default: false, examples: [true] },
  no_user_group: { type: "boolean", description: "Do not make a group named after the user: its primary group is useradd's default (users on Debian).", default: false, examples: [true] },
  no_log_init: { type: "boolean", description: "Do not add the user to the lastlog and faillog databases (useradd --no-log-init).", default: false, examples: [true] },
  create_groups: { type: "boolean", description: "Create the groups in groups and primary_group that do not exist. With false, a missing group is an error and the user is not created.", default: true, examples: [false] },
  lock_passwd: { type: "boolean", description: "Lock the password, so the user logs in with ssh keys only.", default: true, examples: [false] },
  passwd: { type: "string", description: "A password hash (as in /etc/shadow) to set.", examples: ["$6$rounds=4096$salt$hash"] },
  hashed_passwd: { type: "string", description: "Same as passwd.", examples: ["$6$rounds=4096$salt$hash"] },
  ssh_authorized_keys: { type: "array", items: { type: "string" }, description: "Public keys written to the user's ~/.ssh/authorized_keys.", examples: [["ssh-ed25519 AAAAC3Nza... alice@laptop"]] },
  system: { type: "boolean", description: "Create a system user (no home, low uid).", default: false, examples: [true] },
  uid: { oneOf: [{ type: "integer" }, { type: "string" }], description: "The numeric user id.", examples: [1500] },
  expiredate: { type: "string", description: "Account expiry date (YYYY-MM-DD). Written unquoted, YAML reads it as a date, which is taken as that day (cloud-init 22.4 ignores it then).", examples: ["2030-01-01"] },
  inactive: { oneOf: [{ type: "string" }, { type: "integer" }], description: "Days after password expiry until the account is disabled.", examples: ["5"] },
  ssh_import_id: { ...STR_OR_LIST, description: "Import keys from GitHub/Launchpad: not done by sprout (it needs the internet); reported and skipped.", examples: [["gh:octocat"]] },
  ssh_redirect_user: {
    type: "boolean",
    description: "The instance's public keys (from meta-data) may log in as this user only to be told to log in as the default user instead (as root with disable_root). Needs the default user in users:; not with ssh_authorized_keys.",
    default: false,
    examples: [true],
  },
  selinux_user: { type: "string", description: "Accepted for compatibility; not used on Debian.", examples: ["staff_u"] },
  doas: { type: "array", items: { type: "string" }, description: "Accepted for compatibility; doas rules are not written.", examples: [["permit nopass alice"]] },
  plain_text_passwd: { type: "string", description: "A password in clear text, stored as a SHA-512 crypt hash (for a new or an existing user). Quote it: a whole number is set as its digits (as cloud-init does), other values that are not text are refused. Anyone who reads the user-data reads it: prefer hashed_passwd.", examples: ["not-recommended"] },
};

export const USERS_SCHEMA = {
  users: {
    type: "array",
    description: 'Users to create. "default" is the default user of the image; a string is a user name (or several, comma-separated); a mapping gives the user\'s settings. Without this key only the default user is created; an empty list creates none.',
    items: { oneOf: [{ type: "string" }, { type: "object", properties: USER_PROPERTIES, additionalProperties: true }] },
    examples: [["default", { name: "alice", groups: ["sudo"], shell: "/bin/bash", ssh_authorized_keys: ["ssh-ed25519 AAAA... alice"] }]],
  },
  user: {
    oneOf: [{ type: "string" }, { type: "object", properties: USER_PROPERTIES, additionalProperties: true }],
    description: "Settings for the default user (a name, or a mapping), over system_info.default_user.",
    examples: [{ name: "admin", sudo: null }],
  },
  groups: {
    oneOf: [{ type: "array", items: { oneOf: [{ type: "string" }, { type: "object", additionalProperties: STR_OR_LIST }] } }, { type: "object", additionalProperties: STR_OR_LIST }, { type: "string" }],
    description: "Groups to create, as names, or mappings of a group name to its members.",
    examples: [["admingroup", { devs: ["alice", "bob"] }]],
  },
  ssh_import_id: { ...STR_OR_LIST, description: "Keys to import for the default user from GitHub/Launchpad: not done by sprout (it needs the internet); reported and skipped.", examples: [["gh:octocat"]] },
} as const;

export interface UserSpec {
  name: string;
  groups: string[];
  /** Groups from built-in defaults: only the ones that exist are used. */
  optionalGroups: string[];
  sudo: string[];
  shell?: string;
  gecos?: string;
  primaryGroup?: string;
  homedir?: string;
  noCreateHome: boolean;
  noUserGroup: boolean;
  noLogInit: boolean;
  createGroups: boolean;
  lockPasswd: boolean;
  passwd?: string;
  /** plain_text_passwd: hashed only when the user is made, never logged. */
  plainPasswd?: string;
  /** Why plain_text_passwd was not set (an error), or a hint to quote it; never the password. */
  passwordProblem?: { error: string } | { hint: string };
  keys: string[];
  system: boolean;
  uid?: string;
  expiredate?: string;
  inactive?: string;
  isDefault: boolean;
  /** ssh_redirect_user: the instance's keys log in only to be sent to the default user. */
  redirectLogins: boolean;
  ignored: string[];
  /** Why an entry's value is refused (sudo: true); the user is still made without it. */
  problems: string[];
}

function list(v: unknown): string[] {
  if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map((x) => String(x).trim()).filter(Boolean);
  return [];
}

function osId(h: Host): string | null {
  const text = h.root.tryReadText("/etc/os-release") ?? h.root.tryReadText("/usr/lib/os-release");
  const m = text ? /^ID="?([^"\n]*)"?$/m.exec(text) : null;
  return m ? m[1]!.trim() : null;
}

/** The default user: system_info.default_user, else named after ID in /etc/os-release (debian, ubuntu), else cloud-user. */
export function defaultUserConfig(cfg: CloudConfig, h: Host): JsonObject {
  const sys = isPlainObject(cfg.system_info) && isPlainObject(cfg.system_info.default_user) ? cfg.system_info.default_user : null;
  const id = osId(h);
  const name = id === "debian" || id === "ubuntu" ? id : "cloud-user";
  const base: JsonObject = sys
    ? { ...sys }
    : { name, gecos: name === "cloud-user" ? "Cloud User" : `${name[0]!.toUpperCase()}${name.slice(1)}`, groups: [], _optional_groups: ["adm", "audio", "cdrom", "dialout", "dip", "floppy", "netdev", "plugdev", "sudo", "video"], sudo: ["ALL=(ALL) NOPASSWD:ALL"], shell: "/bin/bash", lock_passwd: true };
  const over = cfg.user;
  if (typeof over === "string" && over) base.name = over;
  else if (isPlainObject(over)) Object.assign(base, normalizeKeys(over));
  return base;
}

/** The default user's name, as the ssh module and others need it. */
export function defaultUserName(cfg: CloudConfig, h: Host): string {
  const n = defaultUserConfig(cfg, h).name;
  return typeof n === "string" && n ? n : "cloud-user";
}

function normalizeKeys(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/-/g, "_"), v]));
}

const KNOWN = new Set([...Object.keys(USER_PROPERTIES), "_optional_groups"]);
const UNSUPPORTED = new Set(["ssh_import_id", "selinux_user", "doas"]);

/**
 * plain_text_passwd as the text to hash. cloud-init sets passwd at useradd, then
 * plain_text_passwd, then hashed_passwd: the last one given wins. An empty value sets
 * nothing (an empty hash would open the account without a password).
 */
function plainPassword(o: JsonObject, name: string): Pick<UserSpec, "plainPasswd" | "passwordProblem"> {
  const v = o.plain_text_passwd;
  const hashed = o.hashed_passwd;
  if ((typeof hashed === "string" && hashed !== "") || v === undefined || v === null || v === "") return {};
  const read = passwordText(v, `user ${name}`, "plain_text_passwd");
  if ("refused" in read) return { passwordProblem: { error: `${read.refused}; the password was not set` } };
  return { plainPasswd: read.text, ...(read.quoteHint ? { passwordProblem: { hint: read.quoteHint } } : {}) };
}

/** A date YAML read from an unquoted YYYY-MM-DD, back as that day (useradd --expiredate's form). */
function day(v: unknown): string | undefined {
  return v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : undefined;
}

function toSpec(raw: JsonObject, isDefault: boolean): UserSpec {
  const o = normalizeKeys(raw);
  const sudoRaw = o.sudo;
  const problems: string[] = [];
  // `sudo: true` names no rule. cloud-init 22.4.2 stops with a TypeError; guessing
  // passwordless root from it would give more than anybody wrote.
  if (sudoRaw === true) problems.push(`user ${String(o.name)}: sudo: true is not a sudo rule, so none was written; write the rule, e.g. sudo: "ALL=(ALL) NOPASSWD:ALL"`);
  const sudo = typeof sudoRaw === "string" || Array.isArray(sudoRaw) ? list(Array.isArray(sudoRaw) ? sudoRaw : [sudoRaw]) : [];
  const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : undefined);
  return {
    name: String(o.name),
    groups: list(o.groups),
    optionalGroups: list(o._optional_groups),
    sudo,
    shell: str(o.shell),
    gecos: str(o.gecos),
    primaryGroup: str(o.primary_group),
    homedir: str(o.homedir),
    noCreateHome: o.no_create_home === true,
    noUserGroup: o.no_user_group === true,
    noLogInit: o.no_log_init === true,
    createGroups: o.create_groups !== false,
    lockPasswd: o.lock_passwd !== false,
    passwd: str(o.hashed_passwd) ?? str(o.passwd),
    ...plainPassword(o, String(o.name)),
    keys: list(o.ssh_authorized_keys),
    system: o.system === true,
    uid: str(o.uid),
    expiredate: str(o.expiredate) ?? day(o.expiredate),
    inactive: str(o.inactive),
    isDefault,
    redirectLogins: o.ssh_redirect_user === true || o.ssh_redirect_user === "default",
    ignored: Object.keys(o).filter((k) => UNSUPPORTED.has(k) || (!KNOWN.has(k) && k !== "lock_passwd")),
    problems,
  };
}

/** cloud-init's util.is_true: true, or "true", "1", "on", "yes" in any case. */
function isTrue(v: unknown): boolean {
  return v === true || (typeof v !== "boolean" && ["true", "1", "on", "yes"].includes(String(v).toLowerCase().trim()));
}

const uniqueNames = (text: string) => [...new Set(list(text))];

/**
 * The users cloud-config asks for, in the order cloud-init 22.4.2 makes them (so the
 * same seed gives every user the same uid under either agent, which matters where
 * machines share files), with problems for entries that cannot be read:
 * - `users` may be a list, a comma-separated string (made in sorted order) or a mapping
 *   of names to settings or to true/false;
 * - an entry named twice is one user, its first settings winning;
 * - the default user is made last, whatever its place in the list, with the settings of
 *   an entry under its real name merged in (its groups added);
 * - `user:` adds the default user to a `users` list that lacks it.
 */
export function usersFromConfig(cfg: CloudConfig, h: Host): { users: UserSpec[]; errors: string[] } {
  const errors: string[] = [];
  const raw = cfg.users === undefined || cfg.users === null ? ["default"] : cfg.users;
  let entries: unknown[];
  if (Array.isArray(raw)) entries = [...raw];
  else if (typeof raw === "string") entries = uniqueNames(raw).sort();
  else if (isPlainObject(raw)) entries = Object.entries(raw).flatMap(([name, v]): unknown[] => (isPlainObject(v) ? [{ ...v, name }] : isTrue(v) ? [name] : []));
  else return { users: [], errors: [`users must be a list, not a ${typeof raw}`] };
  const oldStyleUser = (typeof cfg.user === "string" && cfg.user !== "") || (isPlainObject(cfg.user) && Object.keys(cfg.user).length > 0);
  if (oldStyleUser) entries.push("default");
  const byName = new Map<string, JsonObject>();
  entries.forEach((e, i) => {
    if (typeof e === "string") {
      for (const name of uniqueNames(e)) if (!byName.has(name)) byName.set(name, { name });
    } else if (isPlainObject(e) && typeof e.name === "string" && e.name) {
      byName.set(e.name, { ...e, ...(byName.get(e.name) ?? {}) });
    } else errors.push(`users[${i}] has no name; write a user name or a mapping with name:`);
  });
  const users: UserSpec[] = [];
  let defaultUser: UserSpec | null = null;
  if (byName.has("default")) {
    byName.delete("default");
    const config = defaultUserConfig(cfg, h);
    const underRealName = byName.get(String(config.name));
    byName.delete(String(config.name));
    if (underRealName) {
      const groups = [...new Set([...list(underRealName.groups), ...list(config.groups)])].sort();
      Object.assign(config, { ...normalizeKeys(underRealName), ...config, groups });
    }
    defaultUser = toSpec(config, true);
  }
  for (const e of byName.values()) users.push(toSpec(e, false));
  if (defaultUser) users.push(defaultUser);
  for (const u of users) if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(u.name) || u.name.length > 32) errors.push(`user name ${JSON.stringify(u.name)} is not a valid login name`);
  for (const u of users) if (u.passwordProblem && "error" in u.passwordProblem) errors.push(u.passwordProblem.error);
  for (const u of users) errors.push(...u.problems);
  return { users: users.filter((u) => /^[a-z_][a-z0-9_.-]*\$?$/i.test(u.name) && u.name.length <= 32), errors };
}

export function groupsFromConfig(cfg: CloudConfig): Array<{ name: string; members: string[] }> {
  const raw = cfg.groups;
  const out: Array<{ name: string; members: string[] }> = [];
  const add = (v: unknown) => {
    if (typeof v === "string") for (const name of list(v)) out.push({ name, members: [] });
    else if (isPlainObject(v)) for (const [name, members] of Object.entries(v)) out.push({ name, members: list(members) });
  };
  if (Array.isArray(raw)) raw.forEach(add);
  else add(raw);
  return out;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function readPasswd(h: Host): PasswdEntry[] {
  return (h.root.tryReadText("/etc/passwd") ?? "")
    .split("\n")
    .map((l) => l.split(":"))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! }));
}

function readGroups(h: Host): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const l of (h.root.tryReadText("/etc/group") ?? "").split("\n")) {
    const f = l.split(":");
    if (f.length >= 4) m.set(f[0]!, f[3]!.split(",").filter(Boolean));
  }
  return m;
}

/** Runs a shadow-utils tool on the target: --prefix DIR when it is not the running system. */
async function tool(ctx: ModuleContext, argv: string[]): Promise<string | null> {
  const root = ctx.host.root;
  const full = root.isSystemRoot ? argv : [argv[0]!, "--prefix", root.dir, ...argv.slice(1)];
  const res = await ctx.host.run.run(full, { timeoutMs: TOOL_TIMEOUT_MS });
  if (res.code === 0) return null;
  return `${argv.slice(0, 2).join(" ")} failed: ${describeFailure(res, TOOL_TIMEOUT_MS)}`;
}

/** Adds keys to a user's ~/.ssh/authorized_keys (0600, owned by the user), keeping the lines already there. */
export function addAuthorizedKeys(h: Host, user: string, keys: string[], options?: string): string {
  const pw = readPasswd(h).find((p) => p.name === user);
  if (!pw) throw new Error(`cannot write ssh keys for ${user}: no such user in /etc/passwd`);
  const dir = `${pw.home}/.ssh`;
  const file = `${dir}/authorized_keys`;
  const existing = (h.root.tryReadText(file) ?? "").split("\n").filter((l) => l.trim());
  const lines = [...existing];
  for (const k of keys) {
    const line = options ? `${options} ${k}` : k;
    if (!lines.includes(line)) lines.push(line);
  }
  h.root.mkdirp(dir, 0o700);
  h.root.chmod(dir, 0o700);
  const owned = process.getuid?.() === 0;
  if (owned) h.root.chown(dir, pw.uid, pw.gid);
  h.root.writeAtomic(file, lines.join("\n") + "\n", { mode: 0o600, ...(owned ? { uid: pw.uid, gid: pw.gid } : {}) });
  return file;
}

async function ensureGroup(ctx: ModuleContext, name: string, done: string[], errors: string[]): Promise<void> {
  if (readGroups(ctx.host).has(name)) return;
  const err = await tool(ctx, ["groupadd", name]);
  if (err) errors.push(err);
  else done.push(`group ${name}`);
}

async function ensureUser(ctx: ModuleContext, u: UserSpec, done: string[], errors: string[]): Promise<void> {
  const groups = readGroups(ctx.host);
  const wanted = [...u.groups, ...u.optionalGroups.filter((g) => groups.has(g))];
  const existing = readPasswd(ctx.host).find((p) => p.name === u.name);
  if (u.createGroups) {
    for (const g of u.groups) await ensureGroup(ctx, g, done, errors);
    if (u.primaryGroup) await ensureGroup(ctx, u.primaryGroup, done, errors);
  } else if (!existing) {
    const missing = [...u.groups, ...(u.primaryGroup ? [u.primaryGroup] : [])].filter((g) => !groups.has(g));
    if (missing.length) {
      errors.push(`user ${u.name} was not created: group ${missing.join(", ")} does not exist and create_groups is false; create it under groups: or drop create_groups`);
      return;
    }
  }
  const passwd = u.plainPasswd ? sha512Crypt(u.plainPasswd) : u.passwd;
  if (!existing) {
    const argv = ["useradd", u.name];
    if (u.gecos) argv.push("--comment", u.gecos);
    if (u.homedir) argv.push("--home-dir", u.homedir);
    if (u.shell) argv.push("--shell", u.shell);
    if (u.primaryGroup) argv.push("--gid", u.primaryGroup);
    else if (u.noUserGroup) argv.push("--no-user-group");
    else if (readGroups(ctx.host).has(u.name)) argv.push("--gid", u.name);
    else argv.push("--user-group");
    if (wanted.length) argv.push("--groups", wanted.join(","));
    if (u.uid) argv.push("--uid", u.uid);
    if (passwd) argv.push("--password", passwd);
    if (u.expiredate) argv.push("--expiredate", u.expiredate);
    if (u.inactive) argv.push("--inactive", u.inactive);
    if (u.system) argv.push("--system");
    if (u.noLogInit) argv.push("--no-log-init");
    if (!u.noCreateHome && !u.system) argv.push("--create-home");
    else argv.push("--no-create-home");
    const err = await tool(ctx, argv);
    if (err) {
      errors.push(err);
      return;
    }
    done.push(`user ${u.name}`);
  } else {
    // Exists already (an image made with it, or a second instance): bring it in line.
    const current = new Set([...readGroups(ctx.host)].filter(([, m]) => m.includes(u.name)).map(([g]) => g));
    const missing = wanted.filter((g) => !current.has(g));
    const argv = ["usermod"];
    if (missing.length) argv.push("--append", "--groups", missing.join(","));
    if (u.shell && u.shell !== existing.shell) argv.push("--shell", u.shell);
    if (passwd) argv.push("--password", passwd);
    if (argv.length > 1) {
      const err = await tool(ctx, [...argv, u.name]);
      if (err) errors.push(err);
      else done.push(`user ${u.name} (existed; updated)`);
    } else done.push(`user ${u.name} (existed)`);
  }
  // usermod --lock puts a "!" before the hash, and leaves a field that has one already
  // as it is (a new user's "!" included): then there is nothing for a process to do.
  if (u.lockPasswd && !passwordLocked(ctx.host, u.name)) {
    const err = await tool(ctx, ["usermod", "--lock", u.name]);
    if (err) errors.push(err);
  }
  if (u.keys.length) {
    try {
      addAuthorizedKeys(ctx.host, u.name, u.keys);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
}

/** Whether the user's /etc/shadow password field starts with "!" (false when unknown). */
function passwordLocked(h: Host, user: string): boolean {
  const line = h.root.tryReadText("/etc/shadow")?.split("\n").find((l) => l.startsWith(`${user}:`));
  return line?.split(":")[1]?.startsWith("!") ?? false;
}

/**
 * Sets the last password change to day 0 in /etc/shadow, which makes login ask
 * for a new password (what `passwd --expire` does). Written directly because
 * chage and passwd take --root (a chroot) but not --prefix, and a target root
 * need not hold those programs.
 */
export function expirePassword(h: Host, user: string): void {
  const text = h.root.tryReadText("/etc/shadow");
  if (text === null) throw new Error(`cannot expire the password of ${user}: no /etc/shadow`);
  let found = false;
  const next = text
    .split("\n")
    .map((line) => {
      const f = line.split(":");
      if (f[0] !== user || f.length < 3) return line;
      found = true;
      f[2] = "0";
      return f.join(":");
    })
    .join("\n");
  if (!found) throw new Error(`cannot expire the password of ${user}: not in /etc/shadow`);
  const st = h.root.stat("/etc/shadow");
  h.root.writeAtomic("/etc/shadow", next, { mode: st?.mode ?? 0o640, ...(st && process.getuid?.() === 0 ? { uid: st.uid, gid: st.gid } : {}) });
}

/**
 * ssh_redirect_user, as cloud-init does it: the instance's public keys (meta-data,
 * not ssh_authorized_keys) go to the user's authorized_keys with the options that
 * tell the person to log in as the default user. It needs the default user in users:
 * and keys from the cloud; with ssh_authorized_keys it would be a contradiction.
 */
function redirectLogins(ctx: ModuleContext, users: UserSpec[], done: string[], errors: string[]): void {
  const target = users.find((u) => u.isDefault)?.name;
  const v1 = isPlainObject(ctx.instance.v1) ? ctx.instance.v1 : {};
  const cloudKeys = Array.isArray(v1.public_ssh_keys) ? [...new Set(v1.public_ssh_keys.map(String))] : [];
  for (const u of users) {
    if (!u.redirectLogins || u.isDefault) continue;
    if (u.keys.length) {
      errors.push(`user ${u.name}: ssh_redirect_user cannot be given with ssh_authorized_keys; remove one of them`);
      continue;
    }
    if (!target) {
      done.push(`ssh_redirect_user of ${u.name} ignored: no default user in users: (add "default")`);
      continue;
    }
    if (cloudKeys.length === 0) {
      done.push(`ssh_redirect_user of ${u.name}: the instance has no public keys to redirect`);
      continue;
    }
    try {
      addAuthorizedKeys(ctx.host, u.name, cloudKeys, DISABLE_USER_OPTS.replace(/\$USER/g, target).replace(/\$DISABLE_USER/g, u.name));
      done.push(`ssh logins of ${u.name} redirected to ${target}`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
}

export function sudoersText(users: UserSpec[]): string {
  const out = ["# Written by sprout (users_groups) from the instance's cloud-config", ""];
  for (const u of users) {
    if (!u.sudo.length) continue;
    out.push(`# User rules for ${u.name}`, ...u.sudo.map((r) => `${u.name} ${r}`), "");
  }
  return out.join("\n");
}

export const usersGroups: Module = {
  id: "users_groups",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Create the default user, the users and the groups of cloud-config, with sudo rules and ssh keys.", properties: USERS_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const { users, errors } = usersFromConfig(cfg, ctx.host);
    const groups = groupsFromConfig(cfg);
    if (users.length === 0 && groups.length === 0) return { status: "skipped", detail: "no users or groups", errors };
    // A target without a user database (a bare --root, a seed-only tree) is not a
    // system to add users to; useradd would only spin on its lock file.
    if (!ctx.host.root.exists("/etc/passwd")) return { status: "skipped", detail: "the target has no /etc/passwd; no users or groups created", errors };
    const done: string[] = [];
    for (const g of groups) await ensureGroup(ctx, g.name, done, errors);
    for (const u of users) await ensureUser(ctx, u, done, errors);
    redirectLogins(ctx, users, done, errors);
    const members = readGroups(ctx.host);
    const known = new Set(readPasswd(ctx.host).map((p) => p.name));
    for (const g of groups) {
      for (const m of g.members) {
        if (members.get(g.name)?.includes(m)) continue;
        if (!known.has(m)) {
          errors.push(`group ${g.name}: member ${m} does not exist; create the user first (users:)`);
          continue;
        }
        const err = await tool(ctx, ["usermod", "--append", "--groups", g.name, m]);
        if (err) errors.push(err);
      }
    }
    if (users.some((u) => u.sudo.length)) {
      ctx.host.root.writeAtomic(SUDOERS_FILE, sudoersText(users), { mode: 0o440 });
      done.push(SUDOERS_FILE);
    }
    const ignored = [...new Set(users.flatMap((u) => u.ignored))];
    const hints = users.flatMap((u) => (u.passwordProblem && "hint" in u.passwordProblem ? [u.passwordProblem.hint] : []));
    const note = [ignored.length ? `not supported, ignored: ${ignored.join(", ")}` : "", ...hints].filter(Boolean).map((n) => `; ${n}`).join("");
    return { status: done.length ? "changed" : "unchanged", detail: `${done.join(", ")}${note}`, errors };
  },
};
