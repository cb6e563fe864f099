import { afterEach, describe, expect, it } from "vitest";
import type { RunResult } from "../../agent/host/types";
import { moduleContext, recordingHost, recordingRunningSystem } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { grubDpkg } from ".";
import { GRUB_PC_INSTALLED } from "./installed";

let root: TempRoot | null = null;
afterEach(() => {
  root?.cleanup();
  root = null;
});

type Answers = Record<string, Partial<RunResult>>;

/** The running system with grub-pc installed; commands recorded and answered by their first word, never run. */
function live(answers: Answers, installed = ["grub-probe", "udevadm", "debconf-set-selections"], files: Record<string, string> = { [GRUB_PC_INSTALLED]: "/.\n", "/dev/vda": "" }) {
  root = tempRoot(files);
  const rec = recordingRunningSystem(root.host(), installed, { run: (argv) => answers[argv[0]!] ?? { code: 0 } });
  return { rec, ctx: moduleContext(root, { host: rec.host, stage: "config" }) };
}
const out = (s: string) => ({ code: 0, stdout: Buffer.from(s) });
const selections = (rec: ReturnType<typeof live>["rec"]) => rec.runs.filter((r) => r.argv[0] === "debconf-set-selections").map((r) => r.opts.input);

describe("grub_dpkg", () => {
  it("answers with the disk of /boot by its first /dev/disk/by-id name, as cloud-init picks it", async () => {
    const m = live({ "grub-probe": out("/dev/vda\n"), udevadm: out("/dev/disk/by-path/pci-0000:00:04.0 /dev/disk/by-id/virtio-vol2 /dev/disk/by-id/virtio-vol1\n") });
    const res = await grubDpkg.run({}, m.ctx);
    expect(res).toEqual({ status: "changed", detail: "grub-pc/install_devices /dev/disk/by-id/virtio-vol1, install_devices_empty false" });
    expect(m.rec.runs.map((r) => r.argv)).toEqual([["grub-probe", "-t", "disk", "/boot"], ["udevadm", "info", "--root", "--query=symlink", "/dev/vda"], ["debconf-set-selections"]]);
    expect(selections(m.rec)).toEqual(["grub-pc grub-pc/install_devices string /dev/disk/by-id/virtio-vol1\ngrub-pc grub-pc/install_devices_empty boolean false\n"]);
  });

  it("falls back to the plain disk name without a by-id link, and to no device (empty allowed) when grub-probe cannot tell", async () => {
    const plain = live({ "grub-probe": out("/dev/vda\n"), udevadm: out("/dev/disk/by-path/pci-0000:00:04.0\n") });
    await grubDpkg.run({}, plain.ctx);
    expect(selections(plain.rec)).toEqual(["grub-pc grub-pc/install_devices string /dev/vda\ngrub-pc grub-pc/install_devices_empty boolean false\n"]);
    const container = live({ "grub-probe": { code: 1, stderr: Buffer.from("grub-probe: error: failed to get canonical path of `overlay'.\n") } });
    const res = await grubDpkg.run({}, container.ctx);
    expect(res.detail).toMatch(/^grub-pc\/install_devices \(none\), install_devices_empty true \(grub-probe cannot see the disk of \/boot/);
    expect(selections(container.rec)).toEqual(["grub-pc grub-pc/install_devices string \ngrub-pc grub-pc/install_devices_empty boolean true\n"]);
  });

  it("any other grub-probe failure is an error that says how to set the device, and nothing is answered", async () => {
    const m = live({ "grub-probe": { code: 1, stderr: Buffer.from("grub-probe: error: disk `hostdisk//dev/vda' not found.\n") } });
    await expect(grubDpkg.run({}, m.ctx)).rejects.toThrow(/grub-probe -t disk \/boot failed \(exit 1: grub-probe: error: disk .* not found\.\): set grub_dpkg: \{grub-pc\/install_devices: DEVICE\}/);
    expect(selections(m.rec)).toEqual([]);
  });

  it("takes the devices from config (either spelling), and skips when disabled", async () => {
    const given = live({});
    await grubDpkg.run({ "grub-dpkg": { "grub-pc/install_devices": "/dev/sda", "grub-pc/install_devices_empty": "no" } }, given.ctx);
    expect(given.rec.runs.map((r) => r.argv[0])).toEqual(["debconf-set-selections"]);
    expect(selections(given.rec)).toEqual(["grub-pc grub-pc/install_devices string /dev/sda\ngrub-pc grub-pc/install_devices_empty boolean false\n"]);
    const off = live({});
    expect(await grubDpkg.run({ grub_dpkg: { enabled: false } }, off.ctx)).toEqual({ status: "skipped", detail: "grub_dpkg.enabled is false" });
    expect(off.rec.runs).toEqual([]);
    expect((await grubDpkg.run({ grub_dpkg: "yes" }, live({}).ctx)).errors![0]).toMatch(/grub_dpkg must be a mapping/);
    const twoLines = live({});
    expect((await grubDpkg.run({ grub_dpkg: { "grub-pc/install_devices": "/dev/sda\nother q string v" } }, twoLines.ctx)).errors![0]).toMatch(/device names on one line/);
    expect(twoLines.rec.runs).toEqual([]);
  });

  it("does nothing without grub-pc (an EFI image) unless configured; under --root only with the devices given, through chroot", async () => {
    const efi = live({}, undefined, {});
    expect(await grubDpkg.run({}, efi.ctx)).toEqual({ status: "skipped", detail: "grub-pc is not installed" });
    expect(efi.rec.runs).toEqual([]);
    root = tempRoot({ [GRUB_PC_INSTALLED]: "/.\n" });
    const image = recordingHost(root.host());
    expect((await grubDpkg.run({}, moduleContext(root, { host: image.host, stage: "config" }))).detail).toMatch(/not the running system/);
    await grubDpkg.run({ grub_dpkg: { "grub-pc/install_devices": "/dev/sda" } }, moduleContext(root, { host: image.host, stage: "config" }));
    expect(image.runs.map((r) => r.argv)).toEqual([["chroot", root.dir, "debconf-set-selections"]]);
  });
});
