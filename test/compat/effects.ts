// What a boot did, as a person would check it, from the raw listing that
// collect.mjs makes inside the machine: a flat map from an effect's name
// ("user.debian.shell", "file:/etc/app.conf") to a normalised value, so two
// agents' boots of the same seed compare key by key. Pure: no I/O here.
// Normalised away: timestamps, the agents' own state and log folders, the
// comments and file names agents put in sudoers.d, key file contents that
// are random (host keys) and the backup copies the shadow tools leave.

/** One entry of the upper layer, as collect.mjs describes it. */
export interface RawEntry {
  path: string;
  kind: "file" | "dir" | "link" | "deleted" | "other";
  mode?: number;
  uid?: number;
  gid?: number;
  existedBefore: boolean;
  unchanged?: boolean;
  size?: number;
  b64?: string;
  sha256?: string;
  target?: string;
}

export interface RawSnapshot {
  changed: RawEntry[];
  /** /etc/passwd, /etc/group, /etc/shadow before the boot (lowers) and after it. */
  before: Record<string, string | null>;
  after: Record<string, string | null>;
  /** The day (since 1970-01-01) collect.mjs ran: what "today" is in /etc/shadow's last-change field. */
  today?: number;
}

/** What one agent's boot reports about itself, beside the files. */
export interface BootOutcome {
  agent: "cloud-init" | "sprout";
  statusCode: number | null;
  statusOutput: string;
  visudoCode: number | null;
  kernelHostname: string;
}

export type Effects = Record<string, string>;

/** Paths that are an agent's own business (state, logs, caches, its config) or the harness's. */
const OWN_PATHS = [
  /^\/var\/lib\/cloud(\/|$)/,
  /^\/var\/lib\/sprout(\/|$)/,
  /^\/var\/log(\/|$)/,
  /^\/var\/cache(\/|$)/,
  /^\/etc\/cloud(\/|$)/,
  /^\/etc\/sprout(\/|$)/,
  /^\/usr\/lib\/sprout(\/|$)/,
  /^\/usr\/bin\/sprout$/,
  /^\/run(\/|$)/,
  // The harness's stand-in /sys (plain files: the chroot has no sysfs).
  /^\/sys(\/|$)/,
  // The shadow tools' lock and backup files.
  /^\/etc\/\.pwd\.lock$/,
  /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$/,
];

/** Paths compared by a structured rule below, not byte for byte. */
const STRUCTURED = [/^\/etc\/hostname$/, /^\/etc\/hosts$/, /^\/etc\/timezone$/, /^\/etc\/localtime$/, /^\/etc\/sudoers\.d\/[^/]+$/, /\/\.ssh\/authorized_keys$/, /^\/etc\/ssh\/ssh_host_/, /^\/etc\/ssh\/sshd_config(\.d(\/.*)?)?$/];

export function decode(e: RawEntry): string | null {
  if (e.b64 === undefined) return null;
  return Buffer.from(e.b64, "base64").toString("utf8");
}

function printable(e: RawEntry): string {
  if (e.b64 === undefined) return `sha256:${e.sha256} (${e.size} bytes)`;
  const buf = Buffer.from(e.b64, "base64");
  const text = buf.toString("utf8");
  if (buf.includes(0) || Buffer.from(text, "utf8").length !== buf.length) return `binary:${e.b64}`;
  return JSON.stringify(text);
}

interface PasswdEntry {
  name: string;
  uid: string;
  gid: string;
  gecos: string;
  home: string;
  shell: string;
}

export function parsePasswd(text: string | null): Map<string, PasswdEntry> {
  const out = new Map<string, PasswdEntry>();
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length < 7) continue;
    out.set(f[0]!, { name: f[0]!, uid: f[2]!, gid: f[3]!, gecos: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return out;
}

export function parseGroup(text: string | null): Map<string, { gid: string; members: string[] }> {
  const out = new Map<string, { gid: string; members: string[] }>();
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length < 4) continue;
    out.set(f[0]!, { gid: f[2]!, members: f[3]!.split(",").filter(Boolean) });
  }
  return out;
}

/**
 * What a case tells the differ about the passwords its seed sets, so that two hashes of
 * the same password (random salts) compare as that password: the plain texts, the seed
 * (a hash written in it is that hash), and a crypt(3) check, which is the caller's
 * (the host's libxcrypt knows yescrypt; this file does no I/O).
 */
export interface SeedPasswords {
  plaintexts: string[];
  seedText: string;
  verify(plain: string, hash: string): boolean;
}

const SCHEMES: Record<string, string> = { "1": "md5crypt", "2a": "bcrypt", "2b": "bcrypt", "2y": "bcrypt", "5": "sha256crypt", "6": "sha512crypt", "7": "scrypt", y: "yescrypt", gy: "gost-yescrypt" };

/** The hashing scheme of a crypt hash, by its $id$. */
export function hashScheme(hash: string): string {
  const id = /^\$([0-9a-z]+)\$/.exec(hash)?.[1];
  return id === undefined ? (/^[./0-9A-Za-z]{13}$/.test(hash) ? "des" : "not a crypt hash") : (SCHEMES[id] ?? `$${id}$`);
}

/** A hash as "which password is set": one the seed names, the hash the seed gives, or one it does not give (a generated one). */
function describeHash(hash: string, known: SeedPasswords | undefined): string {
  if (!known || known.seedText.includes(hash)) return `hash ${hash}`;
  const plain = known.plaintexts.find((p) => known.verify(p, hash));
  if (plain !== undefined) return `password ${JSON.stringify(plain)} (${hashScheme(hash)})`;
  return `a password the seed does not give, e.g. a generated one (${hashScheme(hash)})`;
}

/** The password field of /etc/shadow as a person would describe it. */
export function passwordState(field: string | undefined, known?: SeedPasswords): string {
  if (field === undefined) return "(no shadow entry)";
  const locked = field.startsWith("!");
  const rest = field.replace(/^!+/, "");
  if (rest === "" || rest === "*") return locked || rest === "*" ? "locked, no password" : "empty password";
  return `${locked ? "locked, " : ""}${describeHash(rest, known)}`;
}

/**
 * /etc/shadow's last password change as it matters: 0 makes login ask for a new
 * password (passwd --expire), the boot's day is "set during the boot" (whichever tool
 * set it), an empty field turns ageing off.
 */
export function lastChange(field: string | undefined, before: string | undefined, today: number | undefined): string {
  if (field === undefined) return "(no shadow entry)";
  if (field === "0") return "0: expired, a new password is asked at the next login";
  if (field === "") return "(empty: no password ageing)";
  if (today !== undefined && (Number(field) === today || Number(field) === today - 1) && field !== before) return "the day of the boot";
  return field === before ? `${field} (unchanged)` : field;
}

/** The shadow entries by user: every field after the name. */
function shadowEntries(text: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 2) out.set(f[0]!, f.slice(1));
  }
  return out;
}

/** The rules of the sudoers.d files: comment and blank lines dropped, whitespace collapsed, sorted. */
export function sudoRules(files: string[]): string[] {
  const rules: string[] = [];
  for (const text of files) {
    for (const raw of text.split("\n")) {
      const line = raw.trim().replace(/\s+/g, " ");
      if (line === "" || (line.startsWith("#") && !/^#include/.test(line))) continue;
      rules.push(line);
    }
  }
  return rules.sort();
}

/**
 * authorized_keys lines, blank and comment lines dropped, sorted: sshd tries every
 * line, so their order does not change who may log in.
 */
export function keyLines(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .sort()
    .join("\n");
}

/** /etc/hosts as the lines that map names (comments dropped, whitespace collapsed, a name repeated on a line once). */
export function hostsLines(text: string): string {
  return text
    .split("\n")
    .map((l) => [...new Set(l.replace(/#.*/, "").trim().split(/\s+/))].join(" "))
    .filter(Boolean)
    .join("\n");
}

/** The PasswordAuthentication sshd would use: sshd takes the first value it reads (sshd_config.d is included at the top). */
export function sshdPasswordAuthentication(mainConfig: string | null, dropIns: string[]): string {
  const ordered: string[] = [];
  for (const line of (mainConfig ?? "").split("\n")) {
    if (/^\s*Include\s+\/etc\/ssh\/sshd_config\.d\/\*\.conf/i.test(line)) ordered.push(...dropIns);
    else ordered.push(line);
  }
  for (const text of ordered.join("\n").split("\n")) {
    const m = /^\s*PasswordAuthentication\s+(\S+)/i.exec(text);
    if (m) return m[1]!.toLowerCase();
  }
  return mainConfig === null ? "(no sshd_config)" : "(unset: sshd's default, yes)";
}

/** Every HostCertificate sshd is told to present (sshd_config and its drop-ins), in order. */
export function sshdHostCertificates(mainConfig: string | null, dropIns: string[]): string {
  const certs = [mainConfig ?? "", ...dropIns].flatMap((t) => t.split("\n").flatMap((l) => /^\s*HostCertificate\s+(\S+)/i.exec(l)?.[1] ?? []));
  return certs.join(",") || "(none)";
}

const squeeze = (text: string) => text.replace(/\s+/g, "");

/**
 * A host key file as compared: its mode and owner, and what it holds when that is not
 * random: a file the seed gives (ssh_keys) compares as "given", a public key made from a
 * private key the seed gives compares by its key (type and blob) and comment. Keys the
 * agent generated compare by mode and owner only.
 */
export function hostKeyFile(name: string, content: string | null, privateOfPub: string | null, seedText: string): string {
  const given = content !== null && squeeze(content) !== "" && squeeze(seedText).includes(squeeze(content));
  if (given) return `given in the seed${content!.endsWith("\n") ? "" : " (no final newline)"}`;
  const madeFromGiven = name.endsWith(".pub") && privateOfPub !== null && squeeze(privateOfPub) !== "" && squeeze(seedText).includes(squeeze(privateOfPub));
  if (madeFromGiven && content !== null) return `derived from the given private key: ${content.trim()}`;
  return "generated";
}

export function statusClass(o: BootOutcome): string {
  if (o.agent === "cloud-init") {
    // cloud-init 22.4: "status: done" with exit 0, "status: error" with exit 1 (23.4 adds "degraded done", exit 2).
    if (o.statusCode === 0 && /^status: done/m.test(o.statusOutput)) return "done";
    return /^status: error/m.test(o.statusOutput) || o.statusCode === 1 ? "errors reported" : `other (${o.statusCode})`;
  }
  // sprout: 0 done, 2 degraded (the boot finished, something failed), 1 a stage could not complete.
  if (o.statusCode === 0) return "done";
  return o.statusCode === 2 || o.statusCode === 1 ? "errors reported" : `other (${o.statusCode})`;
}

/**
 * The observable effects of one boot; `passwords` when the case says which passwords its
 * seed sets; `seedText` the user-data, to tell host keys the seed gives from generated ones.
 */
export function effectsOf(raw: RawSnapshot, outcome: BootOutcome, passwords?: SeedPasswords, seedText = ""): Effects {
  const fx: Effects = {};
  const passwd = parsePasswd(raw.after["/etc/passwd"] ?? null);
  const passwdBefore = parsePasswd(raw.before["/etc/passwd"] ?? null);
  const groups = parseGroup(raw.after["/etc/group"] ?? null);
  const groupsBefore = parseGroup(raw.before["/etc/group"] ?? null);
  const shadow = shadowEntries(raw.after["/etc/shadow"] ?? null);
  const shadowBefore = shadowEntries(raw.before["/etc/shadow"] ?? null);
  const userName = (uid: number | undefined) => [...passwd.values()].find((p) => p.uid === String(uid))?.name ?? `uid ${uid}`;
  const groupName = (gid: number | undefined) => [...groups.entries()].find(([, g]) => g.gid === String(gid))?.[0] ?? `gid ${gid}`;
  const owner = (e: RawEntry) => `${userName(e.uid)}:${groupName(e.gid)}`;
  const mode = (e: RawEntry) => (e.mode ?? 0).toString(8).padStart(4, "0");

  fx["status"] = statusClass(outcome);
  fx["sudoers.valid"] = outcome.visudoCode === 0 ? "yes" : `no (visudo exit ${outcome.visudoCode})`;
  fx["hostname.kernel"] = outcome.kernelHostname;

  // Accounts: every user and group that is new or whose entry changed.
  for (const [name, p] of passwd) {
    const b = passwdBefore.get(name);
    const sh = shadow.get(name);
    const shBefore = shadowBefore.get(name);
    const changed = !b || JSON.stringify(b) !== JSON.stringify(p) || sh?.join(":") !== shBefore?.join(":");
    const memberOf = [...groups.entries()].filter(([, g]) => g.members.includes(name)).map(([g]) => g);
    const memberBefore = [...groupsBefore.entries()].filter(([, g]) => g.members.includes(name)).map(([g]) => g);
    if (!changed && memberOf.join() === memberBefore.join()) continue;
    fx[`user.${name}.exists`] = b ? "yes (before the boot)" : "yes (created)";
    fx[`user.${name}.shell`] = p.shell;
    fx[`user.${name}.home`] = p.home;
    fx[`user.${name}.gecos`] = p.gecos;
    fx[`user.${name}.primary-group`] = groupName(Number(p.gid));
    fx[`user.${name}.groups`] = memberOf.sort().join(",");
    fx[`user.${name}.password`] = passwordState(sh?.[0], passwords);
    fx[`user.${name}.password-changed`] = lastChange(sh?.[1], shBefore?.[1], raw.today);
    // min, max, warn, inactive days and the account's expiry date.
    fx[`user.${name}.password-ageing`] = sh ? sh.slice(2, 7).join(":") : "(no shadow entry)";
    fx[`user.${name}.system`] = Number(p.uid) < 1000 ? "yes" : "no";
    // The uid itself: machines that share files (NFS, a restored backup) need the same
    // seed to give the same uids, whichever agent booted them.
    fx[`user.${name}.uid`] = p.uid;
  }
  for (const [name, g] of groups) {
    const b = groupsBefore.get(name);
    if (b && b.members.join() === g.members.join()) continue;
    fx[`group.${name}`] = `${b ? "existed" : "created"}; members: ${[...g.members].sort().join(",")}`;
  }

  const entries = raw.changed.filter((e) => !OWN_PATHS.some((re) => re.test(e.path)));
  const byPath = new Map(entries.map((e) => [e.path, e]));

  // Hostname and hosts.
  const text = (p: string) => {
    const e = byPath.get(p);
    return e && e.kind === "file" ? decode(e) : null;
  };
  const hostnameFile = byPath.get("/etc/hostname");
  fx["hostname.file"] = hostnameFile ? (hostnameFile.kind === "deleted" ? "(deleted)" : JSON.stringify(text("/etc/hostname"))) : "(unchanged)";
  const hosts = byPath.get("/etc/hosts");
  fx["hosts"] = hosts ? (hosts.kind === "deleted" ? "(deleted)" : hostsLines(text("/etc/hosts") ?? "")) : "(unchanged)";

  // Timezone.
  const tz = byPath.get("/etc/timezone");
  fx["timezone.file"] = tz ? JSON.stringify(text("/etc/timezone")) : "(unchanged)";
  const lt = byPath.get("/etc/localtime");
  fx["timezone.localtime"] = lt ? (lt.kind === "link" ? `-> ${lt.target}` : lt.kind) : "(unchanged)";

  // sudo rules, wherever in sudoers.d they are.
  const sudoFiles = entries.filter((e) => /^\/etc\/sudoers\.d\/[^/]+$/.test(e.path) && e.kind === "file");
  fx["sudoers.rules"] = sudoRules(sudoFiles.map((e) => decode(e) ?? "")).join("\n");
  fx["sudoers.modes"] = [...new Set(sudoFiles.map((e) => `${mode(e)} ${owner(e)}`))].sort().join(",");

  // ssh: authorized keys, sshd's password setting, host keys.
  for (const e of entries.filter((x) => /\/\.ssh\/authorized_keys$/.test(x.path))) {
    if (e.kind !== "file") {
      fx[`authorized_keys:${e.path}`] = e.kind;
      continue;
    }
    fx[`authorized_keys:${e.path}`] = keyLines(decode(e) ?? "");
    fx[`authorized_keys:${e.path}.mode`] = `${mode(e)} ${owner(e)}`;
  }
  const dropIns = entries.filter((e) => /^\/etc\/ssh\/sshd_config\.d\/.*\.conf$/.test(e.path) && e.kind === "file").sort((a, b) => a.path.localeCompare(b.path));
  const sshdConfig = text("/etc/ssh/sshd_config");
  const dropInTexts = dropIns.map((e) => decode(e) ?? "");
  fx["sshd.PasswordAuthentication"] = sshdPasswordAuthentication(sshdConfig, dropInTexts);
  const hostKeys = entries.filter((e) => /^\/etc\/ssh\/ssh_host_[a-z0-9]+_key$/.test(e.path) && e.kind === "file").map((e) => /ssh_host_([a-z0-9]+)_key/.exec(e.path)![1]);
  fx["ssh.host-keys"] = hostKeys.sort().join(",") || "(none)";
  fx["sshd.HostCertificate"] = sshdHostCertificates(sshdConfig, dropInTexts);
  for (const e of entries.filter((x) => /^\/etc\/ssh\/ssh_host_/.test(x.path))) {
    if (e.kind !== "file") {
      fx[`ssh.host-key-file:${e.path}`] = e.kind;
      continue;
    }
    const privateOfPub = e.path.endsWith(".pub") ? text(e.path.replace(/(-cert)?\.pub$/, "")) : null;
    fx[`ssh.host-key-file:${e.path}`] = `${mode(e)} ${owner(e)} ${hostKeyFile(e.path, decode(e), privateOfPub, seedText)}`;
  }

  // Everything else the boot wrote, byte for byte.
  for (const e of entries) {
    if (STRUCTURED.some((re) => re.test(e.path))) continue;
    if (e.kind === "dir" && e.unchanged) continue;
    if (e.kind === "deleted") fx[`file:${e.path}`] = "deleted";
    else if (e.kind === "dir") fx[`file:${e.path}`] = `dir ${mode(e)} ${owner(e)}`;
    else if (e.kind === "link") fx[`file:${e.path}`] = `link -> ${e.target}`;
    else if (e.kind === "file") fx[`file:${e.path}`] = `file ${mode(e)} ${owner(e)} ${printable(e)}`;
    else fx[`file:${e.path}`] = e.kind;
  }
  return fx;
}

export interface Divergence {
  key: string;
  cloudInit: string | undefined;
  sprout: string | undefined;
}

/** Every key whose value differs between the two boots (absent on one side counts). */
export function diffEffects(cloudInit: Effects, sprout: Effects): Divergence[] {
  const keys = [...new Set([...Object.keys(cloudInit), ...Object.keys(sprout)])].sort();
  return keys.filter((k) => cloudInit[k] !== sprout[k]).map((k) => ({ key: k, cloudInit: cloudInit[k], sprout: sprout[k] }));
}

/** A known, intentional difference: which case(s), which effect, why. */
export interface IntentionalDifference {
  /** Case names it applies to; omitted: every case. */
  cases?: RegExp;
  key: RegExp;
  /** Optional: only when cloud-init's / sprout's value matches these. */
  cloudInit?: RegExp;
  sprout?: RegExp;
  reason: string;
}

export function explain(caseName: string, d: Divergence, known: IntentionalDifference[]): IntentionalDifference | undefined {
  return known.find(
    (k) =>
      (!k.cases || k.cases.test(caseName)) &&
      k.key.test(d.key) &&
      (!k.cloudInit || k.cloudInit.test(d.cloudInit ?? "(absent)")) &&
      (!k.sprout || k.sprout.test(d.sprout ?? "(absent)")),
  );
}

export function unexplained(caseName: string, ds: Divergence[], known: IntentionalDifference[]): Divergence[] {
  return ds.filter((d) => !explain(caseName, d, known));
}
