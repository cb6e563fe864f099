// The real thing: the image packaging/image/build makes, booted under qemu (TCG,
// no network) with a cidata seed. sprout's package, units and generator run as
// they would on a cloud instance.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain .mjs shared with the bench
import { bootVm, ensureImage, guestfwdNic, markers, overlayDisk, reportUserData, REPO, seedIso, vmUnavailable } from "./vm.mjs";
import { serveDir } from "../e2e/harness";
import { INSTANCE_ID, SSH_KEY, startImdsMock } from "../imds-mock/server";
import { vsphereEnv } from "../compat/cases-ovf";

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

  /** What every boot below must show: the report ran, runcmd saw the seed's hostname, status is clean, the datasource is `ds`. */
  function expectCleanBoot(r: { console: string; ended: string; ms: number }, ds: string, hostname: string): Record<string, string> {
    const m = markers(r.console);
    expect(m.DONE, `the report unit never ran (${r.ended} after ${r.ms} ms); console tail:\n${r.console.slice(-4000)}`).toBeDefined();
    expect(m.MARKER).toBe(`host=${hostname} file=written-by-sprout`);
    expect(m["STATUS-EXIT"], m.STATUS).toBe("0");
    expect(m.STATUS).toMatch(new RegExp(`^datasource: ${ds}$`, "m"));
    expect(JSON.parse(m["STATUS-JSON"]!).v1.errors).toEqual([]);
    expect(r.ended).toBe("poweroff");
    return m;
  }

  it("first boot on EC2: DMI says Amazon, the metadata service (on 127.0.0.1, reached through qemu's guestfwd) answers IMDSv2 over DHCP", async () => {
    const dir = scratch();
    const imds = await startImdsMock({ mode: "required", userData: reportUserData({ hostname: "vm-ec2" }) });
    try {
      const disk = overlayDisk(dir, image, DISK_GIB);
      // The guest's network is 169.254.0.0/16 so that 169.254.169.254, the address EC2 instances use, is on it.
      const r = await bootVm({
        dir,
        disks: [{ file: disk }],
        timeoutMs: 1_000_000,
        nic: guestfwdNic({ net: "169.254.0.0/16", addr: "169.254.169.254", guestPort: 80, hostPort: imds.port }),
        smbios: "type=1,manufacturer=Amazon EC2,product=t3.micro,uuid=ec2e1916-9099-7caf-fd21-012345abcdef",
      });
      const m = expectCleanBoot(r, "Ec2", "vm-ec2");
      expect(m.STATUS).toMatch(new RegExp(`^instance-id: ${INSTANCE_ID}$`, "m"));
      expect(m.KEYS!.trim()).toBe(SSH_KEY.split(" ").pop());
      // IMDSv2: a token first, then every read with it.
      expect(imds.requests[0]).toMatchObject({ method: "PUT", path: "/latest/api/token" });
      expect(imds.requests.filter((q) => q.method === "GET").every((q) => q.token !== null)).toBe(true);
    } finally {
      await imds.close();
    }
  });

  it("first boot from a seed URL in the SMBIOS serial (ds=nocloud;s=http://...), the server on 127.0.0.1 reached through guestfwd", async () => {
    const dir = scratch();
    const seedDir = join(dir, "served");
    mkdirSync(seedDir);
    writeFileSync(join(seedDir, "meta-data"), "instance-id: iid-vm-url\nlocal-hostname: vm-url-meta\n");
    writeFileSync(join(seedDir, "user-data"), reportUserData({ hostname: "vm-url" }));
    const server = await serveDir(seedDir);
    try {
      const disk = overlayDisk(dir, image, DISK_GIB);
      const r = await bootVm({
        dir,
        disks: [{ file: disk }],
        timeoutMs: 1_000_000,
        nic: guestfwdNic({ net: "10.0.2.0/24", addr: "10.0.2.100", guestPort: 80, hostPort: Number(new URL(server.url).port) }),
        smbios: "type=1,serial=ds=nocloud;s=http://10.0.2.100/",
      });
      const m = expectCleanBoot(r, "NoCloud", "vm-url");
      expect(m.STATUS).toMatch(/^instance-id: iid-vm-url$/m);
    } finally {
      server.stop();
    }
  });

  it("first boot from an OVF environment ISO as vSphere attaches it (label OVF ENV, oe:/ve: namespaces, base64 user-data)", async () => {
    const dir = scratch();
    const userData = Buffer.from(reportUserData({ hostname: "vm-ovf" })).toString("base64");
    // As vSphere writes it (test/compat/cases-ovf.ts, where cloud-init reads the same shape).
    const env = vsphereEnv({
      "instance-id": "iid-vm-ovf",
      hostname: "ovf-prop-host",
      seedfrom: "",
      "public-keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHhDq4vJ1oWd4Vdo0ZqgQ0CUq1nI0m2bRk2Jm4QrSx7 admin@laptop",
      "user-data": userData,
      password: "",
    });
    mkdirSync(join(dir, "ovf"));
    writeFileSync(join(dir, "ovf/ovf-env.xml"), env);
    const iso = join(dir, "ovf-env.iso");
    const x = spawnSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", "OVF ENV", "-J", "-r", "-o", iso, join(dir, "ovf")], { encoding: "utf8" });
    expect(x.status, x.stderr).toBe(0);
    const disk = overlayDisk(dir, image, DISK_GIB);
    const r = await bootVm({ dir, disks: [{ file: disk }, { file: iso, cdrom: true }], timeoutMs: 1_000_000 });
    const m = expectCleanBoot(r, "OVF", "vm-ovf");
    expect(m.STATUS).toMatch(/^instance-id: iid-vm-ovf$/m);
    expect(m.KEYS!.trim()).toBe("admin@laptop");
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
