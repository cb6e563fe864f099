// What set_passwords is asked to do, read from cloud-config without touching the
// machine: which user gets which password (plain text, a hash, or one to generate),
// whether they expire, and a problem for each entry that cannot be used. Pure.
// Error messages name users and positions, never a password.
import { isTrue } from "../../agent/cloud-bool";
import { isPlainObject } from "../../agent/merge";
import { passwordText } from "../../agent/password-text";
import type { CloudConfig, JsonObject } from "../../agent/types";

export type PasswordKind = "text" | "hash" | "random";

export interface PasswordChange {
  user: string;
  kind: PasswordKind;
  /** The plain text or hash; absent for "random" (generated when applied). */
  value?: string;
}

export interface PasswordPlan {
  changes: PasswordChange[];
  /** chpasswd.expire (cloud-init's default: true): every changed user must pick a new password at the next login. */
  expire: boolean;
  /** Entries that cannot be used: reported, the others still applied. */
  errors: string[];
  /** Worth saying, not a failure (as cloud-init only logs them). */
  warnings: string[];
  /** Deprecated spellings the input uses. */
  deprecations: string[];
}

/**
 * cloud-init's test for a hash in the `list` form (`\$(1|2a|2y|5|6)(\$.+){2}`, no ":"),
 * widened by the schemes Debian's own tools make today: yescrypt ($y$, mkpasswd's and
 * PAM's default on bookworm), gost-yescrypt ($gy$), scrypt ($7$) and bcrypt's $2b$.
 * cloud-init 22.4.2 would set such a hash as a plain-text password (docs/compat.md).
 */
const LIST_HASH = /^\$(1|2a|2b|2y|5|6|7|y|gy)(\$.+){2}$/;

export function looksHashed(value: string): boolean {
  return LIST_HASH.test(value) && !value.includes(":");
}

/** A value /etc/shadow can hold as a password: a crypt hash (any $id$, or DES), or a locked one ("!", "*", "!<hash>"). */
function isCryptField(value: string): boolean {
  const rest = value.replace(/^[!*]+/, "");
  if (rest === "") return value !== "";
  return !rest.includes(":") && (/^\$[0-9a-z]+\$/.test(rest) || /^[./0-9A-Za-z]{13}$/.test(rest));
}


/** chpasswd reads "user:password" lines: a line break in a password would start another user's line. */
const BREAKS = /[\r\n\0]/;
/** A login name as chpasswd and /etc/passwd take it. */
const LOGIN = /^[a-z_][a-z0-9_.-]*\$?$/i;

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "a mapping" : `a ${typeof v}`);

/** chpasswd.users: [{name, password, type: hash (default) | text | RANDOM}]. */
function fromUsers(raw: unknown, plan: PasswordPlan): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) {
    plan.errors.push(`chpasswd.users must be a list of {name, password, type}, not ${describe(raw)}; nothing from it was set`);
    return;
  }
  raw.forEach((item, i) => {
    const at = `chpasswd.users[${i}]`;
    if (!isPlainObject(item)) {
      plan.errors.push(`${at} is ${describe(item)}, not a mapping; write it as {name: USER, password: PASSWORD, type: text}`);
      return;
    }
    const name = item.name;
    if (typeof name !== "string" || name.trim() === "") {
      plan.errors.push(`${at} has no name; add name: USER`);
      return;
    }
    if (!LOGIN.test(name)) {
      plan.errors.push(`${at}: ${JSON.stringify(name)} is not a login name; nothing was set for it`);
      return;
    }
    const type = item.type === undefined || item.type === null ? "hash" : item.type;
    if (type === "RANDOM") {
      plan.changes.push({ user: name, kind: "random" });
      return;
    }
    if (type !== "hash" && type !== "text") {
      plan.errors.push(`${at} (${name}): type ${JSON.stringify(type)} is not one of text, hash or RANDOM (in capitals); the password of ${name} was not set`);
      return;
    }
    const given = item.password;
    if (given === undefined || given === null) {
      plan.errors.push(`${at} (${name}) has no password; add password:, or type: RANDOM to have one generated`);
      return;
    }
    const read = passwordText(given, `${at} (${name})`, "password");
    if ("refused" in read) {
      plan.errors.push(read.refused);
      return;
    }
    if (read.quoteHint) plan.warnings.push(read.quoteHint);
    const pw = read.text;
    if (pw === "") {
      plan.errors.push(`${at} (${name}): the password is empty; give one, or type: RANDOM`);
      return;
    }
    if (BREAKS.test(pw)) {
      plan.errors.push(`${at} (${name}): the password has a line break in it, which chpasswd would read as another user's line; the password of ${name} was not set`);
      return;
    }
    if (type === "hash" && !isCryptField(pw)) {
      // cloud-init writes it into /etc/shadow as it is, where it matches no password.
      plan.errors.push(`${at} (${name}): the password is not a crypt hash, and type defaults to hash; add type: text to set it as a plain-text password (or give a hash from mkpasswd)`);
      return;
    }
    plan.changes.push({ user: name, kind: type, value: pw });
  });
}

/** One "user:password" line of the deprecated list form. */
function fromLine(line: string, at: string, plan: PasswordPlan): void {
  const colon = line.indexOf(":");
  if (colon <= 0) {
    plan.errors.push(`${at} is not "user:password" (${colon === 0 ? "no user name before the colon" : "no colon"}); that line was skipped`);
    return;
  }
  const user = line.slice(0, colon).trim();
  const pw = line.slice(colon + 1);
  if (!LOGIN.test(user)) {
    plan.errors.push(`${at}: the text before the first colon is not a login name; write "user:password" (that line was skipped)`);
    return;
  }
  if (pw === "") {
    plan.errors.push(`${at} (${user}): no password after the colon; write ${user}:PASSWORD, or ${user}:RANDOM to have one generated`);
    return;
  }
  if (BREAKS.test(pw)) {
    plan.errors.push(`${at} (${user}): the password has a line break in it, which chpasswd would read as another user's line; the password of ${user} was not set`);
    return;
  }
  if (pw === "R" || pw === "RANDOM") plan.changes.push({ user, kind: "random" });
  else plan.changes.push({ user, kind: looksHashed(pw) ? "hash" : "text", value: pw });
}

/** chpasswd.list (deprecated): a list of "user:password", or the same as lines of one string. */
function fromList(raw: unknown, plan: PasswordPlan): void {
  if (raw === undefined || raw === null || raw === "" || (Array.isArray(raw) && raw.length === 0)) return;
  plan.deprecations.push("chpasswd.list is deprecated; write chpasswd.users: [{name, password, type}]");
  if (typeof raw === "string") {
    plan.deprecations.push("chpasswd.list as one multi-line string is deprecated; write a list (or chpasswd.users)");
    raw.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() !== "") fromLine(line.replace(/\r$/, ""), `chpasswd.list line ${i + 1}`, plan);
    });
    return;
  }
  if (!Array.isArray(raw)) {
    plan.errors.push(`chpasswd.list must be a list of "user:password" strings, not ${describe(raw)}; nothing from it was set`);
    return;
  }
  raw.forEach((item, i) => {
    const at = `chpasswd.list[${i}]`;
    if (typeof item === "string") fromLine(item, at, plan);
    else if (isPlainObject(item) && Object.keys(item).length === 1) {
      // "- alice: secret" (a space after the colon) is a mapping in YAML.
      const [user] = Object.keys(item);
      plan.errors.push(`${at} (${user}) is a mapping, not "user:password": YAML reads "${user}: ..." with a space after the colon as a key and a value; write ${user}:PASSWORD without the space, or quote the line`);
    } else plan.errors.push(`${at} is ${describe(item)}, not a "user:password" string; that entry was skipped`);
  });
}

/**
 * A password for the default user that the datasource gives (the OVF environment's
 * `password` property, hashed as it was read, or RANDOM). cloud-init takes it as a
 * `password:` of the datasource's config, below the cloud-config's own.
 */
export type DatasourcePassword = { kind: "hash"; value: string } | { kind: "random" };

/** The OVF datasource's password for the default user, from the instance data: the hash it made as it read the environment, or RANDOM. */
export function datasourcePassword(instance: JsonObject): DatasourcePassword | null {
  const ds = instance.ds;
  const du = isPlainObject(ds) && isPlainObject(ds.default_user) ? ds.default_user : null;
  if (!du) return null;
  if (typeof du.hashed_passwd === "string") return { kind: "hash", value: du.hashed_passwd };
  return du.random_passwd === true ? { kind: "random" } : null;
}

/**
 * The passwords cloud-config asks for. `defaultUser` is the default user's name, or
 * null when users: leaves it out; `password:` (else the datasource's password) applies
 * to it only when chpasswd gives no users and no list (as in cloud-init).
 */
export function planPasswords(cfg: CloudConfig, defaultUser: string | null, fromDatasource: DatasourcePassword | null = null): PasswordPlan {
  const plan: PasswordPlan = { changes: [], expire: true, errors: [], warnings: [], deprecations: [] };
  const ch = cfg.chpasswd;
  if (ch !== undefined && ch !== null && !isPlainObject(ch)) {
    plan.errors.push(`chpasswd must be a mapping (expire, users), not ${describe(ch)}; nothing from it was set`);
  } else if (isPlainObject(ch)) {
    fromUsers(ch.users, plan);
    fromList(ch.list, plan);
    if ("expire" in ch) plan.expire = isTrue(ch.expire);
  }
  const gaveUsers = isPlainObject(ch) && ((Array.isArray(ch.users) && ch.users.length > 0) || (ch.list !== undefined && ch.list !== null && ch.list !== "" && !(Array.isArray(ch.list) && ch.list.length === 0)));
  const pw = cfg.password;
  if ((pw === undefined || pw === null) && fromDatasource) {
    if (gaveUsers) plan.warnings.push("the datasource's password (OVF) is ignored because chpasswd gives users (or list); give the default user's password there");
    else if (defaultUser === null) plan.warnings.push("the datasource's password (OVF) is for the default user, and users: leaves it out; nobody's password was set");
    else plan.changes.push({ user: defaultUser, ...fromDatasource });
    return plan;
  }
  if (pw === undefined || pw === null || pw === "") return plan;
  if (gaveUsers) {
    plan.warnings.push("password: is ignored because chpasswd gives users (or list); give the default user's password there");
  } else {
    const read = passwordText(pw, "password (the default user's)", "password");
    if ("refused" in read) plan.errors.push(read.refused);
    else if (BREAKS.test(read.text)) {
      plan.errors.push("password has a line break in it, which chpasswd would read as another user's line; the default user's password was not set");
    } else if (defaultUser === null) {
      plan.warnings.push('password: is for the default user, and users: leaves it out; nobody\'s password was set (add "default" to users:, or use chpasswd.users)');
    } else {
      if (read.quoteHint) plan.warnings.push(read.quoteHint);
      // cloud-init makes password: a "user:password" line of chpasswd's list, where R and RANDOM ask for a generated one.
      if (read.text === "R" || read.text === "RANDOM") plan.changes.push({ user: defaultUser, kind: "random" });
      else plan.changes.push({ user: defaultUser, kind: looksHashed(read.text) ? "hash" : "text", value: read.text });
    }
  }
  return plan;
}
