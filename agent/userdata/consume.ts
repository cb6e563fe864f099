// Turning the instance's user-data and vendor-data into the cloud-config the
// modules see, and into script files they run. Order, as in cloud-init: the
// system config (plus a cloud-config-url from the kernel command line), then
// vendor-data, then user-data, later winning. The files written here are the
// instance's record of what it was given (user-data.txt.i) and the scripts the
// scripts_user / scripts_vendor / boothooks modules run.
import type * as Crypto from "node:crypto";
import { cmdlineValue, type Cmdline } from "../cmdline";
import { CONFIG_DIR } from "../config";
import type { Host } from "../host/types";
import { lazyBuiltin } from "../lazy-builtin";
import { deepMerge, isPlainObject } from "../merge";
import { CLOUD_INIT_ONLY_KEYS } from "../schema/cloud-init-only";
import { didYouMean } from "../schema/did-you-mean";
import type { CloudConfig, JsonObject, Paths } from "../types";
import { parseYaml } from "../yaml";
import { processUserData, processedToMime, type ProcessedUserData, type UserDataProblem, type UserScript } from ".";

/** Where a cloud-config-url from the kernel command line is kept (cloud-init keeps it in cloud.cfg.d too). */
export const CMDLINE_URL_FILE = `${CONFIG_DIR}/91_kernel_cmdline_url.cfg`;
/** Bound on all the fetching one user-data does (#include, cloud-config-url). */
const FETCH_BUDGET_MS = 60_000;
// Only #include-once needs a hash.
const crypto = lazyBuiltin<typeof Crypto>("node:crypto");

/** Per-request bounds: `sprout: {fetch_timeout: seconds, fetch_retries: n}` in the system config, else 10 s and 2 retries. */
export function fetchBounds(system: CloudConfig): { timeoutMs: number; retries: number } {
  const s = isPlainObject(system.sprout) ? system.sprout : {};
  const timeout = typeof s.fetch_timeout === "number" && s.fetch_timeout > 0 ? s.fetch_timeout : 10;
  const retries = typeof s.fetch_retries === "number" && s.fetch_retries >= 0 ? Math.min(Math.floor(s.fetch_retries), 10) : 2;
  return { timeoutMs: timeout * 1000, retries };
}
const MAX_FETCH = 16 * 1024 * 1024;

export interface ConsumeOptions {
  system: CloudConfig;
  cmdline: Cmdline;
  paths: Paths;
  instance: JsonObject;
  /**
   * false for the local stage: no network yet, so only file:// is fetched, nothing is
   * written and problems are left for the network stage to report.
   */
  full: boolean;
  /**
   * A later stage in its own process (`sprout init --stage config|final`) after the
   * network stage processed this instance's user-data: read the processed copies
   * (user-data.txt.i), so #include URLs are not fetched again, scripts are not
   * rewritten, and problems the network stage reported are not reported twice.
   */
  reuseProcessed?: boolean;
  /**
   * The top-level keys sprout reads (agent/schema). When given, a full pass warns
   * about the others in user-data and vendor-data: cloud-init modules sprout does
   * not have, or typos, which would otherwise be dropped without a word.
   */
  knownKeys?: ReadonlySet<string>;
}

export interface FileProblem extends UserDataProblem {
  /** Target path of the file the problem is in. */
  file: string;
}

export interface Consumed {
  config: CloudConfig;
  problems: FileProblem[];
}

export const scriptDirs = (paths: Paths) => ({
  user: `${paths.instanceDir}/scripts/user-data`,
  vendor: `${paths.instanceDir}/scripts/vendor-data`,
  boothooks: `${paths.instanceDir}/boothooks`,
});

function fetcher(h: Host, opts: ConsumeOptions, deadline: number) {
  const bounds = fetchBounds(opts.system);
  return async (url: string): Promise<Buffer> => {
    if (!opts.full && !url.startsWith("file:")) throw new Error("the network is not up yet in the local stage");
    const res = await h.fetch.fetch(url, { ...bounds, deadline, maxBytes: MAX_FETCH });
    if (res.status !== 200) throw new Error(`the server answered HTTP ${res.status}${res.status === 404 ? " (not found: check the URL)" : ""}`);
    return res.body;
  };
}

/** #include-once: fetched on the first boot of the instance, then read from its cache. */
function includeFetcher(h: Host, opts: ConsumeOptions, deadline: number) {
  const { paths, full } = opts;
  const get = fetcher(h, opts, deadline);
  return async (url: string, once: boolean): Promise<Buffer> => {
    if (!once) return get(url);
    const cache = `${paths.instanceDir}/include-once/${crypto().createHash("sha256").update(url).digest("hex")}`;
    const cached = h.root.tryReadFile(cache);
    if (cached) return cached;
    const body = await get(url);
    if (full) h.root.writeAtomic(cache, body, { mode: 0o600 });
    return body;
  };
}

/** `cloud-config-url=URL` on the kernel command line: fetched once, kept, and merged into the system config. */
async function cmdlineCloudConfig(h: Host, opts: ConsumeOptions, deadline: number, problems: FileProblem[]): Promise<JsonObject | null> {
  const url = cmdlineValue(opts.cmdline, "cloud-config-url");
  if (!url) return null;
  let text = h.root.tryReadText(CMDLINE_URL_FILE);
  if (text === null) {
    try {
      const body = await fetcher(h, opts, deadline)(url);
      text = body.toString("utf8");
    } catch (err) {
      if (opts.full) problems.push({ source: "cloud-config-url", file: "/proc/cmdline", message: `cloud-config-url ${url}: ${(err as Error).message}; booting without it` });
      return null;
    }
    if (!/^#cloud-config\b/i.test(text.trimStart())) {
      if (opts.full) problems.push({ source: "cloud-config-url", file: "/proc/cmdline", message: `cloud-config-url ${url} did not return a #cloud-config document (its first line must be #cloud-config); not applied` });
      return null;
    }
    if (opts.full) h.root.writeAtomic(CMDLINE_URL_FILE, text, { mode: 0o600 });
  }
  const parsed = parseYaml(text);
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) problems.push({ source: "cloud-config-url", file: CMDLINE_URL_FILE, line: e.line, col: e.col, message: `${CMDLINE_URL_FILE}: YAML error: ${e.message}; not applied` });
    return null;
  }
  return isPlainObject(parsed.value) ? parsed.value : null;
}

function writeScripts(h: Host, dir: string, scripts: UserScript[], prefix = ""): void {
  // Rewritten on every boot from the current user-data: a script removed from it does not linger.
  h.root.remove(dir, { recursive: true });
  for (const s of scripts) h.root.writeAtomic(`${dir}/${prefix}${s.name}`, s.content, { mode: 0o700 });
}

function vendorEnabled(cfg: unknown): boolean {
  return !(isPlainObject(cfg) && isPlainObject(cfg.vendor_data) && cfg.vendor_data.enabled === false);
}

/** The cloud-config the modules see. Never throws: problems are returned with the file they are in. */
export async function consumeUserData(h: Host, opts: ConsumeOptions): Promise<Consumed> {
  if (opts.reuseProcessed && h.root.exists(`${opts.paths.instanceDir}/user-data.txt.i`)) return consumeProcessed(h, opts);
  const problems: FileProblem[] = [];
  const deadline = h.clock.monoMs() + FETCH_BUDGET_MS;
  const { paths } = opts;
  const fetchInclude = includeFetcher(h, opts, deadline);
  const read = (name: string): Buffer | null => {
    try {
      return h.root.tryReadFile(`${paths.instanceDir}/${name}`);
    } catch (err) {
      problems.push({ source: name, file: `${paths.instanceDir}/${name}`, message: `cannot read: ${(err as Error).message}` });
      return null;
    }
  };
  const run = async (source: string): Promise<ProcessedUserData> => {
    const ud = await processUserData(read(`${source}.txt`), { source, instance: opts.instance, fetchInclude });
    for (const p of ud.problems) problems.push({ ...p, file: `${paths.instanceDir}/${source}.txt` });
    return ud;
  };
  let system = opts.system;
  const fromCmdline = await cmdlineCloudConfig(h, opts, deadline, problems);
  if (fromCmdline) system = deepMerge(system, fromCmdline) as CloudConfig;
  const { config, user, vendor } = await layered(system, run);
  if (opts.full && opts.knownKeys) {
    for (const [source, cfg] of [["vendor-data", vendor?.cloudConfig], ["user-data", user.cloudConfig]] as const) {
      const warning = unreadKeysWarning(cfg, opts.knownKeys);
      if (warning) problems.push({ source, file: `${paths.instanceDir}/${source}.txt`, message: warning, warning: true });
    }
  }
  if (opts.full) {
    const dirs = scriptDirs(paths);
    try {
      // Made again from user-data.txt on every boot: no fsync needed.
      h.root.writeAtomic(`${paths.instanceDir}/user-data.txt.i`, processedToMime(user.parts), { mode: 0o600, durable: false });
      if (vendor) h.root.writeAtomic(`${paths.instanceDir}/vendor-data.txt.i`, processedToMime(vendor.parts), { mode: 0o600, durable: false });
      writeScripts(h, dirs.user, user.scripts);
      writeScripts(h, dirs.vendor, vendor?.scripts ?? []);
      h.root.remove(dirs.boothooks, { recursive: true });
      for (const b of vendor?.boothooks ?? []) h.root.writeAtomic(`${dirs.boothooks}/vendor-${b.name}`, b.content, { mode: 0o700 });
      for (const b of user.boothooks) h.root.writeAtomic(`${dirs.boothooks}/${b.name}`, b.content, { mode: 0o700 });
      // Into the folders scripts_per_boot / _per_instance / _per_once run, as cloud-init
      // puts them in /var/lib/cloud/scripts/per-*: they stay there for later boots.
      for (const s of user.frequencyScripts) h.root.writeAtomic(`${paths.stateDir}/scripts/${s.frequency}/${s.name}`, s.content, { mode: 0o700 });
    } catch (err) {
      problems.push({ source: "user-data", file: paths.instanceDir, message: `cannot write the processed user-data and its scripts: ${(err as Error).message}` });
    }
  }
  return { config, problems };
}

/** The cloud-config from the processed copies the network stage wrote; nothing is fetched or written. */
async function consumeProcessed(h: Host, opts: ConsumeOptions): Promise<Consumed> {
  const { paths } = opts;
  const refuse = async (url: string): Promise<Buffer> => {
    throw new Error(`${url} was not fetched again: the network stage processed this user-data`);
  };
  const run = async (source: string): Promise<ProcessedUserData | null> => {
    let bytes: Buffer | null = null;
    try {
      bytes = h.root.tryReadFile(`${paths.instanceDir}/${source}.txt.i`);
    } catch {
      bytes = null;
    }
    return bytes === null ? null : processUserData(bytes, { source, instance: opts.instance, fetchInclude: refuse });
  };
  let system = opts.system;
  // As the local stage reads it: the copy the network stage kept, never a fetch over the network.
  const fromCmdline = await cmdlineCloudConfig(h, { ...opts, full: false }, h.clock.monoMs() + FETCH_BUDGET_MS, []);
  if (fromCmdline) system = deepMerge(system, fromCmdline) as CloudConfig;
  return { config: (await layered(system, run)).config, problems: [] };
}

/** What a person needs to hear about the keys of a cloud-config that nothing in sprout reads, or null. */
export function unreadKeysWarning(cfg: JsonObject | null | undefined, known: ReadonlySet<string>): string | null {
  const unread = Object.keys(cfg ?? {}).filter((k) => !known.has(k));
  if (unread.length === 0) return null;
  const named = unread.map((k) => {
    const cloudInitOnly = CLOUD_INIT_ONLY_KEYS[k];
    if (cloudInitOnly) return `${k} (${cloudInitOnly.what}, which sprout does not have)`;
    const near = didYouMean(k, known);
    return near ? `${k} (did you mean ${near}?)` : k;
  });
  return `ignored ${unread.length === 1 ? "a key" : `${unread.length} keys`} no sprout module reads: ${named.join(", ")}; \`sprout schema --docs\` lists the modules and their keys`;
}

/** cloud-init's order: the system config, then vendor-data (unless either switches it off), then user-data, later winning. */
async function layered<T extends ProcessedUserData | null>(system: CloudConfig, run: (source: string) => Promise<T>): Promise<{ config: CloudConfig; user: T; vendor: T | null }> {
  const user = await run("user-data");
  const vendor = vendorEnabled(system) && vendorEnabled(user?.cloudConfig) ? await run("vendor-data") : null;
  let config = system;
  if (vendor?.cloudConfig) config = deepMerge(config, vendor.cloudConfig) as CloudConfig;
  if (user?.cloudConfig) config = deepMerge(config, user.cloudConfig) as CloudConfig;
  return { config, user, vendor };
}
