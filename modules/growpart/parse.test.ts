// Pure parsing (growpart and resizer output) and device discovery on a fake /sys tree.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { moduleContext } from "../../test/helpers/module-context";
import { resizefs } from "../resizefs";
import { parseBtrfsResize, parseResize2fs, parseXfsGrowfs } from "../resizefs/parse";
import { findGrowTarget } from ".";
import { parseGrowpartOutput } from "./parse";

describe("parseGrowpartOutput", () => {
  it("reads CHANGED with the old and new sizes", () => {
    expect(parseGrowpartOutput(0, "CHANGED: partition=1 start=2048 old: size=63488 end=65535 new: size=129024 end=131071\n", "")).toEqual({ kind: "changed", oldSectors: 63488, newSectors: 129024 });
  });
  it("reads NOCHANGE as nothing to do", () => {
    expect(parseGrowpartOutput(1, "NOCHANGE: partition 1 is size 129024. it cannot be grown\n", "")).toEqual({ kind: "nochange", reason: "partition 1 is size 129024. it cannot be grown" });
    expect(parseGrowpartOutput(1, "NOCHANGE: partition 1 could only be grown by 33 [fudge=2048]\n", "").kind).toBe("nochange");
  });
  it("reads FAILED and other exits as failures with the reason", () => {
    expect(parseGrowpartOutput(2, "FAILED: failed to get a partition table\n", "")).toEqual({ kind: "failed", reason: "failed to get a partition table" });
    expect(parseGrowpartOutput(1, "", "WARNING: something odd\n")).toEqual({ kind: "failed", reason: "WARNING: something odd" });
  });
});

describe("resizer output", () => {
  it("resize2fs", () => {
    expect(parseResize2fs("resize2fs 1.47.0\nThe filesystem on /dev/vda1 is now 2621179 (4k) blocks long.\n")).toEqual({ grew: true, detail: "now 2621179 (4k) blocks" });
    expect(parseResize2fs("The filesystem is already 25344 (4k) blocks long.  Nothing to do!\n").grew).toBe(false);
  });
  it("xfs_growfs and btrfs", () => {
    expect(parseXfsGrowfs("meta-data=/dev/vda1 ...\ndata blocks changed from 81920 to 122880\n")).toEqual({ grew: true, detail: "data blocks 81920 -> 122880" });
    expect(parseXfsGrowfs("meta-data=/dev/vda1 isize=512\n").grew).toBe(false);
    expect(parseBtrfsResize("Resize device id 1 (/dev/vda2) from 1.00GiB to max\n").detail).toBe("resized from 1.00GiB to max");
  });
});

/** A fake /sys and /dev: vda with partitions vda1 and vda2, vda2 an LVM PV under dm-0, and a LUKS dm-1. */
function fakeMachine(mountinfo: string): TempRoot {
  const r = tempRoot({ "/proc/self/mountinfo": mountinfo });
  const dir = (p: string) => mkdirSync(join(r.dir, p), { recursive: true });
  const link = (target: string, p: string) => {
    mkdirSync(dirname(join(r.dir, p)), { recursive: true });
    symlinkSync(target, join(r.dir, p));
  };
  const dev = "/sys/devices/pci0000:00/virtio1/block";
  dir(`${dev}/vda`);
  for (const [n, part] of [["vda1", 1], ["vda2", 2]] as const) {
    dir(`${dev}/vda/${n}`);
    r.write(`${dev}/vda/${n}/partition`, `${part}\n`);
    r.write(`${dev}/vda/${n}/ro`, "0\n");
    link(`../../devices/pci0000:00/virtio1/block/vda/${n}`, `/sys/class/block/${n}`);
  }
  r.write(`${dev}/vda/ro`, "0\n");
  link("../../devices/pci0000:00/virtio1/block/vda", "/sys/class/block/vda");
  link("../../devices/pci0000:00/virtio1/block/vda/vda1", "/sys/dev/block/254:1");
  for (const [n, name, uuid, slave] of [["dm-0", "vg0-root", "LVM-abc", "vda2"], ["dm-1", "cryptroot", "CRYPT-LUKS2-x", "vda2"]] as const) {
    dir(`/sys/devices/virtual/block/${n}/slaves`);
    r.write(`/sys/devices/virtual/block/${n}/dm/name`, name + "\n");
    r.write(`/sys/devices/virtual/block/${n}/dm/uuid`, uuid + "\n");
    link(`../../../../pci0000:00/virtio1/block/vda/${slave}`, `/sys/devices/virtual/block/${n}/slaves/${slave}`);
    link(`../../devices/virtual/block/${n}`, `/sys/class/block/${n}`);
  }
  link("../../devices/virtual/block/dm-0", "/sys/dev/block/253:0");
  link("../dm-0", "/dev/mapper/vg0-root");
  link("../../vda1", "/dev/disk/by-uuid/1234-abcd");
  return r;
}

describe("findGrowTarget on a fake /sys", () => {
  const roots: TempRoot[] = [];
  afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));
  const machine = (name: string) => {
    const r = fakeMachine(readFileSync(join(__dirname, "../../test/fixtures/mountinfo", name), "utf8"));
    roots.push(r);
    return r.host();
  };

  it("/ on LVM: grows the physical volume's partition and asks for pvresize", () => {
    expect(findGrowTarget(machine("cloud-lvm.txt"), "/", readFileSync(join(__dirname, "../../test/fixtures/mountinfo/cloud-lvm.txt"), "utf8"))).toMatchObject({ part: { name: "vda2", partition: 2 }, disk: { name: "vda" }, pv: true });
  });

  it("/dev/root is found by major:minor", () => {
    const h = machine("dev-root.txt");
    expect(findGrowTarget(h, "/", h.root.readText("/proc/self/mountinfo"))).toMatchObject({ part: { name: "vda1", partition: 1 }, disk: { dev: "/dev/vda" }, pv: false });
  });

  it("device paths through by-uuid and /dev/mapper links", () => {
    const h = machine("dev-root.txt");
    expect(findGrowTarget(h, "/dev/disk/by-uuid/1234-abcd", null)).toMatchObject({ part: { name: "vda1" } });
    expect(findGrowTarget(h, "/dev/mapper/vg0-root", null)).toMatchObject({ part: { name: "vda2" }, pv: true });
  });

  it("says why there is nothing to grow: tmpfs, not mounted, encrypted, unknown device", () => {
    const h = machine("cloud-lvm.txt");
    const mi = h.root.readText("/proc/self/mountinfo");
    expect(findGrowTarget(h, "/run", mi)).toEqual({ entry: "/run", nothing: "/run is on tmpfs (tmpfs), not a block device" });
    expect(findGrowTarget(h, "/var", mi)).toEqual({ entry: "/var", nothing: "/var is not a mount point" });
    expect(findGrowTarget(h, "/mnt/my data", mi)).toEqual({ entry: "/mnt/my data", nothing: "/mnt/my data is /srv/with space of /dev/vda1 (a bind mount or chroot), not a whole filesystem: not grown" });
    expect(findGrowTarget(h, "/dev/dm-1", mi)).toMatchObject({ nothing: expect.stringMatching(/device-mapper cryptroot \(CRYPT.*only an LVM volume on one partition is grown/) });
    expect(findGrowTarget(h, "/dev/sdz9", mi)).toMatchObject({ nothing: "/dev/sdz9: no such block device in /sys/class/block" });
    expect(findGrowTarget(h, "/dev/vda", mi)).toMatchObject({ nothing: "/dev/vda is a whole disk, not a partition: there is no partition to grow" });
  });
});

describe("resizefs on a chroot's root", () => {
  it("leaves a / that is a subdirectory of another filesystem alone", async () => {
    const r = tempRoot({ "/proc/self/mountinfo": "30 1 254:1 /var/cache/chroot / rw,relatime - ext4 /dev/vda1 rw\n" });
    try {
      expect(await resizefs.run({ resize_rootfs: true }, moduleContext(r.host(), "local"))).toEqual({ status: "skipped", detail: "/ is /var/cache/chroot of /dev/vda1 (a bind mount or chroot), not a whole filesystem: not resized" });
    } finally {
      r.cleanup();
    }
  });
});
