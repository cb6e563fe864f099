// `sprout seed nocloud|ovf`: write the seed ISO a person attaches to a VM to try an
// image: a NoCloud cidata ISO, or an OVF environment ISO (label "OVF ENV", the
// transport of an .ova's ovf:transport="iso"). Written by sprout's own ISO9660
// writer with Joliet names, so neither xorriso nor genisoimage is needed, and both
// sprout and cloud-init (which mounts it) read it.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { errorMessage } from "../errors";
import { createHost } from "../host";
import type { Host } from "../host/types";
import { buildIso, IsoWriteError, type IsoFile } from "../iso9660/writer";
import { OVF_ENV_NS } from "../../datasources/ovf/parse";
import { UsageError } from "./args";
import type { Command } from "./types";

const MAX_INPUT = 16 * 1024 * 1024;

const NOCLOUD_FILES = { "meta-data": "meta-data", "user-data": "user-data", "vendor-data": "vendor-data", "network-config": "network-config" } as const;
const ONLY_OVF = ["hostname", "instance-id", "seedfrom", "public-key", "password"];
const ONLY_NOCLOUD = ["meta-data", "vendor-data"];

function xmlAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/\r/g, "&#13;").replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}

/** An OVF environment document as vSphere writes it: one PropertySection of oe:key/oe:value pairs. */
export function ovfEnvXml(properties: Record<string, string>): string {
  const props = Object.entries(properties)
    .map(([k, v]) => `      <Property oe:key="${xmlAttr(k)}" oe:value="${xmlAttr(v)}"/>`)
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="${OVF_ENV_NS}" xmlns:oe="${OVF_ENV_NS}" oe:id="">
   <PlatformSection>
      <Kind>sprout seed</Kind>
   </PlatformSection>
   <PropertySection>
${props}
   </PropertySection>
</Environment>
`;
}

function readInput(h: Host, option: string, path: string): Buffer {
  const abs = resolve(path);
  const st = h.root.stat(abs);
  if (!st) throw new SeedError(`--${option} ${path}: no such file`);
  if (st.kind !== "file") throw new SeedError(`--${option} ${path}: not a regular file`);
  if (st.size > MAX_INPUT) throw new SeedError(`--${option} ${path}: ${st.size} bytes, more than the ${MAX_INPUT} a seed file may have`);
  return h.root.readFile(abs, MAX_INPUT);
}

class SeedError extends Error {}

/** The ISO's date: SOURCE_DATE_EPOCH when set, so image builds are reproducible. */
function isoDate(h: Host): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : h.clock.now();
}

function nocloudFiles(h: Host, o: Record<string, string | boolean | undefined>): { label: string; files: IsoFile[] } {
  for (const k of ONLY_OVF) if (o[k] !== undefined) throw new UsageError(`--${k} is for \`sprout seed ovf\`; for nocloud put it in the meta-data file`);
  if (typeof o["meta-data"] !== "string") throw new UsageError("sprout seed nocloud needs --meta-data FILE (at least 'instance-id: ...')");
  if (typeof o["user-data"] !== "string") throw new UsageError("sprout seed nocloud needs --user-data FILE (#cloud-config, a script, or MIME)");
  const files: IsoFile[] = [];
  for (const [opt, name] of Object.entries(NOCLOUD_FILES)) {
    const path = o[opt];
    if (typeof path === "string") files.push({ name, data: readInput(h, opt, path) });
  }
  return { label: "cidata", files };
}

function ovfFiles(h: Host, o: Record<string, string | boolean | undefined>): { label: string; files: IsoFile[] } {
  for (const k of ONLY_NOCLOUD) if (o[k] !== undefined) throw new UsageError(`--${k} is for \`sprout seed nocloud\``);
  if (typeof o["user-data"] !== "string") throw new UsageError("sprout seed ovf needs --user-data FILE");
  const userData = readInput(h, "user-data", o["user-data"]);
  const props: Record<string, string> = {};
  const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  const hostname = str("hostname");
  if (hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(hostname)) throw new UsageError(`--hostname ${JSON.stringify(hostname)} is not a host name (letters, digits, - and .)`);
  const keys = str("public-key") !== undefined ? readInput(h, "public-key", str("public-key")!).toString("utf8").trim() : undefined;
  const networkConfig = str("network-config") !== undefined ? readInput(h, "network-config", str("network-config")!) : undefined;
  // Without --instance-id the id follows the content: a changed seed is a new instance, the same seed is not.
  const digest = createHash("sha256").update(userData).update(hostname ?? "").update(keys ?? "").update(str("seedfrom") ?? "").update(networkConfig ?? "").digest("hex");
  props["instance-id"] = str("instance-id") ?? `iid-ovf-${digest.slice(0, 12)}`;
  if (hostname !== undefined) props.hostname = hostname;
  if (str("seedfrom") !== undefined) props.seedfrom = str("seedfrom")!;
  if (keys !== undefined) props["public-keys"] = keys;
  props["user-data"] = userData.toString("base64");
  if (str("password") !== undefined) props.password = str("password")!;
  if (networkConfig !== undefined) props["network-config"] = networkConfig.toString("base64");
  return { label: "OVF ENV", files: [{ name: "ovf-env.xml", data: Buffer.from(ovfEnvXml(props), "utf8") }] };
}

export const seedCommand: Command = {
  name: "seed",
  summary: "write a seed ISO: NoCloud (label cidata) or an OVF environment (label OVF ENV)",
  usage:
    "sprout seed nocloud --meta-data F --user-data F [--vendor-data F] [--network-config F] -o seed.iso\n" +
    "       sprout seed ovf --user-data F [--hostname H] [--instance-id I] [--seedfrom URL] [--public-key F] [--password P] [--network-config F] -o ovf.iso",
  options: {
    output: { type: "string", short: "o", value: "FILE", help: "the ISO to write (replaced atomically)" },
    "meta-data": { type: "string", value: "FILE", help: "nocloud: meta-data (YAML: instance-id, local-hostname, ...)" },
    "user-data": { type: "string", value: "FILE", help: "user-data (#cloud-config, #! script, MIME)" },
    "vendor-data": { type: "string", value: "FILE", help: "nocloud: vendor-data" },
    "network-config": { type: "string", value: "FILE", help: "network-config (YAML, version 1 or 2)" },
    hostname: { type: "string", value: "NAME", help: "ovf: the hostname property" },
    "instance-id": { type: "string", value: "ID", help: "ovf: the instance-id (default: derived from the content)" },
    seedfrom: { type: "string", value: "URL", help: "ovf: a NoCloud seed URL to read meta-data and user-data from" },
    "public-key": { type: "string", value: "FILE", help: "ovf: ssh public key(s) for the default user" },
    password: { type: "string", value: "PASSWORD", help: "ovf: the default user's password (expires at first login; RANDOM for a random one)" },
  },
  details:
    "Attach the ISO as a CD-ROM: cloud-init and sprout find it by its label. The ISO is written by sprout itself\n" +
    "(ISO9660 + Joliet); no xorriso or genisoimage needed. SOURCE_DATE_EPOCH fixes its timestamps.\n" +
    "Exit 0 written, 1 an input cannot be read or the ISO cannot be written, 2 usage error.",
  async run(a, g) {
    const kind = a.positionals[0];
    if (a.positionals.length !== 1 || (kind !== "nocloud" && kind !== "ovf")) throw new UsageError("say which seed: `sprout seed nocloud ...` or `sprout seed ovf ...`");
    const out = a.options.output;
    if (typeof out !== "string") throw new UsageError("-o FILE is required: where to write the ISO");
    const h = createHost({ root: "/", logFile: null });
    try {
      const { label, files } = kind === "nocloud" ? nocloudFiles(h, a.options) : ovfFiles(h, a.options);
      const image = buildIso({ label, files, date: isoDate(h) });
      const dest = resolve(out);
      h.root.writeAtomic(dest, image, { mode: 0o644 });
      g.out(`wrote ${dest} (${image.length} bytes, label ${JSON.stringify(label)}: ${files.map((f) => f.name).join(", ")})\n`);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      if (err instanceof SeedError || err instanceof IsoWriteError) {
        g.err(`sprout seed: ${err.message}\n`);
        return 1;
      }
      g.err(`sprout seed: cannot write ${out}: ${errorMessage(err)} (check that the directory exists and is writable)\n`);
      return 1;
    }
  },
};
