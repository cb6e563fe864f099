// grub_dpkg: tell grub-pc's package which disk its boot loader is on (the debconf
// question grub-pc/install_devices), as cloud-init does on Debian at the first boot of
// an instance: an image's disk is not the disk of the machine it was built on, and
// without the answer a later grub-pc upgrade stops to ask, or installs nowhere.
import { isFalse, isTrue } from "../../agent/cloud-bool";
import type { Host } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import { describeFailure, runInTarget } from "../../agent/target-command";
import type { Module, ModuleContext } from "../../agent/types";
import { GRUB_PC_INSTALLED } from "./installed";

const TIMEOUT_MS = 30_000;
const IDLE = "grub-pc is not installed";

const DEVICE_SCHEMA = {
  type: "object",
  properties: {
    enabled: { type: "boolean", default: true, description: "false: leave grub-pc's debconf answers alone.", examples: [false] },
    "grub-pc/install_devices": { type: "string", description: "The device(s) grub-pc installs to; by default the disk holding /boot, by its /dev/disk/by-id name (grub-probe, udevadm).", examples: ["/dev/sda"] },
    "grub-pc/install_devices_empty": { type: "boolean", description: "Whether installing to no device is all right; by default true only when no device was found.", examples: [false] },
  },
} as const;


/**
 * The disk /boot is on, by its /dev/disk/by-id name where udev gives one (the first in
 * sorted order, as cloud-init picks), else its plain name; "" when grub-probe cannot tell
 * (a container, no grub-common). An error for any other grub-probe failure.
 */
async function bootDisk(h: Host): Promise<{ disk: string; note?: string }> {
  if (!h.run.which("grub-probe")) return { disk: "", note: "grub-probe is not installed (grub-common)" };
  const probe = await h.run.run(["grub-probe", "-t", "disk", "/boot"], { timeoutMs: TIMEOUT_MS });
  if (probe.code !== 0) {
    if (/failed to get canonical path/.test(probe.stderr.toString("utf8"))) return { disk: "", note: "grub-probe cannot see the disk of /boot (a container?)" };
    throw new Error(`grub-probe -t disk /boot failed (${describeFailure(probe, TIMEOUT_MS)}): set grub_dpkg: {grub-pc/install_devices: DEVICE} to say where grub is`);
  }
  const disk = probe.stdout.toString("utf8").trim();
  if (!disk || !h.root.exists(disk)) return { disk: "" };
  const links = await h.run.run(["udevadm", "info", "--root", "--query=symlink", disk], { timeoutMs: TIMEOUT_MS });
  const byId = links.code === 0 ? links.stdout.toString("utf8").trim().split(/\s+/).filter((l) => l.includes("disk/by-id")).sort() : [];
  return { disk: byId[0] ?? disk };
}

async function run(cfg: Record<string, unknown>, ctx: ModuleContext) {
  const h = ctx.host;
  const raw = cfg.grub_dpkg ?? cfg["grub-dpkg"];
  if (raw === undefined && !h.root.exists(GRUB_PC_INSTALLED)) return { status: "skipped" as const, detail: IDLE };
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) return { status: "unchanged" as const, errors: ["grub_dpkg must be a mapping, such as {enabled: false} or {grub-pc/install_devices: /dev/sda}"] };
  const mine = (raw ?? {}) as Record<string, unknown>;
  if (isFalse(mine.enabled ?? true)) return { status: "skipped" as const, detail: "grub_dpkg.enabled is false" };
  let devices = mine["grub-pc/install_devices"];
  let note: string | undefined;
  if (devices !== undefined && devices !== null && (typeof devices !== "string" || /[\r\n]/.test(devices))) return { status: "unchanged" as const, errors: ['grub_dpkg: grub-pc/install_devices must be device names on one line, such as "/dev/sda"'] };
  if (devices === undefined || devices === null) {
    // An image being built boots on some other machine's disk: only that machine can tell.
    if (!h.root.isSystemRoot) return { status: "skipped" as const, detail: "the target is not the running system: its boot disk is known only when it boots (or set grub-pc/install_devices)" };
    ({ disk: devices, note } = await bootDisk(h));
  }
  const givenEmpty = mine["grub-pc/install_devices_empty"];
  const empty = givenEmpty === undefined || givenEmpty === null ? !devices : typeof givenEmpty === "boolean" ? givenEmpty : isTrue(givenEmpty);
  const selections = `grub-pc grub-pc/install_devices string ${devices}\ngrub-pc grub-pc/install_devices_empty boolean ${empty}\n`;
  const { failure, result } = await runInTarget(h, ["debconf-set-selections"], { timeoutMs: TIMEOUT_MS, input: selections });
  if (failure) return { status: "unchanged" as const, errors: [`debconf-set-selections failed: ${failure}${result.spawnError ? " (the debconf package provides it)" : ""}`] };
  return { status: "changed" as const, detail: `grub-pc/install_devices ${devices || "(none)"}, install_devices_empty ${empty}${note ? ` (${note})` : ""}` };
}

export const grubDpkg: Module = {
  id: "grub_dpkg",
  stage: "config",
  frequency: "per-instance",
  schema: {
    type: "object",
    description: "Answer grub-pc's debconf questions about where grub is installed (the disk of /boot), as cloud-init does on Debian at an instance's first boot, so a later grub-pc upgrade neither stops to ask nor installs nowhere. Only where grub-pc is installed, or when configured.",
    properties: {
      grub_dpkg: { ...DEVICE_SCHEMA, description: "Where grub-pc is installed, and whether to answer at all.", examples: [{ enabled: true, "grub-pc/install_devices": "/dev/sda", "grub-pc/install_devices_empty": false }] },
      "grub-dpkg": { ...DEVICE_SCHEMA, description: "The old spelling of grub_dpkg (deprecated).", examples: [{ enabled: false }] },
    },
  },
  run,
};
