// OVF: the OVF environment (ovf-env.xml) a vApp host hands the guest, found in order in
//   1. the seed file /var/lib/cloud/seed/ovf-env.xml,
//   2. a CD/DVD drive (/dev/sr*, /dev/hd*, /dev/xvd* listed in /sys/block) whose ISO
//      holds ovf-env.xml (any case, - or _) or whose label is OVF ENV / OVFENV / OVF-TRANSPORT,
//   3. VMware's guestinfo.ovfEnv through vmware-rpctool, when that tool is installed,
//   4. datasource.OVF.devices: devices or image files named in the system config.
// The ISO is read with sprout's own ISO9660 reader: no mount, no subprocess.
// Properties are cloud-init's (instance-id, hostname, seedfrom, public-keys, user-data,
// password, network-config), so an .ova made for cloud-init works unchanged.
import { configuredDevices, listBlockDevices } from "../../agent/seed-media";
import { DatasourceError, errorMessage } from "../../agent/errors";
import type { Host } from "../../agent/host/types";
import { IsoError, openIso, type IsoImage } from "../../agent/iso9660";
import { normalizeSshKeys } from "../../agent/platform";
import { sha512Crypt } from "../../agent/sha512-crypt";
import type { Datasource, DatasourceContext, InstanceData, JsonObject } from "../../agent/types";
import { readSeedUrl } from "../nocloud";
import { parseMetaData } from "../nocloud/parse";
import { parseYaml } from "../../agent/yaml";

export const SEED_FILE = "/var/lib/cloud/seed/ovf-env.xml";
/** Looked up case-insensitively: covers OVF-ENV.XML, OVF_ENV.XML and plain ISO9660 names. */
const ENV_NAMES = ["ovf-env.xml", "ovf_env.xml"];
const LABELS = ["OVF ENV", "OVFENV", "OVF-TRANSPORT"];
const CD_DEVICE = /^(sr|hd|xvd)[a-z0-9]*$/;
const MAX_ENV = 4 * 1024 * 1024;
const RPCTOOL_TIMEOUT_MS = 3000;

interface Located {
  /** subplatform, e.g. "iso (/dev/sr0)". */
  where: string;
  /** The XML, or null for an ISO labelled as an OVF transport without an environment file (an error at fetch). */
  xml: Buffer | null;
}

/** detect() and fetch() look once per Host: the devices and guestinfo do not change within a boot. */
const located = new WeakMap<Host, Promise<Located | null>>();

function locate(h: Host, ctx: DatasourceContext): Promise<Located | null> {
  let p = located.get(h);
  if (!p) {
    p = search(h, ctx);
    located.set(h, p);
    // A failure (e.g. a configured device that is missing) is not cached: it is reported by whoever asks.
    p.catch(() => located.delete(h));
  }
  return p;
}

async function search(h: Host, ctx: DatasourceContext): Promise<Located | null> {
  const seed = seedFile(h);
  if (seed) return seed;
  for (const dev of listBlockDevices(h.root, { match: CD_DEVICE })) {
    const found = fromIsoDevice(h, dev.path, false);
    if (found) return found;
  }
  const guest = await fromGuestinfo(h);
  if (guest) return guest;
  for (const path of configuredDevices("OVF", ctx, "/dev/sr1, /var/lib/ovf.iso")) {
    const found = fromIsoDevice(h, path, true);
    if (found) return found;
  }
  return null;
}

function seedFile(h: Host): Located | null {
  const st = h.root.stat(SEED_FILE);
  if (!st) return null;
  if (st.kind !== "file") throw new DatasourceError("OVF", `${SEED_FILE} is a ${st.kind}, not a file`, { hint: "put the OVF environment XML in that file" });
  return { where: `seed-file (${SEED_FILE})`, xml: h.root.readFile(SEED_FILE, MAX_ENV) };
}

function isTransportLabel(img: IsoImage): boolean {
  let label: string | null = null;
  try {
    label = img.label;
  } catch {
    // a label that is not ASCII is not one of ours; the Joliet label may still be
  }
  return [label, img.jolietLabel].some((l) => l !== null && LABELS.includes(l.toUpperCase()));
}

/**
 * The environment on one ISO device or image. Found devices that are not ours (no
 * media, not an ISO, no environment) are skipped quietly; a device the admin named
 * (`strict`) that cannot be read is an error that says why.
 */
function fromIsoDevice(h: Host, path: string, strict: boolean): Located | null {
  const where = `iso (${path})`;
  let dev;
  try {
    dev = h.root.openBlock(path);
  } catch (err) {
    if (!strict) return null;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasourceError("OVF", `cannot open ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: code === "ENOMEDIUM" ? "insert the OVF environment ISO into the drive" : code === "ENOENT" ? "check datasource.OVF.devices: that path does not exist" : "check the device and its permissions",
    });
  }
  try {
    if (dev.size === 0) {
      if (!strict) return null;
      throw new DatasourceError("OVF", `${path} is empty (a drive with no media?)`, { hint: "attach the OVF environment ISO, or remove the path from datasource.OVF.devices" });
    }
    const img = openIso(dev);
    for (const name of ENV_NAMES) {
      const e = img.stat(name);
      if (e && !e.isDir) return { where, xml: img.readFile(name, MAX_ENV) };
    }
    if (isTransportLabel(img)) return { where, xml: null };
    if (strict) throw new DatasourceError("OVF", `${path} has no ovf-env.xml and is not labelled OVF ENV`, { hint: "make the ISO with `sprout seed ovf`, or name the right device in datasource.OVF.devices" });
    return null;
  } catch (err) {
    if (err instanceof DatasourceError) throw err;
    if (err instanceof IsoError) {
      if (!strict) {
        h.log.debug(`ovf: ${path} skipped: ${err.message}`);
        return null;
      }
      throw new DatasourceError("OVF", `cannot read the ISO ${path}: ${err.message}`, { cause: err, hint: err.hint ?? "write the ISO again" });
    }
    throw err;
  } finally {
    dev.close();
  }
}

/** VMware's guestinfo.ovfEnv, set by vCenter for vApps (or `vmware-rpctool "info-set guestinfo.ovfEnv ..."`). */
async function fromGuestinfo(h: Host): Promise<Located | null> {
  const tool = h.run.which("vmware-rpctool");
  if (!tool) return null;
  const r = await h.run.run([tool, "info-get guestinfo.ovfEnv"], { timeoutMs: RPCTOOL_TIMEOUT_MS, maxCapture: MAX_ENV });
  if (r.timedOut) h.log.warn(`ovf: vmware-rpctool did not answer within ${RPCTOOL_TIMEOUT_MS} ms; guestinfo skipped`);
  // Exit 1 means "no such key": this VM has no OVF environment in guestinfo.
  if (r.code !== 0 || r.stdout.toString("utf8").trim() === "") return null;
  return { where: "guestinfo (guestinfo.ovfEnv)", xml: r.stdout };
}

async function fetchOvf(h: Host, ctx: DatasourceContext): Promise<InstanceData> {
  const found = await locate(h, ctx);
  if (!found) {
    throw new DatasourceError("OVF", "no OVF environment found", { hint: `attach the OVF environment ISO, put ovf-env.xml in ${SEED_FILE}, or name the ISO in datasource.OVF.devices` });
  }
  if (!found.xml) {
    throw new DatasourceError("OVF", `${found.where} is labelled as an OVF transport but holds no ovf-env.xml`, { hint: "write the ISO again with the environment at /ovf-env.xml (sprout seed ovf)" });
  }
  const { parseOvfEnv } = await import("./parse");
  const env = parseOvfEnv(found.xml, found.where);
  let metaData: JsonObject = env.metaData;
  let userData = env.userData;
  let vendorData: Buffer | null = null;
  let networkConfig = env.networkConfig;
  let subplatform = found.where;
  const warnings = [...env.warnings];
  if (env.seedfrom) {
    // cloud-init takes a plain path as a file:// URL, and appends the file name to seedfrom
    // as it is ("http://h/sm-" -> "http://h/sm-meta-data").
    const url = env.seedfrom.startsWith("/") ? `file://${env.seedfrom}` : env.seedfrom;
    const base = url.includes("%s") || url.endsWith("/") ? url : `${url}%s`;
    const seed = await readSeedUrl(h, ctx, base, "OVF");
    // As in cloud-init: the OVF properties win in meta-data, the seed's user-data replaces the property's.
    metaData = { ...parseMetaData(seed.metaData, `${env.seedfrom}meta-data`), ...metaData };
    userData = seed.userData ?? userData;
    vendorData = seed.vendorData;
    warnings.push(...(seed.warnings ?? []));
    if (networkConfig === null && seed.networkConfig) {
      const parsed = parseYaml(seed.networkConfig.toString("utf8"));
      // As for a NoCloud seed: the rest of the seed is used, the network configured as without it.
      if (parsed.errors.length) warnings.push(`network-config from ${env.seedfrom}: YAML error at line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}; it is ignored (the network is configured as without one): fix its YAML`);
      else networkConfig = parsed.value ?? null;
    }
    subplatform += ` seed (${env.seedfrom})`;
  }
  const extraDs: JsonObject = { ovf_properties: { ...env.properties } };
  const sensitivePaths: string[] = [];
  if (env.password !== null) {
    // Never stored in clear. set_passwords gives the default user this hash (or a generated
    // password for RANDOM) as cloud-init does with the property: below the cloud-config's own
    // password: and chpasswd, expired unless chpasswd.expire is false.
    (extraDs.ovf_properties as JsonObject).password = "(hashed in default_user.hashed_passwd)";
    extraDs.default_user = env.password === "RANDOM" ? { random_passwd: true } : { hashed_passwd: sha512Crypt(env.password) };
    sensitivePaths.push("default_user");
  }
  if ("user-data" in env.properties) sensitivePaths.push("ovf_properties.user-data");
  const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : null);
  const instanceId = str(metaData["instance-id"]) ?? env.instanceId;
  metaData["instance-id"] = instanceId;
  return {
    instanceId,
    localHostname: str(metaData["local-hostname"]) ?? str(metaData.hostname),
    platform: "ovf",
    cloudName: "ovf",
    subplatform,
    region: null,
    availabilityZone: null,
    publicSshKeys: env.publicKeys.length ? env.publicKeys : normalizeSshKeys(metaData["public-keys"]),
    metaData,
    userData,
    vendorData,
    networkConfig,
    extraDs,
    sensitivePaths,
    ...(warnings.length ? { warnings } : {}),
  };
}

export const ovf: Datasource = {
  id: "OVF",
  phase: "local",

  async detect(h, ctx) {
    try {
      const found = await locate(h, ctx);
      if (found) return { reason: `OVF environment in ${found.where}` };
      return null;
    } catch (err) {
      // A source that is there but broken (a named device that is missing, a seed path that is a directory) is
      // still this datasource's: fetch reports the error, so the boot records it instead of silently falling back.
      return { reason: `an OVF source that fails: ${errorMessage(err)}` };
    }
  },

  fetch: fetchOvf,
};
