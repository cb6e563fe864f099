// NoCloud seed volumes (cidata ISO9660 and vfat) on scanned block devices and named image files.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCmdline } from "../../agent/cmdline";
import { buildIso } from "../../agent/iso9660/writer";
import { datasourceConformance } from "../../test/conformance/datasource";
import { tempRoot, withUnreadableDevice, type TempRoot } from "../../test/helpers/target";
import { noCloud } from ".";

const work = mkdtempSync(join(tmpdir(), "sprout-cidata-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

function seedFiles(iid: string): Record<string, string> {
  return { "meta-data": `instance-id: ${iid}\nlocal-hostname: h-${iid}\n`, "user-data": "#cloud-config\nruncmd: [true]\n", "network-config": "version: 2\nethernets: {}\n" };
}

function sproutIso(label: string, files: Record<string, string>): Buffer {
  return buildIso({ label, date: new Date(0), files: Object.entries(files).map(([name, data]) => ({ name, data: Buffer.from(data) })) });
}

function toolIso(argv: (out: string, src: string) => string[], files: Record<string, string>): Buffer {
  const src = mkdtempSync(join(work, "src-"));
  for (const [name, c] of Object.entries(files)) writeFileSync(join(src, name), c);
  const out = join(work, `t${n++}.iso`);
  const [cmd, ...args] = argv(out, src);
  execFileSync(cmd!, args, { stdio: ["ignore", "ignore", "pipe"] });
  return readFileSync(out);
}

function vfat(label: string, files: Record<string, string>): Buffer {
  const img = join(work, `v${n++}.img`);
  execFileSync("mkfs.vfat", ["-C", "-n", label, img, "2048"], { stdio: "ignore" });
  for (const [name, c] of Object.entries(files)) {
    const src = join(work, `f${n++}`);
    writeFileSync(src, c);
    execFileSync("mcopy", ["-i", img, src, `::${name}`], { stdio: "ignore" });
  }
  return readFileSync(img);
}

/** A disk as the kernel lists it (/sys/block/NAME/size) with its node in /dev holding the image; "sdb1" is a partition of "sdb". */
function disk(r: TempRoot, name: string, image: Buffer): void {
  const part = /^(sd[a-z]+|vd[a-z]+)(\d+)$/.exec(name);
  const sys = part ? `/sys/block/${part[1]}/${name}` : `/sys/block/${name}`;
  if (part) r.write(`/sys/block/${part[1]}/size`, "8388608\n");
  if (part) r.write(`${sys}/partition`, `${part[2]}\n`);
  r.write(`${sys}/size`, `${Math.ceil(image.length / 512)}\n`);
  r.write(`/dev/${name}`, image);
}

const named = (...paths: string[]) => ({ datasource: { NoCloud: { devices: paths } } });

datasourceConformance({
  ds: noCloud,
  own: [
    {
      name: "cidata ISO made by sprout seed on /dev/sr0",
      setup: (r) => {
        disk(r, "sr0", sproutIso("cidata", seedFiles("iid-sr0")));
        return { instanceId: "iid-sr0" };
      },
    },
    {
      name: "CIDATA ISO made by genisoimage -J -r on /dev/vdb",
      setup: (r) => {
        disk(r, "vdb", toolIso((out, src) => ["genisoimage", "-quiet", "-V", "CIDATA", "-J", "-r", "-o", out, src], seedFiles("iid-geniso")));
        return { instanceId: "iid-geniso" };
      },
    },
    {
      name: "cidata Rock Ridge ISO made by xorriso on the partition /dev/sdb1",
      setup: (r) => {
        disk(r, "sdb1", toolIso((out, src) => ["xorriso", "-as", "mkisofs", "-quiet", "-V", "cidata", "-R", "-o", out, src], seedFiles("iid-xorriso")));
        return { instanceId: "iid-xorriso" };
      },
    },
    {
      name: "vfat volume labelled cidata on /dev/vdc",
      setup: (r) => {
        disk(r, "vdc", vfat("cidata", seedFiles("iid-vfat")));
        return { instanceId: "iid-vfat" };
      },
    },
    {
      name: "an image file named in datasource.NoCloud.devices (any label)",
      setup: (r) => {
        r.write("/var/lib/seed.iso", sproutIso("MYSEED", seedFiles("iid-named")));
        return { instanceId: "iid-named", config: named("/var/lib/seed.iso") };
      },
    },
  ],
  broken: [
    {
      name: "a named seed device that is empty (no media)",
      setup: (r) => {
        r.write("/dev/sr3", "");
        return { config: named("/dev/sr3") };
      },
    },
    {
      name: "a named seed device that cannot be opened",
      setup: () => ({ config: named("/dev/does-not-exist") }),
    },
    {
      name: "a named seed device that is neither ISO nor FAT",
      setup: (r) => {
        r.write("/var/lib/junk.img", Buffer.alloc(128 * 1024, 7));
        return { config: named("/var/lib/junk.img") };
      },
    },
    {
      name: "a cidata ISO without meta-data",
      setup: (r) => {
        disk(r, "sr0", sproutIso("cidata", { "user-data": "#cloud-config\n" }));
        return {};
      },
    },
    {
      name: "a cidata vfat volume whose meta-data is not YAML",
      setup: (r) => {
        disk(r, "vdb", vfat("cidata", { "meta-data": "instance-id: [broken\n" }));
        return {};
      },
    },
    {
      name: "a named ISO that is truncated",
      setup: (r) => {
        const iso = sproutIso("cidata", { "meta-data": "instance-id: x\n".repeat(500) });
        r.write("/var/lib/cut.iso", iso.subarray(0, iso.length - 4096));
        return { config: named("/var/lib/cut.iso") };
      },
    },
  ],
});

describe("NoCloud seed volumes", () => {
  const ctx = (config: Record<string, unknown> = {}, cmdline = "") => ({ config, system: {}, cmdline: parseCmdline(cmdline), stage: "local" as const, deadline: performance.now() + 5000 });

  it("reads every seed file from the volume", async () => {
    const r = tempRoot();
    disk(r, "sr0", sproutIso("cidata", { ...seedFiles("iid-all"), "vendor-data": "#cloud-config\n{}\n" }));
    try {
      const d = await noCloud.fetch(r.host(), ctx());
      expect(d.subplatform).toBe("seed-device (/dev/sr0)");
      expect(d.localHostname).toBe("h-iid-all");
      expect(d.userData?.toString()).toBe("#cloud-config\nruncmd: [true]\n");
      expect(d.vendorData?.toString()).toBe("#cloud-config\n{}\n");
      expect(d.networkConfig).toEqual({ version: 2, ethernets: {} });
    } finally {
      r.cleanup();
    }
  });

  it("ignores volumes with other labels (an OVF transport ISO, a data disk), and drives without media", async () => {
    const r = tempRoot();
    disk(r, "sr0", sproutIso("OVF ENV", { "ovf-env.xml": "<Environment/>", "meta-data": "instance-id: no\n" }));
    disk(r, "vdb", vfat("DATA", seedFiles("iid-no")));
    r.write("/sys/block/sr1/size", "0\n");
    try {
      expect(await noCloud.detect(r.host(), ctx())).toBeNull();
    } finally {
      r.cleanup();
    }
  });

  it("skips a drive the kernel cannot read (EIO: an empty qemu CD drive), and names it when it was named in the config", async () => {
    const r = tempRoot();
    disk(r, "sr0", Buffer.alloc(4096));
    disk(r, "vdb", sproutIso("cidata", seedFiles("iid-after-eio")));
    try {
      // A fresh host for each: a datasource looks once per boot (per host).
      const host = () => {
        const h = r.host();
        return { ...h, root: withUnreadableDevice(h.root, "/dev/sr0") };
      };
      expect((await noCloud.detect(host(), ctx()))?.reason).toMatch(/\/dev\/vdb/);
      await expect(noCloud.fetch(host(), ctx({ devices: ["/dev/sr0"] }))).rejects.toThrow(/cannot read seed device \/dev\/sr0: EIO: i\/o error, read/);
    } finally {
      r.cleanup();
    }
  });

  it("a seed directory wins over a seed volume; kernel command line values win over the volume's", async () => {
    const r = tempRoot({ "/var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-dir\n" });
    disk(r, "sr0", sproutIso("cidata", seedFiles("iid-vol")));
    try {
      expect((await noCloud.fetch(r.host(), ctx())).instanceId).toBe("iid-dir");
      rmSync(join(r.dir, "var/lib/cloud/seed/nocloud"), { recursive: true });
      const d = await noCloud.fetch(r.host(), ctx({}, "ds=nocloud;h=cmdhost"));
      expect(d.instanceId).toBe("iid-vol");
      expect(d.localHostname).toBe("cmdhost");
    } finally {
      r.cleanup();
    }
  });
});
