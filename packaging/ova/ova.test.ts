// make-ova on a small test disk (raw and qcow2): the archive layout, the descriptor against
// the files it names, the manifest's checksums, and the VMDK read back identical by qemu-img.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPT = join(__dirname, "make-ova.mjs");
const work = mkdtempSync(join(tmpdir(), "sprout-ova-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A 6 MiB disk with recognisable data in a few places and holes elsewhere (as an image has).
const raw = join(work, "disk.raw");
const disk = Buffer.alloc(6 * 1024 * 1024);
for (let i = 0; i < 300_000; i++) disk[i] = (i * 31) & 0xff;
disk.write("sprout test disk", 4 * 1024 * 1024 + 123);
writeFileSync(raw, disk);
const qcow2 = join(work, "disk.qcow2");
execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);

function makeOva(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", removeNSPrefix: true, processEntities: false }).parse(xml);

for (const [kind, source, controller] of [["raw", raw, "scsi"], ["qcow2", qcow2, "sata"]] as const) {
  describe(`make-ova from a ${kind} disk (${controller})`, () => {
    const ova = join(work, `appliance-${kind}.ova`);
    const out = join(work, `x-${kind}`);
    it("writes a ustar archive: the .ovf first, then the .mf, then the disk", () => {
      const r = makeOva(["--disk", source, "-o", ova, "--cpus", "2", "--memory", "512", "--controller", controller]);
      expect(r.code, r.stderr).toBe(0);
      expect(execFileSync("tar", ["-tf", ova], { encoding: "utf8" }).trim().split("\n")).toEqual([`appliance-${kind}.ovf`, `appliance-${kind}.mf`, `appliance-${kind}-disk1.vmdk`]);
      expect(readFileSync(ova).toString("latin1", 257, 262)).toBe("ustar");
      mkdirSync(out);
      execFileSync("tar", ["-xf", ova, "-C", out]);
    });

    it("has a descriptor whose references, sizes and hardware agree with the files", () => {
      const doc = parse(readFileSync(join(out, `appliance-${kind}.ovf`), "utf8")).Envelope;
      const file = doc.References.File;
      expect(file["@href"]).toBe(`appliance-${kind}-disk1.vmdk`);
      expect(Number(file["@size"])).toBe(statSync(join(out, file["@href"])).size);
      expect(doc.DiskSection.Disk["@fileRef"]).toBe(file["@id"]);
      expect(Number(doc.DiskSection.Disk["@capacity"])).toBe(disk.length);
      expect(doc.DiskSection.Disk["@format"]).toMatch(/#streamOptimized$/);
      const vs = doc.VirtualSystem;
      const hw = vs.VirtualHardwareSection;
      expect(hw["@transport"]).toBe("iso");
      const items = hw.Item as Record<string, unknown>[];
      const byType = (t: number) => items.filter((i) => Number(i.ResourceType) === t);
      expect(Number(byType(3)[0]!.VirtualQuantity)).toBe(2);
      expect(Number(byType(4)[0]!.VirtualQuantity)).toBe(512);
      const ctl = byType(controller === "scsi" ? 6 : 20)[0]!;
      const diskItem = byType(17)[0]!;
      expect(diskItem.HostResource).toBe(`ovf:/disk/${doc.DiskSection.Disk["@diskId"]}`);
      expect(diskItem.Parent).toBe(ctl.InstanceID);
      expect(byType(10)).toHaveLength(1);
      expect(byType(15)).toHaveLength(1); // the CD-ROM the OVF environment ISO goes in
      const props = vs.ProductSection.Property as Record<string, string>[];
      expect(props.map((p) => p["@key"])).toEqual(expect.arrayContaining(["instance-id", "hostname", "seedfrom", "public-keys", "user-data", "password"]));
      for (const p of props) expect(p["@userConfigurable"]).toBe("true");
    });

    it("has a manifest with the SHA256 of every other file", () => {
      const lines = readFileSync(join(out, `appliance-${kind}.mf`), "utf8").trim().split("\n");
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        const m = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line);
        expect(m, line).not.toBeNull();
        expect(createHash("sha256").update(readFileSync(join(out, m![1]!))).digest("hex")).toBe(m![2]);
      }
    });

    it("has a streamOptimized VMDK that qemu-img reads back identical to the source disk", () => {
      const vmdk = join(out, `appliance-${kind}-disk1.vmdk`);
      const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", vmdk], { encoding: "utf8" }));
      expect(info.format).toBe("vmdk");
      expect(info["virtual-size"]).toBe(disk.length);
      expect(info["format-specific"].data["create-type"]).toBe("streamOptimized");
      const cmp = spawnSync("qemu-img", ["compare", "-f", kind, "-F", "vmdk", source, vmdk], { encoding: "utf8" });
      expect(cmp.status, cmp.stdout + cmp.stderr).toBe(0);
    });
  });
}

describe("make-ova: bad input", () => {
  it("says what is wrong: usage (2), a missing disk (1)", () => {
    expect(makeOva([]).code).toBe(2);
    expect(makeOva(["--disk", raw]).stderr).toMatch(/-o OUT.ova is required/);
    expect(makeOva(["--disk", raw, "-o", join(work, "x.ova"), "--controller", "ide"]).code).toBe(2);
    expect(makeOva(["--disk", raw, "-o", join(work, "x.ova"), "--memory", "lots"]).stderr).toMatch(/--memory must be/);
    const r = makeOva(["--disk", join(work, "missing.img"), "-o", join(work, "x.ova")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/make-ova: qemu-img info/);
    expect(() => statSync(join(work, "x.ova"))).toThrow();
  });
});
