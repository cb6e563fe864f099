// rescue: the user-space half of rescue mode. When the root filesystem is the
// rescue volume (the initramfs says so in /run/sprout/rescue.env, or the root
// carries the rescue label), sprout records v1.rescue in instance data, mounts
// the instance's own root filesystem read-only for repair, and leaves a login
// message saying what happened and how to finish (`sprout rescue done`).
import { blockDeviceByMajMin, blockDeviceByPath } from "../../agent/block-topology";
import type { Host } from "../../agent/host/types";
import { addV1Key } from "../../agent/instance-data";
import { isPlainObject } from "../../agent/merge";
import { mountAt, parseMountinfo } from "../../agent/mountinfo";
import type { Module, ModuleResult } from "../../agent/types";
import { DONE_MARKER, parseRescueEnv, RESCUE_ENV, RESCUE_MOTD, RESCUE_STATE, rescueMessage, type RescueState } from "./state";
import { describeFailure } from "../../agent/target-command";

const BLKID_TIMEOUT_MS = 10_000;
const MOUNT_TIMEOUT_MS = 30_000;

export const RESCUE_SCHEMA = {
  rescue: {
    type: "object",
    description: "Rescue mode: what sprout does when the machine booted from a rescue volume instead of its own root.",
    examples: [{ label: "RESCUE", root_label: "cloudimg-rootfs", mount_point: "/mnt/rescue-target" }],
    properties: {
      label: {
        type: "string",
        description: "The label of rescue volumes (UEC-rescue is also recognised). Default: RESCUE_LABEL from /etc/sprout/rescue.conf, else RESCUE.",
        default: "RESCUE",
        examples: ["FIXIT"],
      },
      root_label: { type: "string", description: "The label of the instance's own root filesystem, to mount for repair.", default: "cloudimg-rootfs", examples: ["rootfs"] },
      mount_point: { type: "string", description: "Where the original root filesystem is mounted, read-only.", default: "/mnt/rescue-target", examples: ["/mnt/broken"] },
      mount: { type: "boolean", description: "Mount the original root filesystem at all.", default: true, examples: [false] },
    },
  },
} as const;

interface Settings {
  labels: string[];
  rootLabel: string;
  mountPoint: string;
  mount: boolean;
}

/** The initramfs's switches file: its RESCUE_LABEL is the default, so both halves look for the same label. */
const RESCUE_CONF = "/etc/sprout/rescue.conf";

function settings(cfg: Record<string, unknown>, h: Host): Settings {
  const r = isPlainObject(cfg.rescue) ? cfg.rescue : {};
  const conf = parseRescueEnv(h.root.tryReadText(RESCUE_CONF, 64 * 1024) ?? "");
  const label = typeof r.label === "string" && r.label ? r.label : conf.RESCUE_LABEL || "RESCUE";
  return {
    labels: [label, "UEC-rescue"],
    rootLabel: typeof r.root_label === "string" && r.root_label ? r.root_label : "cloudimg-rootfs",
    mountPoint: typeof r.mount_point === "string" && r.mount_point.startsWith("/") ? r.mount_point : "/mnt/rescue-target",
    mount: r.mount !== false,
  };
}

/** The initramfs's record, when it left one. */
function fromEnv(h: Host): Pick<RescueState, "active" | "device" | "label" | "reason" | "source"> | null {
  const text = h.root.tryReadText(RESCUE_ENV, 64 * 1024);
  if (text === null) return null;
  const env = parseRescueEnv(text);
  return { active: env.RESCUE_ACTIVE === "1", device: env.RESCUE_DEVICE || null, label: env.RESCUE_LABEL || null, reason: env.RESCUE_REASON || null, source: "rescue.env" };
}

/** Without rescue.env (an initramfs without sprout's hook): the label of the device mounted at /. */
async function fromRootLabel(h: Host, s: Settings): Promise<Pick<RescueState, "active" | "device" | "label" | "reason" | "source">> {
  const none = { active: false, device: null, label: null, reason: null, source: "root label" as const };
  const mi = h.root.tryReadText("/proc/self/mountinfo", 4 * 1024 * 1024);
  const m = mi ? mountAt(parseMountinfo(mi).entries, "/") : null;
  const dev = m ? blockDeviceByMajMin(h.root, m.majMin) : null;
  if (!dev) return none;
  // udev's /dev/disk/by-label answers without running blkid at every boot. Where udev
  // runs (/run/udev/data), a label without a link there is on no device.
  const byLabel = s.labels.find((l) => {
    const link = `/dev/disk/by-label/${udevLinkName(l)}`;
    return h.root.readlink(link) !== null && blockDeviceByPath(h.root, link)?.dev === dev.dev;
  });
  if (byLabel !== undefined) return { active: true, device: dev.dev, label: byLabel, reason: "root label", source: "root label" };
  if (h.root.exists("/run/udev/data")) return none;
  const r = await h.run.run(["blkid", "-c", "/dev/null", "-o", "value", "-s", "LABEL", dev.dev], { timeoutMs: BLKID_TIMEOUT_MS });
  const label = r.code === 0 ? r.stdout.toString().trim() : "";
  return s.labels.includes(label) ? { active: true, device: dev.dev, label, reason: "root label", source: "root label" } : none;
}

/** A label as udev names its /dev/disk/by-label link: bytes other than [0-9A-Za-z#+-.:=@_] and UTF-8 as \xNN. */
export function udevLinkName(label: string): string {
  let out = "";
  for (const ch of label) out += /^[0-9A-Za-z#+\-.:=@_]$/.test(ch) || ch.charCodeAt(0) > 0x7f ? ch : `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
  return out;
}

/** Finds the volume labelled root_label (not the rescue volume) and mounts it read-only. */
async function mountTarget(h: Host, s: Settings, rescueDevice: string | null): Promise<NonNullable<RescueState["target"]>> {
  const t = { label: s.rootLabel, device: null as string | null, mountPoint: s.mountPoint, mounted: false, problem: null as string | null };
  const r = await h.run.run(["blkid", "-c", "/dev/null", "-o", "device", "-t", `LABEL=${s.rootLabel}`], { timeoutMs: BLKID_TIMEOUT_MS });
  if (r.spawnError) return { ...t, problem: `blkid could not run (${r.spawnError}; install util-linux)` };
  const found = r.stdout.toString().split("\n").map((l) => l.trim()).filter((d) => d && d !== rescueDevice);
  if (found.length === 0) return { ...t, problem: `no volume labelled ${s.rootLabel} is attached (attach the disk to repair, or set rescue.root_label)` };
  if (found.length > 1) return { ...t, problem: `${found.length} volumes are labelled ${s.rootLabel} (${found.join(", ")}); sprout does not guess which one to repair` };
  t.device = found[0]!;
  if (!s.mount) return { ...t, problem: "rescue.mount is false" };
  const mi = h.root.tryReadText("/proc/self/mountinfo", 4 * 1024 * 1024);
  if (mi && mountAt(parseMountinfo(mi).entries, s.mountPoint)) return { ...t, mounted: true };
  h.root.mkdirp(s.mountPoint);
  const m = await h.run.run(["mount", "-o", "ro", t.device, h.root.resolve(s.mountPoint)], { timeoutMs: MOUNT_TIMEOUT_MS });
  if (m.code !== 0) return { ...t, problem: `mount -o ro ${t.device} ${s.mountPoint} failed: ${describeFailure(m, MOUNT_TIMEOUT_MS)}` };
  return { ...t, mounted: true };
}

export const rescue: Module = {
  id: "rescue",
  stage: "local",
  frequency: "always",
  schema: { type: "object", description: "Rescue mode: record it, mount the original root read-only, tell the person logging in what to do.", properties: RESCUE_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    const s = settings(cfg, h);
    const found = fromEnv(h) ?? (await fromRootLabel(h, s));
    const v1 = { active: found.active, device: found.device, label: found.label };
    addV1Key(h.root, "rescue", v1, ctx.instance);
    if (!found.active) {
      if (h.root.exists(RESCUE_MOTD)) h.root.remove(RESCUE_MOTD);
      h.root.writeAtomic(RESCUE_STATE, JSON.stringify({ ...found, target: null, done: false }, null, 1) + "\n");
      return { status: "skipped", detail: `not in rescue mode (${found.source}${found.reason ? `: ${found.reason}` : ""})` };
    }
    const target = await mountTarget(h, s, found.device);
    const state: RescueState = { ...found, target, done: h.root.exists(DONE_MARKER) };
    h.root.writeAtomic(RESCUE_STATE, JSON.stringify(state, null, 1) + "\n");
    const message = rescueMessage(state);
    h.root.writeAtomic(RESCUE_MOTD, message);
    h.log.warn(`rescue mode: booted from ${found.device} (label ${found.label}); ${target.mounted ? `${target.device} mounted read-only at ${target.mountPoint}` : `original root not mounted: ${target.problem}`}`);
    const errors = target.mounted || !target.problem?.startsWith("mount ") ? [] : [`rescue: ${target.problem} (mount it by hand)`];
    return { status: "changed", detail: `rescue mode from ${found.source}; ${target.mounted ? `${target.device} at ${target.mountPoint} (read-only)` : target.problem}`, errors };
  },
};
