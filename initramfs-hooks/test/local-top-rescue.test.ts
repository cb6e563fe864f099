// scripts/local-top/sprout-rescue run with sh against a fake initramfs.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeInitramfs, LOCAL_TOP } from "./fake.js";

let t: FakeInitramfs;
afterEach(() => t?.cleanup());

const ROOT_DISK = { name: "vda", label: "cloudimg-rootfs", uuid: "1111-aaaa" };

function setup(cmdline?: string) {
  t = new FakeInitramfs({ cmdline });
  return t;
}

const env = () => t.sourceEnv("run/sprout/rescue.env");
const param = () => t.read("conf/param.conf");

describe("local-top/sprout-rescue", () => {
  it("answers prereqs without doing anything", () => {
    setup();
    const r = t.run(LOCAL_TOP, ["prereqs"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("");
    expect(t.callLog()).toEqual([]);
  });

  it("boots a volume labelled RESCUE: appends ROOT= and clears a stale type and flags", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE" });
    t.file("conf/param.conf", "ROOTFSTYPE=xfs\n");
    const r = t.run(LOCAL_TOP, [], { ROOTFSTYPE: "xfs", ROOTFLAGS: "-o subvol=@" });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Success: sprout-rescue: booting the rescue volume \/dev\/vdb \(label RESCUE\) instead of root=LABEL=cloudimg-rootfs/m);
    expect(param()).toBe("ROOTFSTYPE=xfs\nROOT=/dev/vdb\nROOTFSTYPE=\nFSTYPE=\nROOTFLAGS=\n");
    // What initramfs-tools sees after re-reading param.conf:
    expect(t.sourceEnv("conf/param.conf")).toEqual({ ROOT: "/dev/vdb", ROOTFSTYPE: "", FSTYPE: "", ROOTFLAGS: "" });
    expect(env()).toMatchObject({
      RESCUE_FORMAT: "1", RESCUE_ACTIVE: "1", RESCUE_REASON: "pivot", RESCUE_DEVICE: "/dev/vdb",
      RESCUE_LABEL: "RESCUE", RESCUE_FSTYPE: "ext4", RESCUE_CANDIDATES: "/dev/vdb", RESCUE_ROOT: "/dev/vdb",
    });
    // Looked at read-only, then let go of.
    expect(t.callLog()).toContain(`mount -r -t ext4 /dev/vdb ${join(t.root, "run/sprout/rescue-probe")}`);
    expect(t.callLog().some((c) => c.startsWith("umount "))).toBe(true);
    expect(existsSync(join(t.root, "run/sprout/rescue-probe"))).toBe(false);
  });

  it("boots the normal root without waiting when there is no rescue volume", () => {
    setup();
    t.device(ROOT_DISK);
    const r = t.run(LOCAL_TOP);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Success: sprout-rescue: no volume labelled RESCUE or UEC-rescue; booting root=LABEL=cloudimg-rootfs/);
    expect(param()).toBe("");
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "not-found", RESCUE_DEVICE: "", RESCUE_ROOT: "LABEL=cloudimg-rootfs" });
    expect(t.callLog()).toContain("udevadm settle --timeout=5");
    expect(t.callLog().filter((c) => c.startsWith("sleep"))).toEqual([]);
  });

  it("waits at most RESCUE_WAIT seconds for devices when neither root nor rescue has appeared", () => {
    setup();
    t.file("etc/sprout/rescue.conf", "RESCUE_WAIT=3\n");
    const r = t.run(LOCAL_TOP);
    expect(r.code).toBe(0);
    expect(t.callLog().filter((c) => c.startsWith("sleep"))).toEqual(["sleep 1", "sleep 1", "sleep 1"]);
    expect(t.callLog().filter((c) => c.startsWith("udevadm"))).toEqual([
      "udevadm settle --timeout=3", "udevadm settle --timeout=2", "udevadm settle --timeout=1", "udevadm settle --timeout=0",
    ]);
    expect(env()).toMatchObject({ RESCUE_REASON: "not-found" });
  });

  it("caps a huge RESCUE_WAIT at 30 seconds", () => {
    setup();
    t.file("etc/sprout/rescue.conf", "RESCUE_WAIT=3600\n");
    t.run(LOCAL_TOP);
    expect(t.callLog().filter((c) => c.startsWith("sleep"))).toHaveLength(30);
  });

  it("finds a rescue volume that appears while it waits", () => {
    setup();
    // The volume shows up after the first second (the sleep stub moves time).
    t.stub("sleep", `#!/bin/sh
echo "sleep $*" >>"$CALLS"
mkdir -p "$SPROUT_ROOT/sys/block/vdb" "$FAKE/devs/vdb/fs/sbin"
echo 100 >"$SPROUT_ROOT/sys/block/vdb/size"; printf RESCUE >"$FAKE/devs/vdb/LABEL"; printf ext4 >"$FAKE/devs/vdb/TYPE"
: >"$FAKE/devs/vdb/fs/sbin/init"
`);
    t.run(LOCAL_TOP);
    expect(t.callLog().filter((c) => c.startsWith("sleep"))).toEqual(["sleep 1"]);
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "1", RESCUE_DEVICE: "/dev/vdb" });
  });

  it.each(["DONE", "finished"])("ignores a rescue volume with /%s and boots root=", (marker) => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE", files: { "sbin/init": "", [marker]: "" } });
    const r = t.run(LOCAL_TOP);
    expect(r.stdout).toContain(`Warning: sprout-rescue: rescue volume /dev/vdb (label RESCUE) ignored: it has /${marker}; booting root=LABEL=cloudimg-rootfs`);
    expect(param()).toBe("");
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "marker", RESCUE_MARKER: `/${marker}`, RESCUE_DEVICE: "/dev/vdb" });
  });

  it("pins root= away from an ignored clone that shares the root's UUID", () => {
    setup();
    // blkid -l would answer with the clone: it sorts first.
    t.device({ name: "vda", label: "RESCUE", uuid: "1111-aaaa", files: { DONE: "" } });
    t.device({ name: "vdb", label: "cloudimg-rootfs", uuid: "1111-aaaa" });
    const r = t.run(LOCAL_TOP, [], { ROOT: "UUID=1111-aaaa" });
    expect(r.stdout).toContain("root=UUID=1111-aaaa also matches the rescue volume /dev/vda: booting /dev/vdb");
    expect(param()).toBe("ROOT=/dev/vdb\n");
    expect(env()).toMatchObject({ RESCUE_REASON: "marker", RESCUE_ROOT: "/dev/vdb" });
  });

  it("pins root= too when blkid -l would pick the root this time: the next probe may not", () => {
    setup();
    t.device({ name: "vda", label: "cloudimg-rootfs", uuid: "1111-aaaa" });
    t.device({ name: "vdb", label: "RESCUE", uuid: "1111-aaaa", files: { DONE: "" } });
    t.run(LOCAL_TOP, [], { ROOT: "UUID=1111-aaaa" });
    expect(param()).toBe("ROOT=/dev/vda\n");
  });

  it("leaves root= alone when the ignored volume does not match it", () => {
    setup();
    t.device({ name: "vda", label: "cloudimg-rootfs", uuid: "1111-aaaa" });
    t.device({ name: "vdb", label: "RESCUE", uuid: "2222-bbbb", files: { DONE: "" } });
    t.run(LOCAL_TOP, [], { ROOT: "UUID=1111-aaaa" });
    expect(param()).toBe("");
    expect(env()).toMatchObject({ RESCUE_ROOT: "UUID=1111-aaaa" });
  });

  it("does nothing at all with sprout.rescue=0", () => {
    setup("root=LABEL=cloudimg-rootfs sprout.rescue=0");
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE" });
    const r = t.run(LOCAL_TOP);
    expect(r.stdout).toContain("Success: sprout-rescue: rescue volumes are switched off (kernel argument sprout.rescue=0)");
    expect(t.callLog()).toEqual([]);
    expect(param()).toBe("");
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "disabled" });
  });

  it("does nothing with RESCUE=n in rescue.conf, and sprout.rescue=1 turns it back on", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE" });
    t.file("etc/sprout/rescue.conf", "RESCUE=n\n");
    expect(t.run(LOCAL_TOP).stdout).toContain("switched off (rescue.conf)");
    expect(param()).toBe("");
    t.file("proc/cmdline", "root=LABEL=cloudimg-rootfs sprout.rescue=1\n");
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "1", RESCUE_DEVICE: "/dev/vdb" });
  });

  it("takes the label from rescue.conf, and sprout.rescue_label= over it", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE" });
    t.device({ name: "vdc", label: "FROMCONF" });
    t.device({ name: "vdd", label: "FROMCMDLINE" });
    t.file("etc/sprout/rescue.conf", "RESCUE_LABEL=FROMCONF\n");
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_DEVICE: "/dev/vdc", RESCUE_LABEL: "FROMCONF", RESCUE_CANDIDATES: "/dev/vdc" });
    t.file("proc/cmdline", "root=LABEL=cloudimg-rootfs sprout.rescue_label=FROMCMDLINE\n");
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_DEVICE: "/dev/vdd", RESCUE_LABEL: "FROMCMDLINE", RESCUE_CANDIDATES: "/dev/vdd" });
  });

  it("accepts the label UEC-rescue too", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "UEC-rescue" });
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "1", RESCUE_LABEL: "UEC-rescue" });
  });

  it("chooses the first of several by /sys/block order, partitions after their disk, and says so", () => {
    setup();
    t.device({ name: "vdc", label: "RESCUE" });
    t.device({ name: "sda" });
    t.device({ name: "sda2", parent: "sda", label: "UEC-rescue" });
    t.device({ name: "sda1", parent: "sda", label: "RESCUE" });
    t.device(ROOT_DISK);
    const r = t.run(LOCAL_TOP);
    expect(r.stdout).toContain("Warning: sprout-rescue: several volumes carry a rescue label (/dev/sda1 /dev/sda2 /dev/vdc): using /dev/sda1, the first in /sys/block order");
    expect(env()).toMatchObject({ RESCUE_DEVICE: "/dev/sda1", RESCUE_CANDIDATES: "/dev/sda1 /dev/sda2 /dev/vdc" });
  });

  it("skips loop, ram and zram devices and empty drives", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "loop0", label: "RESCUE" });
    t.device({ name: "ram0", label: "RESCUE" });
    t.device({ name: "zram0", label: "RESCUE" });
    t.device({ name: "sr0", label: "RESCUE", size: "0" });
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_REASON: "not-found", RESCUE_CANDIDATES: "" });
  });

  it("boots the normal root when the rescue volume does not mount, and says why", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE", mountError: "mount: wrong fs type, bad superblock on /dev/vdb" });
    const r = t.run(LOCAL_TOP);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Warning: sprout-rescue: rescue volume /dev/vdb (label RESCUE) does not mount: mount: wrong fs type, bad superblock on /dev/vdb; booting root=LABEL=cloudimg-rootfs");
    expect(param()).toBe("");
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "mount-failed" });
  });

  it("gives up on a mount that hangs, under timeout, and boots the normal root", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE" });
    // timeout's answer when the command ran out of time; the call is logged.
    t.stub("timeout", `#!/bin/sh\necho "timeout $*" >>"$CALLS"\ncase "$2" in mount) exit 124 ;; esac\nshift; exec "$@"\n`);
    const r = t.run(LOCAL_TOP);
    expect(t.callLog()).toContain(`timeout 15 mount -r -t ext4 /dev/vdb ${join(t.root, "run/sprout/rescue-probe")}`);
    expect(t.callLog()).toContain("timeout 5 blkid -o value -s LABEL /dev/vdb");
    expect(r.stdout).toContain("does not mount: the mount did not finish within 15 seconds");
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "mount-failed" });
  });

  it("does not boot a rescue volume without an init", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE", files: { "etc/hostname": "x\n" } });
    const r = t.run(LOCAL_TOP);
    expect(r.stdout).toContain("has no /sbin/init, so it cannot boot");
    expect(param()).toBe("");
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "no-init" });
  });

  it("counts an init that is an absolute symlink, which only resolves inside the volume", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE", files: { "sbin/init": "->/lib/systemd/systemd-that-is-not-here" } });
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "1" });
  });

  it("honours init= when looking for the rescue volume's init", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE", files: { "bin/myinit": "" } });
    t.run(LOCAL_TOP, [], { init: "/bin/myinit" });
    expect(env()).toMatchObject({ RESCUE_ACTIVE: "1" });
  });

  it("says blkid is missing instead of failing the boot", () => {
    t = new FakeInitramfs({ stubs: ["mount", "umount", "sleep", "udevadm"] });
    t.device({ name: "vdb", label: "RESCUE" });
    const r = t.run(LOCAL_TOP);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Warning: sprout-rescue: blkid is missing from the initramfs");
    expect(env()).toMatchObject({ RESCUE_REASON: "no-blkid", RESCUE_ACTIVE: "0" });
  });

  it("writes values the agent can read back exactly, quotes and all", () => {
    setup("root=LABEL=cloudimg-rootfs sprout.rescue_label=it's");
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "it's" });
    t.run(LOCAL_TOP);
    expect(env()).toMatchObject({ RESCUE_LABEL: "it's", RESCUE_ACTIVE: "1" });
    expect(t.read("run/sprout/rescue.env")).toContain("RESCUE_LABEL='it'\\''s'");
  });

  it("with quiet, still records the decision in the kernel log", () => {
    setup();
    t.device(ROOT_DISK);
    t.device({ name: "vdb", label: "RESCUE" });
    // initramfs-tools' own log functions, which print nothing when quiet.
    t.file("scripts/functions", readFileSync("/usr/share/initramfs-tools/scripts/functions", "utf8"));
    t.file("dev/kmsg", "");
    const r = t.run(LOCAL_TOP, [], { quiet: "y" });
    expect(r.stdout).toBe("");
    expect(t.read("dev/kmsg")).toMatch(/^<5>sprout-rescue: booting the rescue volume \/dev\/vdb/);
    const loud = t.run(LOCAL_TOP, [], { quiet: "n" });
    expect(loud.stdout).toMatch(/^Success: sprout-rescue: booting the rescue volume/m);
  });

  it("can be sourced for its functions without running", () => {
    setup();
    t.device({ name: "vda" });
    t.device({ name: "vda1", parent: "vda" });
    t.device({ name: "cciss!c0d0" });
    t.device({ name: "loop3" });
    const r = t.sh(["-c", `. "${LOCAL_TOP}"; sr_block_devices`], { SPROUT_RESCUE_NO_MAIN: "1" });
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["/dev/cciss/c0d0", "/dev/vda", "/dev/vda1"]);
    expect(existsSync(join(t.root, "run/sprout/rescue.env"))).toBe(false);
  });
});
