// resizefs: grow the root filesystem to fill its (just grown) partition, as
// cloud-init's resize_rootfs: true | false | noblock. ext2/3/4 with resize2fs on
// the device, xfs with xfs_growfs and btrfs with `btrfs filesystem resize max` on
// the mount point, all online. noblock starts the resize and lets the boot go on;
// its result is logged and written to /run/sprout/resizefs.json when it ends.
import { blockDeviceByMajMin, blockDeviceByPath } from "../../agent/block-topology";
import type { Host } from "../../agent/host/types";
import { mountAt, parseMountinfo, type MountEntry } from "../../agent/mountinfo";
import type { Module, ModuleResult } from "../../agent/types";
import { parseBtrfsResize, parseResize2fs, parseXfsGrowfs, type ResizeOutcome } from "./parse";

const RESIZE_TIMEOUT_MS = 600_000;
export const RESIZEFS_RESULT = "/run/sprout/resizefs.json";

export const RESIZEFS_SCHEMA = {
  resize_rootfs: {
    type: ["boolean", "string"],
    enum: [true, false, "noblock"],
    description: "Grow the root filesystem to fill its partition (on by default). noblock: resize in the background while the boot goes on.",
    default: true,
    examples: [false, "noblock"],
  },
} as const;

interface Resizer {
  argv: string[];
  tool: string;
  pkg: string;
  parse: (out: string) => ResizeOutcome;
}

function resizerFor(h: Host, m: MountEntry): Resizer | string {
  const mountPoint = h.root.resolve(m.mountPoint);
  switch (m.fsType) {
    case "ext2":
    case "ext3":
    case "ext4": {
      const dev = blockDeviceByMajMin(h.root, m.majMin) ?? (m.source.startsWith("/dev/") && m.source !== "/dev/root" ? blockDeviceByPath(h.root, m.source) : null);
      if (!dev) return `/ is on ${m.source}, which is not in /sys/class/block: cannot run resize2fs`;
      return { argv: ["resize2fs", dev.dev], tool: "resize2fs", pkg: "e2fsprogs", parse: parseResize2fs };
    }
    case "xfs":
      return { argv: ["xfs_growfs", mountPoint], tool: "xfs_growfs", pkg: "xfsprogs", parse: parseXfsGrowfs };
    case "btrfs":
      return { argv: ["btrfs", "filesystem", "resize", "max", mountPoint], tool: "btrfs", pkg: "btrfs-progs", parse: parseBtrfsResize };
    default:
      return `/ is ${m.fsType}, which sprout does not resize (ext2/3/4, xfs and btrfs are resized)`;
  }
}

async function resize(h: Host, m: MountEntry, r: Resizer): Promise<ResizeOutcome> {
  const res = await h.run.run(r.argv, { timeoutMs: RESIZE_TIMEOUT_MS, env: { LANG: "C", LC_ALL: "C" } });
  if (res.spawnError) throw new Error(`${r.tool} could not run (${res.spawnError}): install the ${r.pkg} package, or set resize_rootfs: false`);
  if (res.timedOut) throw new Error(`${r.tool} on ${m.mountPoint} did not finish within ${RESIZE_TIMEOUT_MS / 1000} s and was stopped`);
  const out = `${res.stdout}\n${res.stderr}`;
  if (res.code !== 0) {
    // Containers often drop CAP_SYS_RESOURCE, which the kernel requires for an online ext4 resize.
    const why = /Permission denied to resize/.test(out) ? " (an online ext4 resize needs the CAP_SYS_RESOURCE capability, which this system withholds; resize the filesystem offline or grant it)" : "";
    throw new Error(`${r.argv.join(" ")} failed (exit ${res.code}): ${out.trim().split("\n").slice(-2).join(" ")}${why}`);
  }
  return r.parse(out);
}

function recordResult(h: Host, doc: Record<string, unknown>): void {
  try {
    h.root.writeAtomic(RESIZEFS_RESULT, JSON.stringify({ ...doc, finished: h.clock.now().toISOString() }) + "\n");
  } catch (err) {
    h.log.warn(`cannot write ${RESIZEFS_RESULT}: ${(err as Error).message}`);
  }
}

export const resizefs: Module = {
  id: "resizefs",
  stage: "local",
  frequency: "always",
  schema: { type: "object", description: "Grow the root filesystem (ext2/3/4, xfs, btrfs) to fill its partition.", properties: RESIZEFS_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    const mode = cfg.resize_rootfs === undefined ? true : cfg.resize_rootfs;
    if (mode === false || mode === "false") return { status: "skipped", detail: "resize_rootfs is false" };
    if (mode !== true && mode !== "true" && mode !== "noblock") return { status: "skipped", errors: [`resize_rootfs must be true, false or noblock, not ${JSON.stringify(mode)}; the filesystem was not resized`] };
    const text = h.root.tryReadText("/proc/self/mountinfo", 4 * 1024 * 1024);
    if (text === null) return { status: "skipped", detail: "no /proc/self/mountinfo: cannot tell what / is" };
    const m = mountAt(parseMountinfo(text).entries, "/");
    if (!m) return { status: "skipped", detail: "/ is not in /proc/self/mountinfo" };
    if (m.fsRoot !== "/") return { status: "skipped", detail: `/ is ${m.fsRoot} of ${m.source} (a bind mount or chroot), not a whole filesystem: not resized` };
    if (m.readOnly) return { status: "skipped", detail: `/ (${m.source}) is mounted read-only: not resized` };
    const r = resizerFor(h, m);
    if (typeof r === "string") return { status: "skipped", detail: r };
    if (!h.run.which(r.tool)) return { status: "skipped", errors: [`${r.tool} is not installed: install the ${r.pkg} package to grow / (${m.fsType}), or set resize_rootfs: false`] };
    const base = { mount: "/", source: m.source, fstype: m.fsType, command: r.argv };
    if (mode === "noblock") {
      const log = h.log;
      // Not awaited: the boot goes on; the open child process keeps sprout alive until it ends.
      void resize(h, m, r).then(
        (o) => {
          log.info(`resizefs (noblock): / ${o.grew ? "grown" : "unchanged"}: ${o.detail}`, { evt: "resizefs", result: o.grew ? "changed" : "unchanged" });
          recordResult(h, { ...base, status: o.grew ? "changed" : "unchanged", detail: o.detail });
        },
        (err: Error) => {
          log.error(`[module:resizefs] (noblock) ${err.message}`, { evt: "resizefs", result: "failed" });
          recordResult(h, { ...base, status: "failed", detail: err.message });
        },
      );
      return { status: "changed", detail: `${r.tool} started in the background (noblock); its result goes to ${RESIZEFS_RESULT} and the log` };
    }
    try {
      const o = await resize(h, m, r);
      recordResult(h, { ...base, status: o.grew ? "changed" : "unchanged", detail: o.detail });
      return { status: o.grew ? "changed" : "unchanged", detail: `/ (${m.fsType} on ${m.source}): ${o.detail}` };
    } catch (err) {
      recordResult(h, { ...base, status: "failed", detail: (err as Error).message });
      return { status: "unchanged", errors: [(err as Error).message] };
    }
  },
};
