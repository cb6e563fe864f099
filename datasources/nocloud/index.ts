// NoCloud: a seed of meta-data, user-data, vendor-data and network-config files,
// from a seed directory, the kernel command line (ds=nocloud;s=...;i=...;h=...),
// or datasource.NoCloud.seedfrom in the system config. Paths and forms are
// cloud-init's, so seeds written for cloud-init work unchanged.
import { DatasourceError, FetchError, NeedNetworkError, SproutError } from "../../agent/errors";
import type { Host } from "../../agent/host/types";
import { deepMerge } from "../../agent/merge";
import { normalizeSshKeys, readDmi } from "../../agent/platform";
import type { Datasource, DatasourceContext, InstanceData, JsonObject } from "../../agent/types";
import { parseYaml } from "../../agent/yaml";
import { noCloudFromCmdline, parseMetaData, seedFileUrl, type NoCloudCmdline } from "./parse";
import { findSeedDevice, seedDevicesConfigured } from "./seed-device";

export const SEED_DIRS = ["/var/lib/cloud/seed/nocloud", "/var/lib/cloud/seed/nocloud-net"];
const MAX_SEED_FILE = 16 * 1024 * 1024;

export interface SeedFiles {
  where: string;
  metaData: Buffer;
  userData: Buffer | null;
  vendorData: Buffer | null;
  networkConfig: Buffer | null;
  /** Optional files that could not be read (the seed is used without them). */
  warnings?: string[];
  /** Meta-data that wins over the file's: a local seed's, when its meta-data chains to a seedfrom URL. */
  metaDataOver?: JsonObject;
  /** `metaData` parsed already (looking for seedfrom), so it is not parsed twice. */
  parsedMetaData?: JsonObject;
}

function cmdlineSeed(h: Host, ctx: DatasourceContext): NoCloudCmdline | null {
  return noCloudFromCmdline(ctx.cmdline, readDmi(h.root, "product_serial"));
}

function configuredSeedfrom(ctx: DatasourceContext): string | null {
  const v = ctx.config.seedfrom;
  return typeof v === "string" && v.trim() ? v.trim() : null;
}

/** Reads a seed file that must be a regular file; a directory where a file belongs is an error a person must fix. */
function readSeedFile(h: Host, path: string, required: boolean): Buffer | null {
  const st = h.root.stat(path);
  if (st === null) {
    if (required) throw new DatasourceError("NoCloud", `${path} is missing`, { hint: "a NoCloud seed needs at least a meta-data file with an instance-id" });
    return null;
  }
  if (st.kind !== "file") throw new DatasourceError("NoCloud", `${path} is a ${st.kind === "dir" ? "directory" : st.kind}, not a file`, { hint: `replace it with a file (remove the ${st.kind} first)` });
  try {
    return h.root.readFile(path, MAX_SEED_FILE);
  } catch (err) {
    throw new DatasourceError("NoCloud", `cannot read ${path}: ${(err as Error).message}`, { cause: err, hint: "check the file's permissions and size (16 MiB at most)" });
  }
}

function seedDirWithFiles(h: Host): string | null {
  for (const dir of SEED_DIRS) {
    const st = h.root.stat(dir);
    if (st?.kind === "dir" && ["meta-data", "user-data"].some((f) => h.root.lstat(`${dir}/${f}`) !== null)) return dir;
  }
  return null;
}

function readSeedDir(h: Host, dir: string): SeedFiles {
  return {
    where: `seed-dir (${dir})`,
    metaData: readSeedFile(h, `${dir}/meta-data`, true)!,
    userData: readSeedFile(h, `${dir}/user-data`, false),
    vendorData: readSeedFile(h, `${dir}/vendor-data`, false),
    networkConfig: readSeedFile(h, `${dir}/network-config`, false),
  };
}

const networkWaitHint = (ds: string) => `check the network and the seed URL; datasource.${ds}.max_wait sets how long sprout waits for them (default 60 s)`;

/**
 * A seed at a URL (file://, http://, https://). Only meta-data is required; a 404
 * on the others means "none", any other failure is an error (booting without the
 * user-data a server failed to send would configure the wrong machine).
 * Over the network, meta-data is also the connectivity probe: sprout waits for the
 * server to become reachable until max_wait, then gives up with the reason.
 * Exported for OVF's seedfrom property; `ds` names the datasource in errors.
 */
export async function readSeedUrl(h: Host, ctx: DatasourceContext, base: string, ds = "NoCloud"): Promise<SeedFiles> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(base)?.[1]?.toLowerCase();
  if (scheme !== "file" && scheme !== "http" && scheme !== "https") {
    throw new DatasourceError(ds, `seedfrom ${JSON.stringify(base)} has an unsupported scheme${scheme ? ` "${scheme}"` : ""}`, {
      hint: "use file:///path/, http://host/path/ or https://host/path/",
    });
  }
  if (scheme !== "file" && ctx.stage === "local") throw new NeedNetworkError(ds, `seed ${base} needs the network`);
  const timeoutMs = Number(ctx.config.timeout ?? 10) * 1000;
  const retries = Number(ctx.config.retries ?? 3);
  const started = h.clock.monoMs();
  const fetchOnce = async (url: string) => {
    try {
      return await h.fetch.fetch(url, { timeoutMs, retries, deadline: ctx.deadline, maxBytes: MAX_SEED_FILE });
    } catch (err) {
      if (err instanceof FetchError && err.kind === "deadline") {
        const waited = Math.round((h.clock.monoMs() - started) / 100) / 10;
        throw new DatasourceError(ds, `gave up waiting for the seed at ${base} after ${waited} s: ${err.message}`, { cause: err, hint: networkWaitHint(ds) });
      }
      const hint = err instanceof FetchError && err.kind === "tls" ? err.hint : undefined;
      throw new DatasourceError(ds, `cannot read seed file ${url}: ${(err as Error).message}`, { cause: err, hint: hint ?? "check the seed URL and the server; the next boot tries again" });
    }
  };
  const waitForServer = async (url: string) => {
    let delay = 250;
    for (;;) {
      try {
        return await fetchOnce(url);
      } catch (err) {
        const cause = (err as DatasourceError).cause;
        const unreachable = cause instanceof FetchError && (cause.kind === "connect" || cause.kind === "timeout");
        const remaining = ctx.deadline - h.clock.monoMs();
        if (!unreachable) throw err;
        if (remaining <= 0) {
          const waited = Math.round((h.clock.monoMs() - started) / 100) / 10;
          throw new DatasourceError(ds, `gave up waiting for the seed at ${base} after ${waited} s: ${cause.message}`, { cause, hint: networkWaitHint(ds) });
        }
        if (delay === 250) h.log.info(`[ds:${ds}] ${url} is not reachable yet (${cause.message}); waiting for the network up to ${Math.round(remaining / 1000)} s`);
        await h.clock.sleep(Math.min(delay, remaining));
        delay = Math.min(delay * 2, 2000);
      }
    }
  };
  const get = async (name: string, required: boolean): Promise<Buffer | null> => {
    const url = seedFileUrl(base, name);
    const res = required && scheme !== "file" ? await waitForServer(url) : await fetchOnce(url);
    if (res.status === 200) return res.body;
    if (res.status === 404 && !required) return null;
    throw new DatasourceError(ds, `seed file ${url} answered HTTP ${res.status}`, { hint: required ? "meta-data must exist at the seed URL" : "the server failed; check its logs" });
  };
  const warnings: string[] = [];
  /**
   * vendor-data and network-config: a seed works without them, so one the server will not
   * give (S3 answers 403 for a key that does not exist, a proxy 500) is a warning, and
   * the seed is used, as cloud-init ignores a vendor-data it cannot read.
   */
  const getOptional = async (name: string): Promise<Buffer | null> => {
    try {
      return await get(name, false);
    } catch (err) {
      const text = err instanceof SproutError ? err.message.slice(err.prefix.length + 1) : String(err);
      warnings.push(`${text}; the seed is used without its ${name}`);
      return null;
    }
  };
  const metaData = (await get("meta-data", true))!;
  return {
    where: `seed-url (${base})`,
    metaData,
    userData: await get("user-data", false),
    vendorData: await getOptional("vendor-data"),
    networkConfig: await getOptional("network-config"),
    warnings,
  };
}

/**
 * A seed directory or volume whose meta-data names `seedfrom: URL` is read from that URL,
 * as cloud-init does (a small cidata volume that only points at the real seed): the URL's
 * user-data and vendor-data are used, and its meta-data under the local one (the local
 * values win). Over http(s) in the local stage this defers to the network stage.
 */
async function followSeedfrom(h: Host, ctx: DatasourceContext, local: SeedFiles): Promise<SeedFiles> {
  const md = parseMetaData(local.metaData, seedSource(local));
  const seedfrom = md.seedfrom;
  if (seedfrom === undefined) return { ...local, parsedMetaData: md };
  if (typeof seedfrom !== "string" || !seedfrom.trim()) {
    throw new DatasourceError("NoCloud", `seedfrom in ${local.where}'s meta-data is not a URL`, { hint: "write seedfrom: http://host/path/ (or https://, file://), or remove it" });
  }
  const remote = await readSeedUrl(h, ctx, seedfrom.trim());
  return { ...remote, where: `${local.where} -> ${remote.where}`, networkConfig: local.networkConfig ?? remote.networkConfig, metaDataOver: md };
}

function seedSource(seed: SeedFiles): string {
  return seed.where.replace(/^.*\((.*)\)$/, "$1") + "/meta-data";
}

function toInstanceData(seed: SeedFiles, cmd: NoCloudCmdline | null): InstanceData {
  const parsed = seed.parsedMetaData ?? parseMetaData(seed.metaData, seedSource(seed));
  const md: JsonObject = seed.metaDataOver ? (deepMerge(parsed, seed.metaDataOver) as JsonObject) : parsed;
  // Values given on the kernel command line win over the seed's, as in cloud-init.
  if (cmd?.instanceId) md["instance-id"] = cmd.instanceId;
  if (cmd?.localHostname) md["local-hostname"] = cmd.localHostname;
  const iid = md["instance-id"] ?? "nocloud";
  if (typeof iid !== "string" && typeof iid !== "number") {
    throw new DatasourceError("NoCloud", `instance-id in ${seed.where} is a ${typeof iid}, not a string`, { hint: "write it as 'instance-id: iid-1'" });
  }
  const hostname = md["local-hostname"] ?? md.hostname ?? null;
  let networkConfig: unknown = null;
  const warnings = [...(seed.warnings ?? [])];
  if (seed.networkConfig) {
    const parsed = parseYaml(seed.networkConfig.toString("utf8"));
    // As cloud-init (load_yaml gives None): the seed's other files are used, and the
    // network comes up as without a network-config, with a warning that says why.
    if (parsed.errors.length > 0) warnings.push(`network-config in ${seed.where}: YAML error at line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}; it is ignored (the network is configured as without one): fix its YAML`);
    else networkConfig = parsed.value;
  }
  return {
    instanceId: String(iid),
    localHostname: hostname === null ? null : String(hostname),
    platform: "nocloud",
    cloudName: "nocloud",
    subplatform: seed.where,
    region: null,
    availabilityZone: null,
    publicSshKeys: normalizeSshKeys(md["public-keys"]),
    metaData: md,
    userData: seed.userData,
    vendorData: seed.vendorData,
    networkConfig,
    ...(warnings.length ? { warnings } : {}),
  };
}

export const noCloud: Datasource = {
  id: "NoCloud",
  phase: "local",

  async detect(h, ctx) {
    const dir = seedDirWithFiles(h);
    if (dir) return { reason: `seed directory ${dir}` };
    const cmd = cmdlineSeed(h, ctx);
    if (cmd) return { reason: `ds=${cmd.mode} on the kernel command line${cmd.seedfrom ? ` (seed ${cmd.seedfrom})` : ""}` };
    const configured = configuredSeedfrom(ctx);
    if (configured) return { reason: `datasource.NoCloud.seedfrom ${configured} in the system config` };
    if (seedDevicesConfigured(ctx)) return { reason: "datasource.NoCloud.devices in the system config" };
    const device = findSeedDevice(h, ctx);
    if (device) return { reason: `seed volume ${device.where}` };
    return null;
  },

  async fetch(h, ctx) {
    const cmd = cmdlineSeed(h, ctx);
    const dir = seedDirWithFiles(h);
    if (dir) return toInstanceData(await followSeedfrom(h, ctx, readSeedDir(h, dir)), cmd);
    const seedfrom = cmd?.seedfrom || configuredSeedfrom(ctx);
    if (seedfrom) return toInstanceData(await readSeedUrl(h, ctx, seedfrom), cmd);
    const device = findSeedDevice(h, ctx);
    if (device) return toInstanceData(await followSeedfrom(h, ctx, device), cmd);
    if (cmd) {
      // ds=nocloud;i=...;h=... alone: meta-data from the command line, no user-data.
      return toInstanceData({ where: "cmdline", metaData: Buffer.alloc(0), userData: null, vendorData: null, networkConfig: null }, cmd);
    }
    throw new DatasourceError("NoCloud", "no seed found", { hint: `put meta-data and user-data in ${SEED_DIRS[0]}/ or pass ds=nocloud;s=URL on the kernel command line` });
  },
};
