// apt: cloud-init's apt_configure. In cloud-init's order: debconf selections;
// the archive mirrors and /etc/apt/sources.list (only when preserve_sources_list
// is false: Debian's default keeps the image's file); the proxy and apt.conf
// files; then each extra source with its key, and apt-get update so that
// `packages:` (which runs later) sees them. Every entry is checked before
// anything of it is written: a bad one is reported, names what to fix, and is
// skipped; the others are applied. Commands run chrooted into a target root.
import { isPlainObject } from "../../agent/merge";
import { describeFailure, targetArgv } from "../../agent/target-command";
import type { CloudConfig, JsonObject, Module, ModuleContext, ModuleResult } from "../../agent/types";
import { apt as aptGet } from "../package_update_upgrade_install";
import { DEFAULT_KEYSERVER, fetchKey } from "./keyserver";
import { convertLegacy } from "./legacy";
import { chooseEntry, defaultMirrors, hostOf, mirrorUrlProblem, needsArch, type MirrorKind } from "./mirrors";
import { dearmor, KeyError } from "./openpgp";
import { CONF_FILE, PROXY_FILE } from "./files";
import { APT_SCHEMA } from "./schema";
import { DEBIAN_TEMPLATE, debLineProblem, disableSuites, renderBasic, renderTemplate, SourceTextError } from "./sources-list";

export { CONF_FILE, PROXY_FILE };
const SOURCES_LIST = "/etc/apt/sources.list";
const SOURCES_DIR = "/etc/apt/sources.list.d";
const TRUSTED_DIR = "/etc/apt/trusted.gpg.d";
/** Keys a source names itself with [signed-by=$KEY_FILE]: apt does not trust them for other sources. */
const SIGNED_BY_DIR = "/etc/apt/cloud-init.gpg.d";
const ADD_APT_REPO_MATCH = "^[\\w-]+:\\w";
/** cloud-init's templates folder: an image may carry its own sources.list template there. */
const TEMPLATES_DIR = "/etc/cloud/templates";
const COMMAND_TIMEOUT_MS = 60_000;
const RESOLVE_TIMEOUT_MS = 10_000;

const PROXY_LINES: Array<[string, string]> = [
  ["proxy", "http"],
  ["http_proxy", "http"],
  ["ftp_proxy", "ftp"],
  ["https_proxy", "https"],
];

interface Os {
  id: string;
  /** ID and ID_LIKE: "debian" for Debian and its derivatives. */
  family: string[];
  codename: string | null;
}

function readOs(ctx: ModuleContext): Os {
  const text = ctx.host.root.tryReadText("/etc/os-release") ?? ctx.host.root.tryReadText("/usr/lib/os-release") ?? "";
  const field = (k: string) => new RegExp(`^${k}=("?)([^"\\n]*)\\1\\s*$`, "m").exec(text)?.[2]?.trim() ?? "";
  const id = field("ID") || "unknown";
  return { id, family: [id, ...field("ID_LIKE").split(/\s+/).filter(Boolean)], codename: field("VERSION_CODENAME") || field("UBUNTU_CODENAME") || null };
}

/** What one run did, collected as it goes. */
class Outcome {
  done: string[] = [];
  notes: string[] = [];
  errors: string[] = [];
  write(ctx: ModuleContext, path: string, data: string | Uint8Array, what: string): void {
    const root = ctx.host.root;
    root.mkdirp(path.slice(0, path.lastIndexOf("/")) || "/", 0o755);
    root.writeAtomic(path, data, { mode: 0o644 });
    this.done.push(what);
  }
}

// ---- debconf_selections ----

async function applyDebconf(ctx: ModuleContext, sets: unknown, out: Outcome): Promise<void> {
  if (sets === undefined || sets === null) return;
  if (!isPlainObject(sets)) {
    out.errors.push("apt.debconf_selections must be a mapping of names to selections (set1: \"pkg pkg/question type value\"); none were applied");
    return;
  }
  const good: string[] = [];
  for (const name of Object.keys(sets).sort()) {
    const text = sets[name];
    if (typeof text !== "string") {
      out.errors.push(`apt.debconf_selections.${name} must be text (lines of "package question type value"); it was skipped`);
      continue;
    }
    // A line ending in a backslash continues on the next (debconf-set-selections' rule): only first lines are checked.
    const bad = text.split("\n").find((l, i, all) => l.trim() && !l.startsWith("#") && !all[i - 1]?.endsWith("\\") && l.trim().split(/\s+/).length < 3);
    if (bad !== undefined) {
      out.errors.push(`apt.debconf_selections.${name}: ${JSON.stringify(bad.trim())} is not "package question type value"; the set was skipped`);
      continue;
    }
    good.push(text);
  }
  if (!good.length) return;
  let input = good.join("\n");
  if (!input.endsWith("\n")) input += "\n";
  const res = await ctx.host.run.run(targetArgv(ctx.host, ["debconf-set-selections"]), { timeoutMs: COMMAND_TIMEOUT_MS, input, env: { DEBIAN_FRONTEND: "noninteractive" } });
  if (res.code === 0) out.done.push(`debconf selections (${good.length} set${good.length === 1 ? "" : "s"})`);
  else out.errors.push(`debconf-set-selections failed: ${describeFailure(res, COMMAND_TIMEOUT_MS)}${res.spawnError ? " (the debconf package provides it)" : ""}`);
}

// ---- mirrors ----

interface Mirrors {
  primary: string;
  security: string;
  /** False when a configured mirror was unusable: nothing that needs the mirrors is written. */
  usable: boolean;
}

async function resolves(ctx: ModuleContext, url: string): Promise<boolean> {
  const host = hostOf(url);
  if (!host) return false;
  const res = await ctx.host.run.run(targetArgv(ctx.host, ["getent", "ahosts", host]), { timeoutMs: RESOLVE_TIMEOUT_MS });
  return res.code === 0 && res.stdout.length > 0;
}

async function arch(ctx: ModuleContext, out: Outcome): Promise<string | null> {
  const res = await ctx.host.run.run(targetArgv(ctx.host, ["dpkg", "--print-architecture"]), { timeoutMs: COMMAND_TIMEOUT_MS });
  if (res.code === 0) return res.stdout.toString("utf8").trim() || null;
  out.errors.push(`dpkg --print-architecture failed (${describeFailure(res, COMMAND_TIMEOUT_MS)}): mirrors listed for an architecture were not chosen, only "default" ones`);
  return null;
}

async function chooseMirror(ctx: ModuleContext, apt: JsonObject, kind: MirrorKind, machineArch: string | null, out: Outcome): Promise<string | null | false> {
  const list = apt[kind];
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list)) {
    out.errors.push(`apt.${kind} must be a list of mirrors ([{arches: [default], uri: http://...}])`);
    return false;
  }
  const { index, entry } = chooseEntry(list, machineArch);
  if (!entry) return null;
  const where = `apt.${kind}[${index}]`;
  if (entry.uri !== undefined) {
    const problem = mirrorUrlProblem(entry.uri);
    if (problem) {
      out.errors.push(`${where}.uri ${problem}; sources.list was not written`);
      return false;
    }
    return String(entry.uri).trim();
  }
  if (entry.search !== undefined) {
    const candidates = Array.isArray(entry.search) ? entry.search : [entry.search];
    for (const [i, c] of candidates.entries()) {
      const problem = mirrorUrlProblem(c);
      if (problem) {
        out.errors.push(`${where}.search[${i}] ${problem}; sources.list was not written`);
        return false;
      }
    }
    for (const c of candidates as string[]) if (await resolves(ctx, c)) return c.trim();
    out.notes.push(`no ${kind} mirror of ${where}.search resolves`);
  }
  if (entry.search_dns === true) out.notes.push(`${where}.search_dns is not supported (sprout probes only mirrors you name): list them in search`);
  return null;
}

async function findMirrors(ctx: ModuleContext, apt: JsonObject, os: Os, out: Outcome): Promise<Mirrors> {
  const ubuntu = os.family.includes("ubuntu");
  const machineArch = needsArch(apt.primary, apt.security) || ubuntu ? await arch(ctx, out) : null;
  const primary = await chooseMirror(ctx, apt, "primary", machineArch, out);
  const security = await chooseMirror(ctx, apt, "security", machineArch, out);
  const defaults = defaultMirrors(ubuntu ? "ubuntu" : "debian", machineArch);
  const usable = primary !== false && security !== false;
  if (primary) return { primary, security: security || primary, usable };
  return { primary: defaults.primary, security: security || defaults.security, usable };
}

// ---- keys ----

/** The key an entry gives (key: or keyid:), dearmored; null when it gives none. Throws KeyError. */
async function entryKey(ctx: ModuleContext, entry: JsonObject): Promise<Buffer | null> {
  if (entry.key !== undefined && entry.key !== null) {
    if (typeof entry.key !== "string") throw new KeyError("key: must be the ASCII-armored public key as text (gpg --armor --export KEYID)");
    return dearmor(entry.key);
  }
  if (entry.keyid !== undefined && entry.keyid !== null) {
    const server = entry.keyserver === undefined || entry.keyserver === null ? DEFAULT_KEYSERVER : String(entry.keyserver);
    return fetchKey(ctx.host.fetch, server, String(entry.keyid));
  }
  return null;
}

/** pathlib's stem: the file name without its last suffix (cloud-init names key files so). */
function stem(filename: string): string {
  const base = filename.slice(filename.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

// ---- sources.list ----

async function writeSourcesList(ctx: ModuleContext, apt: JsonObject, os: Os, mirrors: Mirrors, out: Outcome): Promise<void> {
  if (!mirrors.usable) return;
  const distro = os.family.includes("ubuntu") ? "ubuntu" : "debian";
  if (apt.generate_mirrorlists === true) {
    out.write(ctx, `/etc/apt/mirrors/${distro}.list`, `${mirrors.primary}\n`, `/etc/apt/mirrors/${distro}.list`);
    out.write(ctx, `/etc/apt/mirrors/${distro}-security.list`, `${mirrors.security}\n`, `/etc/apt/mirrors/${distro}-security.list`);
    return;
  }
  // Keys of the mirrors first, as cloud-init: the new sources.list may need them.
  for (const kind of ["primary", "security"] as const) {
    const list = Array.isArray(apt[kind]) ? (apt[kind] as unknown[]) : [];
    for (const [i, m] of list.entries()) {
      if (!isPlainObject(m)) continue;
      try {
        const key = await entryKey(ctx, m);
        if (key) out.write(ctx, `${TRUSTED_DIR}/${kind}.gpg`, key, `${TRUSTED_DIR}/${kind}.gpg`);
      } catch (err) {
        if (!(err instanceof KeyError)) throw err;
        out.errors.push(`apt.${kind}[${i}]: ${err.message}; sources.list was not written`);
        return;
      }
    }
  }
  if (!os.codename) {
    out.errors.push("sources.list was not written: /etc/os-release has no VERSION_CODENAME to put in it");
    return;
  }
  let template: string;
  if (apt.sources_list !== undefined && apt.sources_list !== null) {
    if (typeof apt.sources_list !== "string") {
      out.errors.push("apt.sources_list must be the template text; sources.list was not written");
      return;
    }
    template = apt.sources_list;
  } else {
    // The image's own template where it has one (the file the written header tells admins to edit), else Debian's.
    const own = ctx.host.root.tryReadText(`${TEMPLATES_DIR}/sources.list.${distro}.tmpl`);
    if (own !== null) template = own;
    else if (distro === "debian") template = DEBIAN_TEMPLATE;
    else {
      out.errors.push(`sources.list was not written: sprout has Debian's template only; give ${os.id}'s as apt.sources_list or ${TEMPLATES_DIR}/sources.list.${distro}.tmpl`);
      return;
    }
  }
  const params = { RELEASE: os.codename, codename: os.codename, PRIMARY: mirrors.primary, primary: mirrors.primary, SECURITY: mirrors.security, security: mirrors.security, MIRROR: mirrors.primary, mirror: mirrors.primary };
  let text: string;
  try {
    text = await renderTemplate(template, params);
    const disabled = apt.disable_suites;
    if (Array.isArray(disabled)) text = disableSuites(text, disabled.map(String), os.codename);
  } catch (err) {
    if (!(err instanceof SourceTextError)) throw err;
    out.errors.push(`apt.sources_list: ${err.message}; sources.list was not written`);
    return;
  }
  const bad = text.split("\n").map(debLineProblem).find((p) => p !== null);
  if (bad) {
    out.errors.push(`apt.sources_list: ${bad}; sources.list was not written`);
    return;
  }
  out.write(ctx, SOURCES_LIST, text, `${SOURCES_LIST} (mirror ${mirrors.primary})`);
}

// ---- proxies and apt.conf ----

function writeAptConf(ctx: ModuleContext, apt: JsonObject, out: Outcome): void {
  const root = ctx.host.root;
  const lines: string[] = [];
  for (const [key, scheme] of PROXY_LINES) {
    const v = apt[key];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string" || /["\n\r;]/.test(v)) {
      out.errors.push(`apt.${key} must be one proxy URL (e.g. http://proxy.example.com:3128/) without quotes, ";" or line breaks; it was not written`);
      continue;
    }
    lines.push(`Acquire::${scheme}::Proxy "${v}";`);
  }
  if (lines.length) out.write(ctx, PROXY_FILE, `${lines.join("\n")}\n`, PROXY_FILE);
  else if (root.exists(PROXY_FILE)) {
    root.remove(PROXY_FILE);
    out.done.push(`removed ${PROXY_FILE} (no proxy configured)`);
  }
  if (typeof apt.conf === "string" && apt.conf !== "") out.write(ctx, CONF_FILE, apt.conf, CONF_FILE);
  else if (apt.conf !== undefined && apt.conf !== null && apt.conf !== "") out.errors.push("apt.conf must be apt configuration text; it was not written");
  else if (root.exists(CONF_FILE)) {
    root.remove(CONF_FILE);
    out.done.push(`removed ${CONF_FILE} (no apt.conf configured)`);
  }
}

// ---- sources ----

async function addSources(ctx: ModuleContext, cfg: CloudConfig, apt: JsonObject, os: Os, mirrors: () => Promise<Mirrors>, out: Outcome): Promise<void> {
  const sources = apt.sources;
  if (sources === undefined || sources === null) return;
  if (!isPlainObject(sources)) {
    out.errors.push("apt.sources must be a mapping of names to sources (name: {source: deb ..., key: ...}); none were added");
    return;
  }
  const matchText = typeof apt.add_apt_repo_match === "string" ? apt.add_apt_repo_match : ADD_APT_REPO_MATCH;
  let matcher: RegExp | null = null;
  try {
    matcher = matchText ? new RegExp(matchText) : null;
  } catch {
    out.errors.push(`apt.add_apt_repo_match ${JSON.stringify(matchText)} is not a regular expression; no source was handed to add-apt-repository`);
  }
  let added = 0;
  for (const [name, entry] of Object.entries(sources)) {
    const where = `apt.sources.${name}`;
    if (!isPlainObject(entry)) {
      out.errors.push(`${where} must be a mapping (source: "deb ...", key: ..., filename: ...); it was skipped`);
      continue;
    }
    const filename = typeof entry.filename === "string" && entry.filename.trim() ? entry.filename.trim() : name;
    const source = entry.source;
    if (source !== undefined && source !== null && typeof source !== "string") {
      out.errors.push(`${where}.source must be a deb line as text; the entry was skipped`);
      continue;
    }
    const signedBy = typeof source === "string" && source.includes("$KEY_FILE");
    let key: Buffer | null;
    try {
      key = await entryKey(ctx, entry);
    } catch (err) {
      if (!(err instanceof KeyError)) throw err;
      out.errors.push(`${where}: ${err.message}; the entry was skipped`);
      continue;
    }
    const keyFile = key ? `${signedBy ? SIGNED_BY_DIR : TRUSTED_DIR}/${stem(filename)}.gpg` : null;
    if (typeof source !== "string") {
      if (keyFile && key) out.write(ctx, keyFile, key, `key ${keyFile}`);
      added += key ? 1 : 0;
      continue;
    }
    if (signedBy && !keyFile) {
      out.errors.push(`${where}.source uses $KEY_FILE but the entry has no key: or keyid:; add the repository's key; the entry was skipped`);
      continue;
    }
    const needsMirror = /\$\{?(MIRROR|PRIMARY|SECURITY)\b/.test(source);
    const m = needsMirror ? await mirrors() : null;
    if (m && !m.usable) {
      out.errors.push(`${where}.source uses the mirror, which is not usable (see the apt.primary/apt.security error); the entry was skipped`);
      continue;
    }
    if (/\$\{?RELEASE\b/.test(source) && !os.codename) {
      out.errors.push(`${where}.source uses $RELEASE but /etc/os-release has no VERSION_CODENAME; write the release name; the entry was skipped`);
      continue;
    }
    const params: Record<string, string> = { RELEASE: os.codename ?? "", ...(m ? { MIRROR: m.primary, PRIMARY: m.primary, SECURITY: m.security } : placeholderMirrors()) };
    if (keyFile) params.KEY_FILE = keyFile;
    let line: string;
    try {
      line = renderBasic(source, params);
    } catch (err) {
      if (!(err instanceof SourceTextError)) throw err;
      out.errors.push(`${where}.source: ${err.message}; the entry was skipped`);
      continue;
    }
    if (matcher?.test(line)) {
      const argv = targetArgv(ctx.host, ["add-apt-repository", "--no-update", line]);
      if (keyFile && key) out.write(ctx, keyFile, key, `key ${keyFile}`);
      const res = await ctx.host.run.run(argv, { timeoutMs: 5 * COMMAND_TIMEOUT_MS, env: { DEBIAN_FRONTEND: "noninteractive" } });
      if (res.code === 0) {
        out.done.push(`add-apt-repository ${line}`);
        added++;
      } else out.errors.push(`${where}: add-apt-repository ${line} failed: ${describeFailure(res, 5 * COMMAND_TIMEOUT_MS)}${res.spawnError ? " (PPAs are Ubuntu's, from software-properties-common; on Debian write a deb line)" : ""}`);
      continue;
    }
    const bad = line.split("\n").map(debLineProblem).find((p) => p !== null);
    if (bad) {
      out.errors.push(`${where}.source: ${bad}; the entry was skipped`);
      continue;
    }
    let path = filename.startsWith("/") ? filename : `${SOURCES_DIR}/${filename}`;
    if (!path.endsWith(".list")) path += ".list";
    try {
      const existing = entry.append === false ? null : ctx.host.root.tryReadText(path);
      const lines = line.replace(/\n+$/, "");
      // Appending a line the file already has would only make apt warn about a source configured twice.
      const content = existing === null ? `${lines}\n` : existing.split("\n").includes(lines) ? null : `${existing}${existing === "" || existing.endsWith("\n") ? "" : "\n"}${lines}\n`;
      if (keyFile && key) out.write(ctx, keyFile, key, `key ${keyFile}`);
      if (content !== null) out.write(ctx, path, content, path);
      added++;
    } catch (err) {
      out.errors.push(`${where}: could not write ${path} (${(err as Error).message}); check filename:`);
    }
  }
  if (added) {
    const err = await aptGet(ctx, cfg, ["update"]);
    if (err) out.errors.push(`${err} (the new sources are in place; packages from them may not install)`);
    else out.done.push("apt-get update");
  }
}

/** Source lines that do not use the mirror never see these; they keep renderBasic's list of names complete. */
function placeholderMirrors(): Record<string, string> {
  return { MIRROR: "$MIRROR", PRIMARY: "$PRIMARY", SECURITY: "$SECURITY" };
}

export const aptConfigure: Module = {
  id: "apt_configure",
  stage: "config",
  frequency: "per-instance",
  schema: { type: "object", description: "Configure apt: proxies, apt.conf, extra sources and their keys, the archive mirrors in sources.list, and debconf selections (cloud-init's apt_configure).", properties: { apt: APT_SCHEMA } },
  async run(cfg, ctx): Promise<ModuleResult> {
    const conv = convertLegacy(cfg);
    const out = new Outcome();
    out.errors.push(...conv.errors);
    if (!conv.configured) {
      // As cloud-init: files it wrote for an earlier instance's proxy or apt.conf go.
      writeAptConf(ctx, {}, out);
      return out.done.length ? { status: "changed", detail: out.done.join("; ") } : { status: "skipped", detail: "no apt configuration" };
    }
    const os = readOs(ctx);
    if (!os.family.includes("debian") && !os.family.includes("ubuntu")) {
      return { status: "skipped", detail: `apt: is for Debian and Ubuntu; this machine is ${os.id} (/etc/os-release)`, errors: out.errors };
    }
    if (conv.legacy.length) out.notes.push(`deprecated keys used: ${conv.legacy.join(", ")} (write them under apt:)`);
    const apt = conv.apt;

    await applyDebconf(ctx, apt.debconf_selections, out);

    let found: Promise<Mirrors> | null = null;
    const mirrors = () => (found ??= findMirrors(ctx, apt, os, out));
    // Debian's cloud-init config sets preserve_sources_list: true; elsewhere cloud-init's default is false.
    const preserve = typeof apt.preserve_sources_list === "boolean" ? apt.preserve_sources_list : os.id === "debian";
    const touchesList = ["primary", "security", "sources_list", "disable_suites"].some((k) => apt[k] !== undefined);
    if (apt.generate_mirrorlists === true || !preserve) await writeSourcesList(ctx, apt, os, await mirrors(), out);
    else if (touchesList) out.notes.push(`${SOURCES_LIST} kept: preserve_sources_list is ${apt.preserve_sources_list === true ? "true" : "true by default on Debian"}; set apt.preserve_sources_list: false to write it from the mirrors`);

    writeAptConf(ctx, apt, out);
    await addSources(ctx, cfg, apt, os, mirrors, out);

    const detail = [...out.done, ...out.notes].join("; ") || "nothing to change";
    return { status: out.done.length ? "changed" : "unchanged", detail, errors: out.errors };
  },
};
