// Renders the network configuration in the local stage, before the network comes
// up, as cloud-init does: pick the network-config (./source), fall back to DHCP on
// the likeliest NIC when none is given (./nics), parse it (./state), render it for
// ifupdown when the image has it, else for systemd-networkd (cloud-init's Debian
// order), and write the files atomically under the target root. Once per instance
// (cloud-init renders on a new instance only); on other boots only the NIC names
// are put right. A document that does not parse is reported and nothing is
// written: the network stays as the image had it. Nothing here brings a link up,
// and nothing touches a live NIC unless the target is the running system (--root /).
import type { Cmdline } from "../cmdline";
import type { Host, Runner, TargetRoot } from "../host/types";
import { isPlainObject } from "../merge";
import { systemdRunsTarget } from "../platform";
import { describeFailure } from "../target-command";
import type { CloudConfig } from "../types";
import { ENI_FILE, renderEni } from "./eni";
import { NETPLAN_FILE, renderNetplan, staleDefaultNetplan } from "./netplan";
import { NETWORKD_DIR, renderNetworkd } from "./networkd";
import { fallbackConfig, nicsByMac, readNics, type Nic } from "./nics";
import { chooseNetworkConfig } from "./source";
import { NetworkConfigError, parseNetworkConfig, type NetworkState } from "./state";

export { NetworkConfigError } from "./state";

export type RendererName = "eni" | "netplan" | "networkd";
/** cloud-init's default priority (eni, sysconfig, netplan, networkd), less the renderers Debian has no use for. */
const RENDERERS: RendererName[] = ["eni", "netplan", "networkd"];
/** What each writes, for the boot's log line. */
const RENDERED: Record<RendererName, { tool: string; where: string }> = {
  eni: { tool: "ifupdown", where: ENI_FILE },
  netplan: { tool: "netplan", where: NETPLAN_FILE },
  networkd: { tool: "systemd-networkd", where: `${NETWORKD_DIR}/10-cloud-init-*` },
};
const NETPLAN_TIMEOUT_MS = 60_000;

export interface NetworkApplyInput {
  cmdline: Cmdline;
  system: CloudConfig;
  /** The datasource's id and network-config (null: none given, or no datasource yet). */
  datasource: { id: string; config: unknown } | null;
  /** False on a later boot of the same instance: then only NIC names are put right. */
  newInstance: boolean;
  /**
   * Bring the rendered interfaces up now, on the running system: true when rendering in
   * the network stage, after the image's own networking has started (what a datasource
   * that needs the network, like EC2, gives arrives then), as cloud-init does.
   */
  bringUp?: boolean;
}

export interface NetworkApplyResult {
  status: "written" | "disabled" | "unchanged" | "nothing" | "failed";
  detail: string;
  /** Each makes the boot degraded. */
  errors: string[];
  warnings: string[];
  files: string[];
}

const LEFT_AS_IS = "nothing was written; the network is left as the image had it";
const LEGACY_ETH0 = "/etc/network/interfaces.d/eth0.cfg";

function inRoot(root: TargetRoot, dirs: string[], name: string): boolean {
  return dirs.some((d) => root.exists(`${d}/${name}`));
}

/** cloud-init's availability checks, looked up under the target root. */
export function rendererAvailable(root: TargetRoot, name: RendererName): boolean {
  if (name === "eni") return ["ifquery", "ifup", "ifdown"].every((p) => inRoot(root, ["/sbin", "/usr/sbin"], p)) && root.stat("/etc/network/interfaces")?.kind === "file";
  if (name === "netplan") return inRoot(root, ["/usr/sbin", "/sbin"], "netplan");
  return inRoot(root, ["/bin", "/usr/bin"], "systemctl") && inRoot(root, ["/lib/systemd", "/usr/lib/systemd"], "systemd-networkd");
}

/** system_info.network.renderers (cloud-init's key), else eni then networkd. */
export function pickRenderer(root: TargetRoot, system: CloudConfig, warnings: string[]): RendererName | null {
  const si = isPlainObject(system.system_info) ? system.system_info : {};
  const net = isPlainObject(si.network) ? si.network : {};
  let order: RendererName[] = RENDERERS;
  if (Array.isArray(net.renderers)) {
    order = [];
    for (const r of net.renderers.map(String)) {
      if ((RENDERERS as string[]).includes(r)) order.push(r as RendererName);
      else warnings.push(`system_info.network.renderers names ${JSON.stringify(r)}, which sprout does not have (it has ${RENDERERS.join(", ")}); skipped`);
    }
  }
  return order.find((r) => rendererAvailable(root, r)) ?? null;
}

function render(name: RendererName, ns: NetworkState, config: unknown): Map<string, string> {
  return name === "eni" ? renderEni(ns) : name === "netplan" ? renderNetplan(ns, config) : renderNetworkd(ns);
}

/** Physical interfaces whose MAC is on the machine under another name: [current, wanted]. */
export function plannedRenames(ns: NetworkState, nics: Nic[]): Array<[string, string]> {
  const byMac = nicsByMac(nics);
  const out: Array<[string, string]> = [];
  for (const iface of ns.interfaces.values()) {
    if (iface.type !== "physical" || !iface.mac_address) continue;
    const current = byMac.get(iface.mac_address.toLowerCase());
    if (current && current !== iface.name) out.push([current, iface.name]);
  }
  return out;
}

/**
 * Renames NICs with `ip link` (the rendered files name them by their new names).
 * Only for the running system: applyNetworkConfig calls it when the target root is /.
 */
export async function renameLive(run: Runner, renames: Array<[string, string]>, warnings: string[]): Promise<void> {
  for (const [from, to] of renames) {
    for (const argv of [["ip", "link", "set", "dev", from, "down"], ["ip", "link", "set", "dev", from, "name", to]]) {
      const r = await run.run(argv, { timeoutMs: 10_000 });
      if (r.code !== 0) {
        warnings.push(`could not rename ${from} to ${to} (${argv.join(" ")}: ${describeFailure(r, 10_000)}); the rendered files take effect after a reboot`);
        break;
      }
    }
  }
}

const BRING_UP_TIMEOUT_MS = 30_000;

/** As cloud-init's postcmds on Debian: netplan writes its networkd files for this boot at once. Running system only. */
export async function netplanGenerate(run: Runner, warnings: string[]): Promise<void> {
  const r = await run.run(["netplan", "generate"], { timeoutMs: NETPLAN_TIMEOUT_MS });
  if (r.code !== 0) warnings.push(`[network] netplan generate failed (${describeFailure(r, NETPLAN_TIMEOUT_MS)}); ${NETPLAN_FILE} is written and netplan reads it at the next boot`);
}

/**
 * Brings the rendered interfaces up, as cloud-init's activators do: `ifup NAME` for each
 * (ifupdown leaves one that is up alone), `netplan apply`, or a restart of systemd-networkd. Each call is
 * bounded; a failure is a warning, since the files take effect at the next boot anyway.
 */
export async function bringUpLive(h: Host, renderer: RendererName, names: string[], warnings: string[]): Promise<void> {
  const calls =
    renderer === "eni" ? names.filter((n) => n !== "lo").map((n) => ["ifup", n]) : renderer === "netplan" ? [["netplan", "apply"]] : systemdRunsTarget(h) ? [["systemctl", "restart", "systemd-networkd"]] : [];
  for (const argv of calls) {
    const r = await h.run.run(argv, { timeoutMs: BRING_UP_TIMEOUT_MS });
    if (r.code !== 0) warnings.push(`[network] ${argv.join(" ")} failed (${describeFailure(r, BRING_UP_TIMEOUT_MS)}); ${bringUpAdvice(renderer, `${r.stdout.toString()}${r.stderr.toString()}`)}`);
  }
}

/** What a person does about a failed bring-up. ifupdown runs an external DHCP client, which a minimal image may lack: then no boot will ever get an address. */
function bringUpAdvice(renderer: RendererName, output: string): string {
  if (renderer === "eni" && /No DHCP client software found/i.test(output)) {
    return "the image has no DHCP client for ifupdown: install isc-dhcp-client (or dhcpcd-base, udhcpc) in the image, or let systemd-networkd manage the network (system_info.network.renderers: [networkd])";
  }
  return "the configuration is written and takes effect at the next boot";
}

function writeFiles(h: Host, renderer: RendererName, files: Map<string, string>): void {
  if (renderer === "netplan") {
    for (const path of staleDefaultNetplan((p) => h.root.tryReadText(p, 64 * 1024), (p) => h.root.stat(p)?.kind === "file")) h.root.remove(path);
  }
  for (const [path, content] of files) {
    h.root.mkdirp(path.slice(0, path.lastIndexOf("/")), 0o755);
    // netplan warns about a file others can read (it may hold Wi-Fi keys); newer cloud-init writes 0600 too.
    h.root.writeAtomic(path, content, { mode: renderer === "netplan" ? 0o600 : 0o644 });
  }
  if (renderer === "networkd") {
    // Files of an earlier render that this one does not write (an interface that is gone).
    for (const name of h.root.readdir(NETWORKD_DIR)) {
      const path = `${NETWORKD_DIR}/${name}`;
      if (/^10-cloud-init-.*\.(network|netdev|link)$/.test(name) && !files.has(path)) h.root.remove(path);
    }
  } else {
    // As cloud-init on Debian: old images' eth0.cfg with the stock content would fight the rendered file.
    const legacy = h.root.tryReadText(LEGACY_ETH0);
    if (legacy !== null) {
      const lines = legacy.split("\n").filter((l) => !l.startsWith("#")).map((l) => l.trim()).filter(Boolean);
      if (lines.join("\n") === "auto eth0\niface eth0 inet dhcp") h.root.remove(LEGACY_ETH0);
    }
  }
}

export async function applyNetworkConfig(h: Host, input: NetworkApplyInput): Promise<NetworkApplyResult> {
  const warnings: string[] = [];
  const result = (status: NetworkApplyResult["status"], detail: string, errors: string[] = [], files: string[] = []): NetworkApplyResult => ({ status, detail, errors, warnings, files });
  let choice;
  try {
    choice = chooseNetworkConfig({ root: h.root, cmdline: input.cmdline, system: input.system, datasource: input.datasource });
  } catch (err) {
    if (!(err instanceof NetworkConfigError)) throw err;
    return result("failed", LEFT_AS_IS, [`[network] ${err.message}; ${LEFT_AS_IS}`]);
  }
  if (choice.kind === "disabled") return result("disabled", `network configuration is disabled by ${choice.source}`);
  const nics = readNics(h.root);
  let config: unknown;
  let source: string;
  if (choice.kind === "config") {
    config = choice.config;
    source = choice.source;
  } else {
    config = fallbackConfig(nics);
    source = "the fallback (DHCP on the first NIC with a carrier)";
    if (config === null) return result("nothing", `no network-config was given and ${h.root.isSystemRoot ? "" : `${h.root.dir}`}/sys/class/net shows no NIC to fall back to; nothing written`);
  }
  let ns: NetworkState;
  try {
    ns = parseNetworkConfig(config, { nicsByMac: nicsByMac(nics) });
  } catch (err) {
    if (!(err instanceof NetworkConfigError)) throw err;
    return result("failed", LEFT_AS_IS, [`[network] network-config from ${source}: ${err.message}; ${LEFT_AS_IS}. Fix it, or set network: {config: disabled} in /etc/sprout/config.d/`]);
  }
  warnings.push(...ns.warnings.map((w) => `[network] ${w}`));
  const renames = plannedRenames(ns, nics);
  if (!input.newInstance) {
    if (h.root.isSystemRoot) await renameLive(h.run, renames, warnings);
    return result("unchanged", `not a new instance: the network configuration written at its first boot stays (from ${source})`);
  }
  const renderer = pickRenderer(h.root, input.system, warnings);
  if (!renderer) {
    // A warning, as cloud-init only logs it: such an image manages its network some other way (NetworkManager, a container's runtime).
    warnings.push(`[network] none of ifupdown (ifup, ifdown, ifquery and /etc/network/interfaces), netplan and systemd-networkd is installed in the image, so the network-config from ${source} cannot be rendered; ${LEFT_AS_IS}. Install one of them, or set network: {config: disabled} to silence this`);
    return result("nothing", `no renderer in the image; ${LEFT_AS_IS}`);
  }
  const files = render(renderer, ns, config);
  writeFiles(h, renderer, files);
  if (h.root.isSystemRoot) await renameLive(h.run, renames, warnings);
  if (h.root.isSystemRoot && renderer === "netplan") await netplanGenerate(h.run, warnings);
  if (h.root.isSystemRoot && input.bringUp) await bringUpLive(h, renderer, [...ns.interfaces.keys()], warnings);
  return result("written", `rendered the network-config from ${source} for ${RENDERED[renderer].tool} (${RENDERED[renderer].where})`, [], [...files.keys()]);
}
