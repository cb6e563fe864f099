// The RESCUE pivot, booted for real: Debian's kernel, an initramfs from the
// real mkinitramfs with our hook and local-top script, disks made by mkfs.
// The rescue disks are clones of the root (same filesystem UUID) and come
// first, as a volume attached to a broken instance may.
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOOKS, type Kernel, bootOnce, bootedRoot, buildInitramfs, cannotBoot, ensureKernel, makeDisk, rescueEnv, tempDir } from "./harness.js";

const why = cannotBoot();
if (why) console.warn(`skipping the RESCUE boot tests: ${why}`);

describe.skipIf(why !== null)("RESCUE pivot under qemu", () => {
  let work = "";
  let kernel: Kernel;
  let initrd = "";
  const uuid = randomUUID();
  const disk: Record<string, string> = {};

  beforeAll(() => {
    work = tempDir("rescue");
    kernel = ensureKernel();
    // dropbear left out entirely: this image only needs the pivot.
    const conf = readFileSync(join(HOOKS, "rescue.conf"), "utf8").replace(/^DROPBEAR=.*$/m, "DROPBEAR=never");
    initrd = buildInitramfs(kernel, work, { systemFiles: { "etc/sprout/rescue.conf": conf } });
    disk.root = makeDisk(work, { id: "normal", label: "cloudimg-rootfs", uuid });
    disk.rescue = makeDisk(work, { id: "rescue", label: "RESCUE", uuid });
    disk.done = makeDisk(work, { id: "rescue-done", label: "RESCUE", uuid, files: ["DONE"] });
    disk.finished = makeDisk(work, { id: "rescue-finished", label: "RESCUE", uuid, files: ["finished"] });
    disk.uec = makeDisk(work, { id: "rescue-uec", label: "UEC-rescue", uuid });
    disk.custom = makeDisk(work, { id: "custom", label: "FIXIT", uuid });
    disk.vfat = makeDisk(work, { id: "rescue-vfat", label: "RESCUE", fs: "vfat" });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const boot = (name: string, disks: string[], append: string) =>
    bootOnce({ kernel, initrd, disks, append: `${append} panic=1`, timeoutMs: 300_000, log: join(work, `${name}.log`) });

  it("boots the normal root when no rescue volume is attached", async () => {
    const log = await boot("none", [disk.root], `root=UUID=${uuid}`);
    expect(bootedRoot(log), log).toBe("normal");
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "not-found", RESCUE_DEVICE: "" });
  });

  it("boots a volume labelled RESCUE instead of the root, and says so", async () => {
    const log = await boot("rescue", [disk.rescue, disk.root], `root=UUID=${uuid}`);
    expect(bootedRoot(log), log).toBe("rescue");
    expect(log).toMatch(/Success: sprout-rescue: booting the rescue volume \/dev\/vda/);
    expect(rescueEnv(log)).toMatchObject({
      RESCUE_ACTIVE: "1", RESCUE_REASON: "pivot", RESCUE_DEVICE: "/dev/vda", RESCUE_LABEL: "RESCUE", RESCUE_FSTYPE: "ext4",
    });
  });

  it("ignores a rescue volume with /DONE, even when root=UUID= also matches it", async () => {
    const log = await boot("done", [disk.done, disk.root], `root=UUID=${uuid}`);
    expect(bootedRoot(log), log).toBe("normal");
    expect(log).toMatch(/Warning: sprout-rescue: rescue volume \/dev\/vda \(label RESCUE\) ignored: it has \/DONE/);
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "marker", RESCUE_MARKER: "/DONE", RESCUE_ROOT: "/dev/vdb" });
  });

  it("ignores a rescue volume with /finished", async () => {
    const log = await boot("finished", [disk.finished, disk.root], "root=LABEL=cloudimg-rootfs");
    expect(bootedRoot(log), log).toBe("normal");
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "marker", RESCUE_MARKER: "/finished" });
  });

  it("does nothing with sprout.rescue=0", async () => {
    const log = await boot("off", [disk.rescue, disk.root], "root=LABEL=cloudimg-rootfs sprout.rescue=0");
    expect(bootedRoot(log), log).toBe("normal");
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "disabled" });
  });

  it("boots the label given by sprout.rescue_label=, and no longer RESCUE", async () => {
    const log = await boot("custom", [disk.rescue, disk.custom, disk.root], `root=UUID=${uuid} sprout.rescue_label=FIXIT`);
    expect(bootedRoot(log), log).toBe("custom");
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "1", RESCUE_DEVICE: "/dev/vdb", RESCUE_LABEL: "FIXIT", RESCUE_CANDIDATES: "/dev/vdb" });
  });

  it("takes the first of several rescue volumes (UEC-rescue counts) and names the others", async () => {
    const log = await boot("several", [disk.uec, disk.rescue, disk.root], `root=UUID=${uuid}`);
    expect(bootedRoot(log), log).toBe("rescue-uec");
    expect(log).toMatch(/several volumes carry a rescue label \(\/dev\/vda \/dev\/vdb\): using \/dev\/vda/);
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "1", RESCUE_LABEL: "UEC-rescue", RESCUE_CANDIDATES: "/dev/vda /dev/vdb" });
  });

  it("boots the normal root when the rescue volume does not mount, and says why", async () => {
    // vfat is not in this initramfs, so the mount fails as a broken volume would.
    const log = await boot("nomount", [disk.vfat, disk.root], "root=LABEL=cloudimg-rootfs");
    expect(bootedRoot(log), log).toBe("normal");
    expect(log).toMatch(/Warning: sprout-rescue: rescue volume \/dev\/vda \(label RESCUE\) does not mount/);
    expect(rescueEnv(log)).toMatchObject({ RESCUE_ACTIVE: "0", RESCUE_REASON: "mount-failed", RESCUE_FSTYPE: "vfat" });
  });
});
