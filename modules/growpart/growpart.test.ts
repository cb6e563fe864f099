// growpart and resizefs on real loop devices: the disk image is made small,
// partitioned (MBR with sfdisk, GPT with sgdisk), given a filesystem and a file,
// mounted as the target root's "/", then enlarged like a resized cloud volume.
// The target root's /proc/self/mountinfo is a fixture naming the real loop
// device; its /sys and /dev are links to the real ones.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHost } from "../../agent/host";
import type { ModuleResult } from "../../agent/types";
import { hasCapSysResource, loopUnavailable, Scratch, sh } from "../../test/helpers/loop";
import { moduleContext } from "../../test/helpers/module-context";
import { resizefs } from "../resizefs";
import { growpart } from ".";

const unavailable = loopUnavailable();
if (unavailable) console.warn(`growpart/resizefs loop device tests skipped: ${unavailable}`);
const itLoop = unavailable ? it.skip : it;
const onlineExt4 = hasCapSysResource();
if (!unavailable && !onlineExt4) console.warn("no CAP_SYS_RESOURCE here: the ext4 test checks the clear error instead of an online resize2fs (xfs tests still grow)");

let scratch: Scratch | null = null;
afterEach(() => {
  scratch?.cleanup();
  scratch = null;
});

const PAYLOAD = "written before the grow\n".repeat(1000);

/** Mounts `dev` at a fresh directory laid out as a target root whose "/" is that mount. */
function mountAsRoot(s: Scratch, dev: string, fsType: "ext4" | "xfs" | "btrfs"): string {
  const root = join(s.dir, "root");
  mkdirSync(root);
  s.mount(dev, root);
  writeFileSync(join(root, "payload.txt"), PAYLOAD);
  mkdirSync(join(root, "proc/self"), { recursive: true });
  writeFileSync(join(root, "proc/self/mountinfo"), `1 0 ${Scratch.majMin(dev)} / / rw,relatime shared:1 - ${fsType} ${dev} rw\n22 1 0:21 / /sys rw,relatime - sysfs sysfs rw\n`);
  symlinkSync("/sys", join(root, "sys"));
  symlinkSync("/dev", join(root, "dev"));
  mkdirSync(join(root, "run"));
  return root;
}

async function runBoth(root: string, cfg: Record<string, unknown> = {}): Promise<{ gp: ModuleResult; fs: ModuleResult }> {
  const h = createHost({ root, logFile: null });
  const gp = await growpart.run({ growpart: { mode: "auto", devices: ["/"] }, resize_rootfs: true, ...cfg }, moduleContext(h, "local"));
  const fs = await resizefs.run({ resize_rootfs: true, ...cfg }, moduleContext(h, "local"));
  return { gp, fs };
}

function sizeOf(dev: string): number {
  return Number(sh(["blockdev", "--getsize64", dev]).trim());
}

function fsBytes(root: string): number {
  const out = sh(["df", "--block-size=1", "--output=size", root]).trim().split("\n");
  return Number(out[out.length - 1]);
}

/** Unmounts, then the filesystem checker must find nothing to repair. */
function checkClean(s: Scratch, root: string, dev: string, fsType: "ext4" | "xfs" | "btrfs"): void {
  s.umount(root);
  Scratch.waitUntilUnmountedEverywhere(dev);
  // Another test's blkid may have read this device into the page cache before the grow; the checker must see the disk.
  sh(["blockdev", "--flushbufs", dev]);
  const check: Record<typeof fsType, string[]> = { ext4: ["e2fsck", "-fn", dev], xfs: ["xfs_repair", "-n", dev], btrfs: ["btrfs", "check", "--readonly", dev] };
  let r = spawnSync(check[fsType][0]!, check[fsType].slice(1), { encoding: "utf8" });
  if (r.status !== 0) {
    // Seen once in a full run: xfs_repair read a superblock older than the one the
    // unmount wrote. Flush every cache between it and the disk and look again; a
    // filesystem that is really damaged fails the second look too.
    sh(["sync"]);
    sh(["blockdev", "--flushbufs", dev]);
    writeFileSync("/proc/sys/vm/drop_caches", "3\n");
    r = spawnSync(check[fsType][0]!, check[fsType].slice(1), { encoding: "utf8" });
  }
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
}

describe("growpart + resizefs on loop devices", () => {
  itLoop("MBR, ext4: grows the last partition and the filesystem, then has nothing more to do", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("mbr", 64, { kind: "mbr", parts: [32] });
    s.mkfs(d.parts[0]!, "ext4");
    const root = mountAsRoot(s, d.parts[0]!, "ext4");
    s.enlarge(d, 128);
    const before = { part: sizeOf(d.parts[0]!), fs: fsBytes(root) };
    const first = await runBoth(root);
    expect(first.gp.errors ?? []).toEqual([]);
    expect(first.gp.status).toBe("changed");
    expect(first.gp.detail).toMatch(/partition 1 of \/dev\/loop\d+\) grown from/);
    expect(sizeOf(d.parts[0]!)).toBeGreaterThan(before.part + 90 * 1024 * 1024);
    if (onlineExt4) {
      expect(first.fs.status).toBe("changed");
      expect(fsBytes(root)).toBeGreaterThan(before.fs + 80 * 1024 * 1024);
      expect(JSON.parse(readFileSync(join(root, "run/sprout/resizefs.json"), "utf8"))).toMatchObject({ status: "changed", fstype: "ext4" });
    } else {
      expect(first.fs.errors![0]).toMatch(/resize2fs .* failed .*needs the CAP_SYS_RESOURCE capability/);
      expect(JSON.parse(readFileSync(join(root, "run/sprout/resizefs.json"), "utf8"))).toMatchObject({ status: "failed", fstype: "ext4" });
    }
    const second = await runBoth(root);
    expect(second.gp).toMatchObject({ status: "unchanged", errors: [] });
    // /sys shows the partition at the disk's end: growpart is not run again.
    expect(second.gp.detail).toMatch(/ends (at|\d+ sectors before) the disk's end, so it cannot be grown \(growpart not run\)/);
    if (onlineExt4) expect(second.fs.status).toBe("unchanged");
    expect(readFileSync(join(root, "payload.txt"), "utf8")).toBe(PAYLOAD);
    checkClean(s, root, d.parts[0]!, "ext4");
  });

  itLoop("GPT, xfs: grows the partition past the moved backup header, and xfs_growfs on the mount point", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("gpt", 340, { kind: "gpt", parts: [null] });
    s.mkfs(d.parts[0]!, "xfs");
    const root = mountAsRoot(s, d.parts[0]!, "xfs");
    s.enlarge(d, 600);
    const before = fsBytes(root);
    const first = await runBoth(root);
    expect(first.gp.errors ?? []).toEqual([]);
    expect(first.gp.status).toBe("changed");
    expect(first.fs).toMatchObject({ status: "changed" });
    expect(first.fs.detail).toMatch(/data blocks \d+ -> \d+/);
    expect(fsBytes(root)).toBeGreaterThan(before + 200 * 1024 * 1024);
    expect(sh(["sgdisk", "-v", d.loop])).toMatch(/No problems found/);
    const second = await runBoth(root);
    expect(second.gp.status).toBe("unchanged");
    expect(second.fs.status).toBe("unchanged");
    expect(readFileSync(join(root, "payload.txt"), "utf8")).toBe(PAYLOAD);
    checkClean(s, root, d.parts[0]!, "xfs");
  });

  const noBtrfs = spawnSync("sh", ["-c", "command -v mkfs.btrfs"]).status !== 0;
  it.skipIf(!!unavailable || noBtrfs)("MBR, btrfs: btrfs filesystem resize max on the mount point", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("btrfs", 200, { kind: "mbr", parts: [150] });
    s.mkfs(d.parts[0]!, "btrfs");
    const root = mountAsRoot(s, d.parts[0]!, "btrfs");
    s.enlarge(d, 320);
    const before = fsBytes(root);
    const r = await runBoth(root);
    expect(r.gp).toMatchObject({ status: "changed", errors: [] });
    expect(r.fs.errors ?? []).toEqual([]);
    expect(r.fs.detail).toMatch(/btrfs on .*resized from .* to max/);
    expect(fsBytes(root)).toBeGreaterThan(before + 120 * 1024 * 1024);
    expect(readFileSync(join(root, "payload.txt"), "utf8")).toBe(PAYLOAD);
    checkClean(s, root, d.parts[0]!, "btrfs");
  });

  itLoop("a disk already at full size: unchanged, not an error", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("full", 64, { kind: "mbr", parts: [null] });
    s.mkfs(d.parts[0]!, "ext4");
    const root = mountAsRoot(s, d.parts[0]!, "ext4");
    const table = sh(["sfdisk", "--dump", d.loop]);
    const r = await runBoth(root);
    expect(r.gp).toMatchObject({ status: "unchanged", errors: [] });
    expect(r.gp.detail).toMatch(/growpart not run/);
    expect(r.fs).toMatchObject({ status: "unchanged" });
    expect(r.fs.errors ?? []).toEqual([]);
    expect(sh(["sfdisk", "--dump", d.loop])).toBe(table);
    checkClean(s, root, d.parts[0]!, "ext4");
  });

  itLoop("a partition that is not the last one: unchanged, the one after it untouched", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("notlast", 64, { kind: "gpt", parts: [24, 24] });
    s.mkfs(d.parts[0]!, "ext4");
    s.mkfs(d.parts[1]!, "ext4", "second");
    const root = mountAsRoot(s, d.parts[0]!, "ext4");
    s.enlarge(d, 128);
    const p2 = sizeOf(d.parts[1]!);
    const p1 = sizeOf(d.parts[0]!);
    const r = await runBoth(root);
    expect(r.gp).toMatchObject({ status: "unchanged", errors: [] });
    expect(sizeOf(d.parts[0]!)).toBe(p1);
    expect(sizeOf(d.parts[1]!)).toBe(p2);
    expect(sh(["blkid", "-o", "value", "-s", "LABEL", d.parts[1]!]).trim()).toBe("second");
    checkClean(s, root, d.parts[0]!, "ext4");
  });

  itLoop("a filesystem on a whole disk (no partition): growpart has nothing to do, the filesystem still fills the disk", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("whole", 320);
    s.mkfs(d.loop, "xfs");
    const root = mountAsRoot(s, d.loop, "xfs");
    s.enlarge(d, 400);
    const before = fsBytes(root);
    const r = await runBoth(root);
    expect(r.gp).toMatchObject({ status: "unchanged", errors: [] });
    expect(r.gp.detail).toMatch(/whole disk, not a partition/);
    expect(r.fs.status).toBe("changed");
    expect(fsBytes(root)).toBeGreaterThan(before + 25 * 1024 * 1024);
    expect(readFileSync(join(root, "payload.txt"), "utf8")).toBe(PAYLOAD);
    checkClean(s, root, d.loop, "xfs");
  });

  itLoop("noblock: the module returns at once and the result is recorded when the resize ends", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("noblock", 340, { kind: "mbr", parts: [320] });
    s.mkfs(d.parts[0]!, "xfs");
    const root = mountAsRoot(s, d.parts[0]!, "xfs");
    s.enlarge(d, 480);
    const r = await runBoth(root, { resize_rootfs: "noblock" });
    expect(r.gp.status).toBe("changed");
    expect(r.fs.detail).toMatch(/background/);
    const resultFile = join(root, "run/sprout/resizefs.json");
    for (let i = 0; i < 300 && spawnSync("test", ["-s", resultFile]).status !== 0; i++) await new Promise((ok) => setTimeout(ok, 100));
    expect(JSON.parse(readFileSync(resultFile, "utf8"))).toMatchObject({ status: "changed", fstype: "xfs" });
    checkClean(s, root, d.parts[0]!, "xfs");
  });
});

describe("growpart on bad devices: a clear error, nothing on disk changed", () => {
  itLoop("a busy disk (another program holds its lock)", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("busy", 64, { kind: "mbr", parts: [32] });
    s.mkfs(d.parts[0]!, "ext4");
    const root = mountAsRoot(s, d.parts[0]!, "ext4");
    s.enlarge(d, 128);
    const table = sh(["sfdisk", "--dump", d.loop]);
    const holder = spawnSync("sh", ["-c", `flock -x ${d.loop} sleep 30 >/dev/null 2>&1 & echo $!`], { encoding: "utf8" });
    const pid = Number(holder.stdout.trim());
    try {
      for (let i = 0; i < 50 && spawnSync("flock", ["-n", "-x", d.loop, "true"]).status === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
      const h = createHost({ root, logFile: null });
      const r = await growpart.run({ growpart: { mode: "auto", devices: ["/"] } }, moduleContext(h, "local"));
      expect(r.status).toBe("unchanged");
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]).toMatch(/disk is busy .* nothing changed \(run `growpart \/dev\/loop\d+ 1` once it is free\)/);
    } finally {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    expect(sh(["sfdisk", "--dump", d.loop])).toBe(table);
    expect(readFileSync(join(root, "payload.txt"), "utf8")).toBe(PAYLOAD);
    checkClean(s, root, d.parts[0]!, "ext4");
  });

  itLoop("a read-only disk", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("ro", 64, { kind: "mbr", parts: [32] });
    s.mkfs(d.parts[0]!, "ext4");
    const root = mountAsRoot(s, d.parts[0]!, "ext4");
    s.enlarge(d, 128);
    const table = sh(["sfdisk", "--dump", d.loop]);
    sh(["blockdev", "--setro", d.loop]);
    try {
      const h = createHost({ root, logFile: null });
      const r = await growpart.run({ growpart: { mode: "growpart", devices: ["/"] } }, moduleContext(h, "local"));
      expect(r.status).toBe("unchanged");
      expect(r.errors![0]).toMatch(/is read-only: not grown \(make the disk writable/);
    } finally {
      sh(["blockdev", "--setrw", d.loop]);
    }
    expect(sh(["sfdisk", "--dump", d.loop])).toBe(table);
    expect(readFileSync(join(root, "payload.txt"), "utf8")).toBe(PAYLOAD);
    checkClean(s, root, d.parts[0]!, "ext4");
  });
});

describe("growpart with LVM: the partition under the root volume is a physical volume", () => {
  // This kernel may have no device-mapper, so the logical volume is a fake /sys
  // entry (dm-0, uuid LVM-…) whose one slave is a real loop partition holding a
  // real physical volume: growpart and pvresize run for real on it.
  const noLvm = unavailable ?? (spawnSync("sh", ["-c", "command -v pvcreate"]).status !== 0 ? "lvm2 is not installed" : null);
  it.skipIf(!!noLvm)("grows the partition, then pvresize makes the physical volume fill it", async () => {
    const s = (scratch = new Scratch());
    const d = s.disk("lvm", 64, { kind: "mbr", parts: [32] });
    const part = d.parts[0]!;
    const name = part.replace("/dev/", "");
    const vg = `sproutvg${process.pid}`;
    const lvmConf = "devices{obtain_device_list_from_udev=0}";
    sh(["pvcreate", "-q", "--config", lvmConf, part]);
    try {
      sh(["vgcreate", "-q", "--config", lvmConf, vg, part]);
      const pvSize = () => Number(sh(["pvs", "--config", lvmConf, "--noheadings", "--units", "b", "--nosuffix", "-o", "pv_size", part]).trim());
      const before = pvSize();
      s.enlarge(d, 128);
      const root = join(s.dir, "root");
      const link = (target: string, p: string) => {
        mkdirSync(join(root, p, ".."), { recursive: true });
        symlinkSync(target, join(root, p));
      };
      mkdirSync(join(root, "proc/self"), { recursive: true });
      writeFileSync(join(root, "proc/self/mountinfo"), `1 0 253:0 / / rw,relatime - ext4 /dev/mapper/${vg}-root rw\n`);
      for (const n of [d.loop.replace("/dev/", ""), name]) link(readlinkSync(`/sys/class/block/${n}`).replace(/^(\.\.\/)+/, "/sys/"), `sys/class/block/${n}`);
      mkdirSync(join(root, "sys/devices/virtual/block/dm-0/dm"), { recursive: true });
      writeFileSync(join(root, "sys/devices/virtual/block/dm-0/dm/name"), `${vg}-root\n`);
      writeFileSync(join(root, "sys/devices/virtual/block/dm-0/dm/uuid"), "LVM-fakeuuid\n");
      link(`/sys/class/block/${name}`, `sys/devices/virtual/block/dm-0/slaves/${name}`);
      link("../../devices/virtual/block/dm-0", "sys/class/block/dm-0");
      link("../../devices/virtual/block/dm-0", "sys/dev/block/253:0");
      symlinkSync("/dev", join(root, "dev"));
      const h = createHost({ root, logFile: null });
      const r = await growpart.run({ growpart: { mode: "auto", devices: ["/"] } }, moduleContext(h, "local"));
      expect(r.errors).toEqual([]);
      expect(r.status).toBe("changed");
      expect(r.detail).toMatch(/partition 1 of \/dev\/loop\d+\) grown from \d+ to \d+ sectors; physical volume resized \(extend the logical volume with lvextend/);
      expect(pvSize()).toBeGreaterThan(before + 80 * 1024 * 1024);
    } finally {
      spawnSync("vgremove", ["-q", "-f", "--config", lvmConf, vg]);
      spawnSync("pvremove", ["-q", "-f", "--config", lvmConf, part]);
    }
  });
});
