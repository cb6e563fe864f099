// Pure parser for the OVF environment (DSP0243: http://schemas.dmtf.org/ovf/environment/1),
// the ovf-env.xml a hypervisor puts on the transport ISO or in VMware's guestinfo.
// The XML is read by ./xml.ts, which refuses any DTD and knows only the predefined
// entities and character references, so a DOCTYPE, an external entity or a
// billion-laughs payload reads nothing from outside and expands nothing.
import { DatasourceError } from "../../agent/errors";
import { normalizeSshKeys } from "../../agent/platform";
import type { JsonObject } from "../../agent/types";
import { utf8Text } from "../../agent/utf8";
import { parseYaml } from "../../agent/yaml";
import { attribute, lineCol, readXml, XmlDtdError, XmlSyntaxError, type XmlElement } from "./xml";

export const OVF_ENV_NS = "http://schemas.dmtf.org/ovf/environment/1";
export const DEFAULT_INSTANCE_ID = "iid-dsovf";
export const MAX_OVF_ENV = 4 * 1024 * 1024;

export interface OvfEnv {
  /** Every Property of the PropertySection, key -> value, as written. */
  properties: Record<string, string>;
  instanceId: string;
  localHostname: string | null;
  seedfrom: string | null;
  publicKeys: string[];
  userData: Buffer | null;
  /** The default user's password as given (plain text or "RANDOM"): hash it before storing it. */
  password: string | null;
  networkConfig: unknown;
  /** What was given but cannot be used (a network-config that is not base64 YAML): the rest of the environment is. */
  warnings: string[];
  /** cloud-init's meta-data view: the instance-id, local-hostname, public-keys and seedfrom that were given. */
  metaData: JsonObject;
}

function fail(where: string, message: string, hint: string): never {
  throw new DatasourceError("OVF", `${where}: ${message}`, { hint });
}

export function parseOvfEnv(input: Buffer | string, where = "ovf-env.xml"): OvfEnv {
  if (input.length > MAX_OVF_ENV) fail(where, `${input.length} bytes, more than the ${MAX_OVF_ENV} an OVF environment may have`, "pass large user-data through seedfrom instead of the OVF properties");
  const xml = typeof input === "string" ? input : utf8Text(input);
  if (xml === null) fail(where, "is not UTF-8 text", "the OVF environment must be UTF-8 XML; check what wrote it");
  let root: XmlElement;
  try {
    root = readXml(xml);
  } catch (err) {
    if (err instanceof XmlDtdError) {
      fail(where, "has a DOCTYPE or entity declarations, which sprout refuses (they can read local files or expand without bound)", "an OVF environment needs no DTD: remove the <!DOCTYPE ...> block");
    }
    if (!(err instanceof XmlSyntaxError)) throw err;
    const { line, col } = lineCol(xml, err.offset);
    throw new DatasourceError("OVF", `${where}: not well-formed XML at line ${line} column ${col}: ${err.message}`, {
      hint: "fix the XML (every tag closed, attributes quoted) or regenerate the OVF environment",
      location: { file: where, line, col },
    });
  }
  if (root.local !== "Environment") fail(where, `has no <Environment> element (its root is <${root.name}>)`, `this is not an OVF environment (namespace ${OVF_ENV_NS})`);

  // Every Property of the first PropertySection, by local name (oe:Property and Property alike);
  // a later key wins. cloud-init reads only the first section: a second one must not change what a seed does.
  const properties: Record<string, string> = {};
  // cloud-init renames hostname to local-hostname as it reads: whichever of the two comes later wins.
  let hostnameKey: string | null = null;
  const section = root.children.find((c) => c.local === "PropertySection");
  for (const p of section?.children ?? []) {
    if (p.local !== "Property") continue;
    const key = attribute(p, "key");
    if (key === undefined) continue;
    properties[key] = attribute(p, "value") ?? "";
    if (key === "hostname" || key === "local-hostname") hostnameKey = key;
  }
  return interpret(properties, hostnameKey, where);
}

/** cloud-init's reading of the properties: hostname means local-hostname, user-data and network-config are base64. */
function interpret(props: Record<string, string>, hostnameKey: string | null, where: string): OvfEnv {
  const val = (k: string) => (props[k] !== undefined && props[k]!.trim() !== "" ? props[k]!.trim() : null);
  const instanceId = val("instance-id") ?? DEFAULT_INSTANCE_ID;
  const localHostname = hostnameKey ? val(hostnameKey) : null;
  const seedfrom = val("seedfrom");
  const publicKeys = normalizeSshKeys(props["public-keys"] ?? "");
  // The default instance-id is not meta-data: a seedfrom seed's instance-id must still win over it.
  const metaData: JsonObject = {};
  if (val("instance-id")) metaData["instance-id"] = instanceId;
  if (localHostname) metaData["local-hostname"] = localHostname;
  if (publicKeys.length) metaData["public-keys"] = publicKeys;
  if (seedfrom) metaData.seedfrom = seedfrom;

  const rawUd = props["user-data"];
  const userData = rawUd ? decodeUserData(rawUd, where) : null;

  // A network-config that cannot be read is ignored and the rest of the environment used,
  // as cloud-init does ("Ignore network-config in wrong format"), with a warning that says why.
  let networkConfig: unknown = null;
  const warnings: string[] = [];
  const nc = val("network-config");
  if (nc) {
    const ignored = (why: string, fix: string) => warnings.push(`${where}: ${why}; it is ignored (the network is configured as without one): ${fix}`);
    const bytes = strictBase64(nc);
    const text = bytes && utf8Text(bytes);
    const parsed = text ? parseYaml(text) : null;
    if (!bytes) ignored("the network-config property is not base64", "encode network-config with `base64 -w0 network-config.yaml`");
    else if (text === null) ignored("the network-config property decodes to bytes that are not UTF-8 text", "encode a YAML network-config (version 1 or 2) with base64");
    else if (parsed && parsed.errors.length) ignored(`network-config: YAML error at line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}`, "fix the YAML of network-config, then base64-encode it again");
    else networkConfig = parsed?.value ?? null;
  }
  return { properties: props, instanceId, localHostname, seedfrom, publicKeys, userData, password: val("password"), networkConfig, warnings, metaData };
}

/**
 * user-data is base64 (cloud-init's convention for an XML attribute) or, when it is
 * not, the text itself. Decoded bytes count only when they are text or gzip: "test"
 * is valid base64 too, and means the word.
 */
export function decodeUserData(value: string, where = "ovf-env.xml"): Buffer {
  const decoded = strictBase64(value);
  if (decoded && (utf8Text(decoded) !== null || (decoded[0] === 0x1f && decoded[1] === 0x8b))) return decoded;
  if (!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(value)) return Buffer.from(value, "utf8");
  fail(where, "the user-data property is neither base64 nor text (it has control characters)", "encode user-data with `base64 -w0 user-data` and put the result in the property");
}

function strictBase64(value: string): Buffer | null {
  const s = value.replace(/\s+/g, "");
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  return Buffer.from(s, "base64");
}

