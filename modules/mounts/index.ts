// mounts: /etc/fstab lines and a swap file from cloud-config, with cloud-init's
// keys and meanings (cc_mounts, 22.4.2): `mounts` (fstab entries, missing
// fields from `mount_default_fields`, an entry without a mount point removes
// one), `swap` (a swap file) and the default mounts of EC2's instance-store
// disks (ephemeral0 on /mnt, the swap device) when the meta-data maps them.
// The lines sprout writes carry `comment=cloudconfig`, so a rerun replaces
// exactly those and the user's own lines stay as they were; the file is
// replaced atomically. On the running system the mount points are made, the
// swap is switched on and `mount -a` runs (then `systemctl daemon-reload` when
// systemd runs the machine). Under --root (an image, a chroot) only files are
// written: the build host's devices are not the target's, so nothing is
// checked against them, mounted or swapped on; the target's next boot mounts.
import { isPlainObject } from "../../agent/merge";
import { mountAt, parseMountinfo } from "../../agent/mountinfo";
import { systemdRunsTarget } from "../../agent/platform";
import type { Host } from "../../agent/host/types";
import type { Module, ModuleContext, ModuleResult } from "../../agent/types";
import { blockDeviceMapping, mapsEc2Defaults } from "./block-device-mapping";
import { deviceView } from "./devices";
import { bootsWithoutDevice, builtinDefaultFields, ownedLine, ownedLines, parseDefaultFields, planMounts, type PlannedLine, renderFstab } from "./fstab";
import { ensureSwapFile, parseSwapConfig } from "./swap";

const FSTAB = "/etc/fstab";
const MOUNT_TIMEOUT_MS = 120_000;
const SWAPON_TIMEOUT_MS = 60_000;
const RELOAD_TIMEOUT_MS = 60_000;
/** The unit that runs this module: mounts that need a disk sprout prepares wait for it, as cloud-init's wait for cloud-init.service. */
const SPROUT_UNIT = "sprout-network.service";
const UNIT_DIRS = ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"];

const FIELD = { type: ["string", "integer", "null"] } as const;
/** What cloud-init's human2bytes reads (swap.ts parseSize): 2G, .5G, 512M, 2GB, 1048576. */
const SIZE_PATTERN = "^[0-9]*\\.?[0-9]+[BKMGT]?B?$";
const SIZE_PATTERN_OR_AUTO = "^([0-9]*\\.?[0-9]+[BKMGT]?B?|auto)$";

export const MOUNTS_SCHEMA = {
  mounts: {
    type: "array",
    description:
      "/etc/fstab entries: [fs_spec, fs_file, fs_vfstype, fs_mntops, fs_freq, fs_passno]. Fields left out (or null) come from mount_default_fields. sdb, xvdb, vdc1 and sr0 may be written without /dev/; ephemeral0 and swap are the EC2 block-device-mapping's devices (skipped elsewhere). An entry with only a device ([sdb] or [swap, null]) removes that device's earlier entries and its default mount. The lines are marked comment=cloudconfig; a rerun replaces them and leaves every other line alone.",
    items: { type: "array", minItems: 1, maxItems: 6, items: FIELD },
    examples: [
      [
        ["/dev/vdb", "/data", "ext4", "defaults,nofail", "0", "2"],
        ["sdc", "/opt/data"],
        ["tmpfs", "/mnt/scratch", "tmpfs", "size=512m,mode=1777"],
        ["swap", null],
      ],
    ],
  },
  mount_default_fields: {
    type: "array",
    description:
      "The values of fields a mounts entry leaves out, all six (None and null mean no value). The default is [null, null, auto, \"defaults,nofail,x-systemd.requires=sprout-network.service,_netdev\", \"0\", \"2\"] when systemd runs the machine (x-systemd.requires only where sprout's units are installed), else options \"defaults,nofail\".",
    minItems: 6,
    maxItems: 6,
    items: { type: ["string", "null"] },
    examples: [[null, null, "auto", "defaults,nofail", "0", "2"]],
  },
  swap: {
    type: "object",
    description: "A swap file to make (with fallocate, or dd where that fails; chmod 600; mkswap), add to /etc/fstab and switch on. Nothing is made without a size; a file already there is kept if it is a swap area and never overwritten if not.",
    additionalProperties: false,
    properties: {
      filename: { type: "string", description: "Absolute path of the swap file.", default: "/swap.img", examples: ["/swapfile"] },
      size: {
        type: ["string", "integer"],
        pattern: SIZE_PATTERN_OR_AUTO,
        description: "Bytes, a number with B, K, M, G or T (powers of 1024, e.g. 2G or 512M), or auto: memory size below 4 GiB, 4 GiB below 16 GiB, else the square root of memory in GiB; at most maxsize, or a quarter of the free space.",
        examples: ["2G", "auto", 1073741824],
      },
      maxsize: { type: ["string", "integer"], pattern: SIZE_PATTERN, description: "The largest size `auto` may choose (bytes, or like 4G); capped at 90% of the free space.", examples: ["4G", 10485760] },
    },
    examples: [{ filename: "/swapfile", size: "2G" }, { filename: "/var/swap", size: "auto", maxsize: "4G" }],
  },
  device_aliases: {
    type: "object",
    description: "Names for devices, shared with disk_setup: an alias used as a mounts device stands for the device it names.",
    additionalProperties: { type: "string" },
    examples: [{ data_disk: "/dev/vdb" }],
  },
} as const;

/** Whether the target boots with systemd: the running one has /run/systemd/system; an image has systemd installed. */
function targetUsesSystemd(h: Host): boolean {
  if (h.root.isSystemRoot) return h.root.stat("/run/systemd/system")?.kind === "dir";
  return h.root.exists("/usr/lib/systemd/systemd") || h.root.exists("/lib/systemd/systemd");
}

export const mounts: Module = {
  id: "mounts",
  stage: "network",
  frequency: "per-instance",
  schema: {
    type: "object",
    description:
      "Add and remove /etc/fstab entries, make a swap file, and mount them (cloud-init's cc_mounts). Under --root (an image or a chroot) only files are written (the fstab, the mount points, the swap file): nothing is checked against the build host's devices, mounted or swapped on.",
    properties: MOUNTS_SCHEMA,
  },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    const bdm = blockDeviceMapping(ctx);
    const mapsDefaults = mapsEc2Defaults(bdm);
    if (cfg.mounts === undefined && cfg.swap === undefined && !mapsDefaults) return { status: "skipped", detail: "no mounts or swap" };

    const errors: string[] = [];
    const notes: string[] = [];
    const systemd = targetUsesSystemd(h);
    const unit = systemd && UNIT_DIRS.some((d) => h.root.exists(`${d}/${SPROUT_UNIT}`)) ? SPROUT_UNIT : null;
    const defaults = parseDefaultFields(cfg.mount_default_fields, builtinDefaultFields(unit, systemd));
    if (defaults.error) errors.push(defaults.error);
    const aliases = isPlainObject(cfg.device_aliases) ? (Object.fromEntries(Object.entries(cfg.device_aliases).filter(([, v]) => typeof v === "string")) as Record<string, string>) : {};
    let fstab: string;
    try {
      fstab = h.root.tryReadText(FSTAB, 4 * 1024 * 1024) ?? "";
    } catch (err) {
      return { status: "unchanged", errors: [`cannot read ${FSTAB} (${(err as Error).message}); nothing changed (fix the file and run the module again)`] };
    }
    const view = deviceView(h.root, bdm);
    const plan = planMounts({ mounts: cfg.mounts, defaults: defaults.fields, view, aliases, fstab, defaultMounts: mapsDefaults });
    errors.push(...plan.errors);
    notes.push(...plan.notes);

    let swapMade = false;
    const lines: PlannedLine[] = [];
    for (const line of plan.lines) {
      if (line.exists === false && !bootsWithoutDevice(line.fields[3])) {
        errors.push(`${line.origin}: ${line.fields[0]} does not exist, and without nofail in its options the next boot would wait for it and stop; not written (add nofail, or attach the disk and boot again)`);
        continue;
      }
      if (line.exists === false) notes.push(`${line.origin}: ${line.fields[0]} does not exist now; written (nofail): it is mounted when it appears`);
      lines.push(line);
    }
    const swap = parseSwapConfig(cfg.swap);
    if (swap.error) errors.push(swap.error);
    if (swap.config) {
      try {
        const made = await ensureSwapFile(h, swap.config);
        notes.push(made.detail);
        if (made.kind !== "none") lines.push({ origin: "swap file", fields: [swap.config.filename, "none", "swap", "sw", "0", "0"], exists: true });
        swapMade = made.kind === "made";
      } catch (err) {
        errors.push((err as Error).message);
      }
    }

    // Mount points before the fstab: a line is written only for a mount point that exists.
    const written: PlannedLine[] = [];
    for (const line of lines) {
      const dir = line.fields[1];
      if (dir.startsWith("/")) {
        try {
          const st = h.root.stat(dir);
          if (st && st.kind !== "dir") throw new Error(`it is a ${st.kind}`);
          if (!st) h.root.mkdirp(dir, 0o755);
        } catch (err) {
          errors.push(`${line.origin}: cannot make the mount point ${dir} (${(err as Error).message}); not written (choose another mount point)`);
          continue;
        }
      }
      written.push(line);
    }

    const owned = written.map((l) => ownedLine(l.fields));
    const next = renderFstab(fstab, owned);
    const fstabChanged = next !== fstab && !(owned.length === 0 && ownedLines(fstab).length === 0);
    for (const n of notes) h.log.info(`mounts: ${n}`);
    if (fstabChanged) {
      try {
        h.root.writeAtomic(FSTAB, next, { mode: h.root.stat(FSTAB)?.mode ?? 0o644 });
      } catch (err) {
        // writeAtomic leaves the old file as it was.
        errors.push(`cannot write ${FSTAB} (${(err as Error).message}); it is unchanged and nothing was mounted (free space or make / writable, then run the module again)`);
        return { status: swapMade ? "changed" : "unchanged", detail: notes.join("; "), errors };
      }
    }

    const done: string[] = [];
    done.push(written.length ? `${FSTAB}: ${written.map((l) => `${l.fields[0]} on ${l.fields[1]}`).join(", ")}${fstabChanged ? "" : " (unchanged)"}` : fstabChanged ? `${FSTAB}: sprout's lines removed` : "no fstab lines");
    if (h.root.isSystemRoot) {
      errors.push(...(await activate(h, written, fstabChanged, done)));
    } else if (written.length) {
      done.push("not mounted or swapped on: the target is not the running system (its next boot does it)");
    }
    return { status: fstabChanged || swapMade ? "changed" : "unchanged", detail: [...done, ...notes].join("; "), errors };
  },
};

/** swapon for new swap lines, mount -a when a line changed or a mount point is not mounted, then systemd's reload. */
async function activate(h: Host, written: PlannedLine[], fstabChanged: boolean, done: string[]): Promise<string[]> {
  const errors: string[] = [];
  const active = h.root.tryReadText("/proc/swaps", 1024 * 1024) ?? "";
  const activeSwaps = new Set(active.split("\n").slice(1).map((l) => l.split(/\s+/)[0]));
  for (const l of written) {
    if (l.fields[2] !== "swap" || l.exists === false || activeSwaps.has(l.fields[0])) continue;
    const r = await h.run.run(["swapon", l.fields[0]], { timeoutMs: SWAPON_TIMEOUT_MS, env: { LANG: "C", LC_ALL: "C" } });
    if (r.code === 0) done.push(`swapon ${l.fields[0]}`);
    else errors.push(`${l.origin}: swapon ${l.fields[0]} failed (${failure(r)}); its fstab line is written (check the file or device; \`swapon ${l.fields[0]}\` tries again)`);
  }
  let mountinfo: ReturnType<typeof parseMountinfo>["entries"] = [];
  try {
    mountinfo = parseMountinfo(h.root.tryReadText("/proc/self/mountinfo", 4 * 1024 * 1024) ?? "").entries;
  } catch {
    // unknown: mount -a runs
  }
  const unmounted = written.filter((l) => l.fields[1].startsWith("/") && !mountAt(mountinfo, l.fields[1]));
  if (!fstabChanged && unmounted.length === 0) return errors;
  const r = await h.run.run(["mount", "-a"], { timeoutMs: MOUNT_TIMEOUT_MS, env: { LANG: "C", LC_ALL: "C" } });
  if (r.code === 0) done.push("mount -a");
  else errors.push(`mount -a failed (${failure(r)}); the fstab lines are written: fix the entry it names and run \`mount -a\``);
  if (systemdRunsTarget(h)) {
    const rl = await h.run.run(["systemctl", "daemon-reload"], { timeoutMs: RELOAD_TIMEOUT_MS });
    if (rl.code !== 0) errors.push(`systemctl daemon-reload failed (${failure(rl)}); systemd has not read the new /etc/fstab (run \`systemctl daemon-reload\`)`);
  }
  return errors;
}

function failure(r: { code: number | null; spawnError: string | null; timedOut: boolean; stderr: Buffer }): string {
  if (r.spawnError) return `could not run: ${r.spawnError}`;
  if (r.timedOut) return "timed out";
  // mount's stderr: one line per failed entry, each followed by a hint to read dmesg.
  const lines = r.stderr
    .toString()
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter((l) => l && !l.startsWith("dmesg(1) may have more information"));
  return `exit ${r.code}: ${lines.slice(0, 5).join(" / ") || "no message"}`;
}

