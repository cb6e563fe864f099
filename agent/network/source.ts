// Which network-config applies, in cloud-init's order (stages.py
// _find_networking_config): the kernel command line (`network-config=<base64>` or
// `network-config=disabled`), the system config's `network:` key, the datasource's
// network-config; the first that says `config: disabled` switches rendering off.
// cloud-init's own switch file (/etc/cloud/cloud.cfg.d/*.cfg with
// `network: {config: disabled}`) is honoured too: an image built to keep its own
// network keeps it under sprout.
import { cmdlineValue, type Cmdline } from "../cmdline";
import type { TargetRoot } from "../host/types";
import { isPlainObject } from "../merge";
import type { CloudConfig } from "../types";
import { parseYaml } from "../yaml";
import { NetworkConfigError } from "./state";
import { gunzipCapped, isGzip } from "../userdata/gzip";

export type NetworkConfigChoice =
  | { kind: "disabled"; source: string }
  | { kind: "config"; source: string; config: unknown }
  | { kind: "none" };

const CLOUD_CFG_DIR = "/etc/cloud/cloud.cfg.d";

function withoutNetworkKey(cfg: unknown): unknown {
  return isPlainObject(cfg) && "network" in cfg && cfg.version === undefined ? cfg.network : cfg;
}

const isDisabled = (cfg: unknown) => isPlainObject(cfg) && cfg.config === "disabled";
const isGiven = (cfg: unknown) => cfg !== null && cfg !== undefined && cfg !== false && !(isPlainObject(cfg) && Object.keys(cfg).length === 0);

/** `network-config=` on the kernel command line: "disabled", or YAML in base64 (gzipped or not). */
export function cmdlineNetworkConfig(cmdline: Cmdline): unknown {
  const value = cmdlineValue(cmdline, "network-config");
  if (value === null || value === "") return null;
  if (value === "disabled") return { config: "disabled" };
  if (!/^[A-Za-z0-9+/=_-]+$/.test(value)) throw new NetworkConfigError(`network-config= on the kernel command line is not base64; write network-config=disabled or the YAML in base64 (base64 -w0 network-config)`);
  let bytes: Buffer = Buffer.from(value, "base64");
  if (isGzip(bytes)) {
    try {
      bytes = gunzipCapped(bytes, 1024 * 1024);
    } catch (err) {
      throw new NetworkConfigError(`network-config= on the kernel command line is gzip that does not unpack (${(err as Error).message})`);
    }
  }
  const parsed = parseYaml(bytes.toString("utf8"));
  if (parsed.errors.length) throw new NetworkConfigError(`network-config= on the kernel command line: YAML error at line ${parsed.errors[0]!.line ?? "?"}: ${parsed.errors[0]!.message}`);
  return parsed.value;
}

/** A `network: {config: disabled}` in cloud-init's own config files, or null. */
function cloudInitSwitch(root: TargetRoot): string | null {
  let names: string[];
  try {
    names = root.readdir(CLOUD_CFG_DIR);
  } catch {
    return null;
  }
  for (const name of names.filter((n) => n.endsWith(".cfg")).sort()) {
    const text = root.tryReadText(`${CLOUD_CFG_DIR}/${name}`, 1024 * 1024);
    if (text === null || !text.includes("disabled")) continue;
    const doc = parseYaml(text).value;
    if (isPlainObject(doc) && isDisabled(withoutNetworkKey(doc.network))) return `${CLOUD_CFG_DIR}/${name}`;
  }
  return null;
}

export function chooseNetworkConfig(input: { root: TargetRoot; cmdline: Cmdline; system: CloudConfig; datasource: { id: string; config: unknown } | null }): NetworkConfigChoice {
  const candidates: Array<[string, () => unknown]> = [
    ["the kernel command line (network-config=)", () => cmdlineNetworkConfig(input.cmdline)],
    ["the system config (network:)", () => input.system.network],
    [`cloud-init's config (${CLOUD_CFG_DIR})`, () => (cloudInitSwitch(input.root) ? { config: "disabled" } : null)],
    [`the datasource ${input.datasource?.id ?? ""}'s network-config`.replace("  ", " "), () => input.datasource?.config ?? null],
  ];
  for (const [source, read] of candidates) {
    const cfg = withoutNetworkKey(read());
    if (isDisabled(cfg)) return { kind: "disabled", source: source === candidates[2]![0] ? cloudInitSwitch(input.root)! : source };
    if (isGiven(cfg)) return { kind: "config", source, config: cfg };
  }
  return { kind: "none" };
}
