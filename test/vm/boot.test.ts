// The real thing: the image packaging/image/build makes, booted under qemu (TCG,
// no network) with a cidata seed. sprout's package, units and generator run as
// they would on a cloud instance.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain .mjs shared with the bench
import { bootVm, ensureImage, markers, overlayDisk, reportUserData, REPO, seedIso, vmUnavailable } from "./vm.mjs";

const why = vmUnavailable();
if (why) console.warn(`skipping VM tests: ${why}`);

const IMAGE_GIB = 3;
const DISK_GIB = 5;

describe.skipIf(why !== null)("the sprout image under qemu", () => {
  let image = "";
  const dirs: string[] = [];
  const scratch = () => {
    const d = mkdtempSync("/var/tmp/sprout-vm-");
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    image = await ensureImage();
  }, 2_400_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("first boot from a cidata seed: hostname, files, commands, a grown root, sprout status clean, poweroff", async () => {
    const dir = scratch();
    const seed = seedIso(dir, { "meta-data": "instance-id: iid-vm-1\nlocal-hostname: vm-meta\n", "user-data": reportUserData({ hostname: "vm-sprout" }) });
    const disk = overlayDisk(dir, image, DISK_GIB);
    const r = await bootVm({ dir, disks: [{ file: disk }, { file: seed.iso, cdrom: true }], timeoutMs: 1_000_000 });
    const m = markers(r.console);
    const tail = r.console.slice(-4000);
    expect(m.DONE, `the report unit never ran (${r.ended} after ${r.ms} ms; seed made by ${seed.made}); console tail:\n${tail}`).toBeDefined();
    expect(m.MARKER).toBe("host=vm-sprout file=written-by-sprout");
    // Ordered after sprout-final.service, `sprout status --wait` returns at once, clean.
    expect(m["STATUS-EXIT"], m.STATUS).toBe("0");
    expect(m.STATUS).toMatch(/^status: done$/m);
    expect(m.STATUS).toMatch(/^datasource: NoCloud$/m);
    const status = JSON.parse(m["STATUS-JSON"]!);
    expect(status.v1.errors).toEqual([]);
    for (const s of ["local", "network", "config", "final"]) expect(status.v1.stages[s].end, s).toBeTruthy();
    expect(m.ROOTDEV).toMatch(/cloudimg-rootfs/);
    if (existsSync(join(REPO, "modules/growpart/index.ts"))) {
      // The root filesystem grew from the image's 3 GiB to (nearly) the 5 GiB disk.
      expect(Number(m["ROOT-MB"])).toBeGreaterThan((DISK_GIB - 0.5) * 1024);
    } else console.warn("growpart module not in this tree yet (bootmods branch): root growth not checked");
    expect(r.ended).toBe("poweroff");
  });

  it("a disk labelled RESCUE boots the rescue volume as root", async (ctx) => {
    const hook = join(REPO, "initramfs-hooks/initramfs-tools/scripts/local-top");
    if (!existsSync(hook)) {
      console.warn("skipped: the RESCUE initramfs hook (initramfs-hooks/initramfs-tools/scripts/local-top, initramfs branch) is not in this tree yet");
      ctx.skip();
    }
    const dir = scratch();
    // The rescue volume: a second copy of the image (sparse), its root filesystem relabelled RESCUE.
    const base = overlayDisk(dir, image, IMAGE_GIB);
    const raw = join(dir, "rescue.raw");
    expect(spawnSync("cp", ["--sparse=always", image, raw]).status).toBe(0);
    // e2label through a loop device at the partition's offset (1 MiB).
    const lo = spawnSync("losetup", ["--show", "-f", "-o", "1048576", raw], { encoding: "utf8" });
    if (lo.status !== 0) {
      console.warn(`skipped: no loop device to relabel the rescue disk (${lo.stderr.trim()})`);
      ctx.skip();
    }
    try {
      expect(spawnSync("e2label", [lo.stdout.trim(), "RESCUE"]).status).toBe(0);
    } finally {
      spawnSync("losetup", ["-d", lo.stdout.trim()]);
    }
    const seed = seedIso(dir, { "meta-data": "instance-id: iid-vm-rescue\n", "user-data": reportUserData({ hostname: "vm-rescue" }) });
    const r = await bootVm({ dir, disks: [{ file: base }, { file: raw, format: "raw" }, { file: seed.iso, cdrom: true }], timeoutMs: 1_000_000 });
    const m = markers(r.console);
    expect(m.ROOTDEV, `console tail:\n${r.console.slice(-4000)}`).toMatch(/RESCUE/);
  });
});
