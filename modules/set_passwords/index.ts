// set_passwords: cloud-init's `password` (the default user's password; failing that,
// the OVF environment's, which the datasource hashed) and `chpasswd` (users' passwords
// as text, hashes or generated ones, and whether they expire). Passwords go to
// chpasswd on stdin, never on a command line, never to the log or status.json;
// generated ones are shown on the console alone, in cloud-init's words. ssh_pwauth,
// which cloud-init handles here too, is the ssh module's. Runs in the config stage,
// after users_groups made the users.
import type * as Crypto from "node:crypto";
import { lazyBuiltin } from "../../agent/lazy-builtin";
import type { Host } from "../../agent/host/types";
import type { Module, ModuleContext, ModuleResult } from "../../agent/types";
import { defaultUserName, expirePassword, readPasswd, usersFromConfig } from "../users_groups";
import { datasourcePassword, planPasswords, type PasswordChange } from "./plan";

const crypto = lazyBuiltin<typeof Crypto>("node:crypto");
const CHPASSWD_TIMEOUT_MS = 60_000;
const CONSOLE = "/dev/console";

const USER_ITEM = {
  type: "object",
  properties: {
    name: { type: "string", description: "The user (it must exist: users: creates it).", examples: ["alice"] },
    password: { type: "string", description: "The password: a crypt hash (type: hash), or the plain text (type: text); quote it (a whole number is set as its digits, as cloud-init does). Not used with type: RANDOM.", examples: ["$6$rounds=4096$5DJ8a9WMTEzIo5J4$Yms6imfeBvf3Yfu84mQBerh18l7OR1Wm1BJXZqFSpJ6BVas0AYJqIjP7czkOaAZHZi1kxQ5Y1IhgWN8K9NgxR1"] },
    type: { type: "string", enum: ["hash", "text", "RANDOM"], description: "What password holds: hash (the default), text, or RANDOM to have one generated and printed on the console.", default: "hash", examples: ["text"] },
  },
  required: ["name"],
  additionalProperties: false,
};

export const SET_PASSWORDS_SCHEMA = {
  password: {
    type: "string",
    description: "The default user's password (plain text, or a crypt hash). Quote it: a whole number is set as its digits, as cloud-init does, and anything else that is not text is refused. Ignored when chpasswd gives users or list. It expires unless chpasswd.expire is false.",
    examples: ["passw0rd"],
  },
  chpasswd: {
    type: "object",
    description: "Passwords of existing users, set with chpasswd (hashes with chpasswd -e).",
    properties: {
      expire: {
        type: "boolean",
        description: "Make every user whose password is set here (password: included) choose a new one at the next login.",
        default: true,
        examples: [false],
      },
      users: {
        type: "array",
        items: USER_ITEM,
        description: "Users and their passwords: {name, password, type}. type is hash (the default), text, or RANDOM (a password is generated and printed on the console, never logged).",
        examples: [[{ name: "alice", password: "passw0rd", type: "text" }, { name: "bob", type: "RANDOM" }]],
      },
      list: {
        oneOf: [{ type: "array", items: { type: "string", pattern: "^.+:.+$" } }, { type: "string" }],
        deprecated: true,
        description:
          'Deprecated (use users): "user:password" entries, as a list or the lines of one string (deprecated too). A password that looks like a crypt hash ($1$, $2a$/$2b$/$2y$, $5$, $6$, $7$, $y$, $gy$) is set as a hash; R or RANDOM has one generated.',
        examples: [["alice:passw0rd", "bob:RANDOM"]],
      },
    },
    additionalProperties: false,
    examples: [{ expire: false }, { users: [{ name: "debian", password: "passw0rd", type: "text" }] }],
  },
} as const;

/** cloud-init's alphabet for generated passwords: letters and digits without the ones people misread (l o L O I 0 1). */
const PW_SET = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"].filter((c) => !"loLOI01".includes(c)).join("");

export function randomPassword(length = 20): string {
  const { randomInt } = crypto();
  let out = "";
  for (let i = 0; i < length; i++) out += PW_SET[randomInt(PW_SET.length)];
  return out;
}

/** What cloud-init prints on the console for generated passwords (util.multi_log of cc_set_passwords). */
export function randomPasswordsBlurb(pairs: Array<{ user: string; password: string }>): string {
  return `Set the following 'random' passwords\n\n${pairs.map((p) => `${p.user}:${p.password}`).join("\n")}\n`;
}

/**
 * How chpasswd hashes plain text in a target that is not the running system: chpasswd -R
 * would run the image's PAM inside the chroot (which a bare tree lacks), so the method is
 * given with -c instead, the one the image's PAM (pam_unix in common-password) or
 * login.defs (ENCRYPT_METHOD) names.
 */
export function cryptMethod(commonPassword: string | null, loginDefs: string | null): string {
  const pamUnix = (commonPassword ?? "").split("\n").find((l) => /^\s*password\s.*\bpam_unix\.so\b/.test(l));
  const named = pamUnix?.split(/\s+/).find((w) => /^(yescrypt|sha512|sha256|md5)$/.test(w));
  if (named) return named.toUpperCase();
  const defs = /^\s*ENCRYPT_METHOD\s+(\S+)/m.exec(loginDefs ?? "")?.[1]?.toUpperCase();
  return defs && ["YESCRYPT", "SHA512", "SHA256", "MD5"].includes(defs) ? defs : "SHA512";
}

/** chpasswd on the target; null when it worked, else why (its stderr names users and lines, never passwords). */
async function chpasswd(ctx: ModuleContext, lines: Array<{ user: string; value: string }>, hashed: boolean): Promise<string | null> {
  const root = ctx.host.root;
  const argv = ["chpasswd"];
  if (!root.isSystemRoot) argv.push("--root", root.dir);
  if (hashed) argv.push("--encrypted");
  else if (!root.isSystemRoot) argv.push("--crypt-method", cryptMethod(root.tryReadText("/etc/pam.d/common-password"), root.tryReadText("/etc/login.defs")));
  const input = lines.map((l) => `${l.user}:${l.value}\n`).join("");
  const res = await ctx.host.run.run(argv, { timeoutMs: CHPASSWD_TIMEOUT_MS, input, env: { LC_ALL: "C" } });
  if (res.code === 0) return null;
  const why = res.spawnError ? `${res.spawnError} (install the passwd package)` : res.timedOut ? `timed out after ${CHPASSWD_TIMEOUT_MS / 1000} s` : res.stderr.toString("utf8").split("\n").map((l) => l.trim()).filter(Boolean).join("; ") || `exit ${res.code}`;
  return `${argv.join(" ")} failed for ${lines.map((l) => l.user).join(", ")}: ${why}`;
}

/**
 * Shows generated passwords on the console: the target's /dev/console, when it is one;
 * false when there is none. Not the boot's own output (sprout's stdout), which systemd
 * copies into the journal on disk: like cloud-init, the console alone gets them.
 */
function showOnConsole(h: Host, text: string): boolean {
  if (h.root.stat(CONSOLE)?.kind !== "char") return false;
  try {
    h.root.append(CONSOLE, text);
    return true;
  } catch {
    return false;
  }
}

export const setPasswords: Module = {
  id: "set_passwords",
  stage: "config",
  frequency: "per-instance",
  schema: {
    type: "object",
    description: "Set users' passwords: the default user's (password) and others' (chpasswd: plain text, hashes or generated ones), and whether they must be changed at the next login. ssh_pwauth is the ssh module's.",
    properties: SET_PASSWORDS_SCHEMA,
  },
  async run(cfg, ctx): Promise<ModuleResult> {
    const fromDatasource = datasourcePassword(ctx.instance);
    if ((cfg.password === undefined || cfg.password === null) && (cfg.chpasswd === undefined || cfg.chpasswd === null) && !fromDatasource) return { status: "skipped", detail: "no password or chpasswd" };
    const h = ctx.host;
    const defaultUser = (cfg.password !== undefined || fromDatasource) && usersFromConfig(cfg, h).users.some((u) => u.isDefault) ? defaultUserName(cfg, h) : null;
    const plan = planPasswords(cfg, defaultUser, fromDatasource);
    const errors = [...plan.errors];
    const notes = [...plan.deprecations, ...plan.warnings];
    for (const n of notes) h.log.warn(n);
    if (plan.changes.length === 0) return { status: errors.length ? "unchanged" : "skipped", detail: notes.join("; ") || "no passwords to set", errors };
    if (!h.root.exists("/etc/passwd")) {
      errors.push(`the target has no /etc/passwd: the passwords of ${[...new Set(plan.changes.map((c) => c.user))].join(", ")} were not set`);
      return { status: "unchanged", errors };
    }

    const known = new Set(readPasswd(h).map((p) => p.name));
    const wanted: PasswordChange[] = [];
    for (const c of plan.changes) {
      if (known.has(c.user)) wanted.push(c);
      else errors.push(`user ${c.user} does not exist, so its password was not set: create it with users: (set_passwords runs after users_groups) or fix the name`);
    }
    const generated = new Map<PasswordChange, string>(wanted.filter((c) => c.kind === "random").map((c) => [c, randomPassword()]));
    const plain = wanted.filter((c) => c.kind !== "hash").map((c) => ({ user: c.user, value: c.value ?? generated.get(c)!, change: c }));
    const hashed = wanted.filter((c) => c.kind === "hash").map((c) => ({ user: c.user, value: c.value!, change: c }));
    const set: PasswordChange[] = [];
    for (const [batch, isHash] of [[plain, false], [hashed, true]] as const) {
      if (batch.length === 0) continue;
      const err = await chpasswd(ctx, batch, isHash);
      if (err) errors.push(err);
      else set.push(...batch.map((b) => b.change));
    }

    const done: string[] = [];
    if (set.length) done.push(`password set for ${set.map((c) => `${c.user} (${c.kind === "random" ? "generated" : c.kind})`).join(", ")}`);
    const shown = [...generated].filter(([c]) => set.includes(c)).map(([c, password]) => ({ user: c.user, password }));
    if (shown.length) {
      const who = shown.map((s) => s.user).join(", ");
      if (showOnConsole(h, randomPasswordsBlurb(shown))) done.push(`the generated password of ${who} is shown on ${CONSOLE}`);
      else {
        const warning = `the generated password of ${who} was set but cannot be shown: there is no ${CONSOLE} (it is never logged); set a password you know with chpasswd`;
        h.log.warn(warning);
        done.push(warning);
      }
    }
    if (plan.expire) {
      const expired: string[] = [];
      for (const user of new Set(set.map((c) => c.user))) {
        try {
          expirePassword(h, user);
          expired.push(user);
        } catch (e) {
          errors.push(`${(e as Error).message}; the password is set but is not asked to be changed at the next login`);
        }
      }
      if (expired.length) done.push(`expired (a new password is asked at the next login): ${expired.join(", ")}`);
    }
    return { status: set.length ? "changed" : "unchanged", detail: [...done, ...notes].join("; "), errors };
  },
};
