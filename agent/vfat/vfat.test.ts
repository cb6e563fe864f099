// The FAT reader on volumes made by mkfs.vfat + mcopy (FAT12, FAT16, FAT32) and broken ones.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHost } from "../host";
import { openVfat, VfatError } from ".";

const work = mkdtempSync(join(tmpdir(), "sprout-vfat-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const host = createHost({ root: "/", logFile: null });
let n = 0;

function mkvfat(fatBits: 12 | 16 | 32, sizeKiB: number, files: Record<string, string | Buffer>, label = "cidata"): string {
  const img = join(work, `v${n++}.img`);
  execFileSync("mkfs.vfat", ["-C", "-F", String(fatBits), "-n", label, img, String(sizeKiB)], { stdio: "ignore" });
  for (const [name, content] of Object.entries(files)) {
    const src = join(work, `src${n++}`);
    writeFileSync(src, content);
    execFileSync("mcopy", ["-i", img, src, `::${name}`], { stdio: "ignore" });
  }
  return img;
}

function vfatError(fn: () => unknown): VfatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VfatError);
  expect((err as VfatError).hint).toBeTruthy();
  return err as VfatError;
}

describe("vfat reader", () => {
  const big = Buffer.alloc(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;

  for (const [bits, size] of [[12, 2048], [16, 16 * 1024], [32, 40 * 1024]] as const) {
    it(`reads the label, long names and files of FAT${bits}`, () => {
      const img = mkvfat(bits, size, { "meta-data": "instance-id: v1\n", "user-data": "#cloud-config\n", "network-config": "version: 2\n", "big.bin": big, "SHORT.TXT": "s" });
      const v = openVfat(host.root.openBlock(img));
      expect(v.fatBits).toBe(bits);
      expect(v.label.toLowerCase()).toBe("cidata");
      expect(v.rootEntries().map((e) => e.name).sort()).toEqual(["SHORT.TXT", "big.bin", "meta-data", "network-config", "user-data"]);
      expect(v.readFile("META-DATA").toString()).toBe("instance-id: v1\n");
      expect(v.readFile("big.bin").equals(big)).toBe(true);
      expect(v.readFile("short.txt").toString()).toBe("s");
      expect(v.stat("missing")).toBeNull();
      vfatError(() => v.readFile("big.bin", 1000));
    });
  }

  it("refuses what is not FAT, an empty device and a truncated volume", () => {
    const empty = join(work, "empty");
    writeFileSync(empty, "");
    vfatError(() => openVfat(host.root.openBlock(empty)));
    const junk = join(work, "junk");
    writeFileSync(junk, Buffer.alloc(4096, 1));
    expect(vfatError(() => openVfat(host.root.openBlock(junk))).message).toMatch(/no FAT boot sector/);
    const img = mkvfat(16, 16 * 1024, { "meta-data": Buffer.alloc(200 * 1024, 0x61) });
    const cut = join(work, "cut");
    writeFileSync(cut, readFileSync(img).subarray(0, 128 * 1024));
    expect(vfatError(() => openVfat(host.root.openBlock(cut)).readFile("meta-data")).message).toMatch(/past the end/);
  });

  it("refuses a cluster chain that loops or leaves the volume", () => {
    const img = mkvfat(16, 16 * 1024, { "meta-data": Buffer.alloc(64 * 1024, 0x61) });
    const b = readFileSync(img);
    const fatStart = b.readUInt16LE(14) * b.readUInt16LE(11);
    const v = openVfat(host.root.openBlock(img));
    const first = v.stat("meta-data")!.firstCluster;
    const loop = Buffer.from(b);
    loop.writeUInt16LE(first, fatStart + first * 2); // the first cluster points at itself
    writeFileSync(join(work, "loop"), loop);
    // A loop is cut off by the file size bound: it reads the wrong bytes, but it ends.
    const looped = openVfat(host.root.openBlock(join(work, "loop"))).readFile("meta-data");
    expect(looped.length).toBe(64 * 1024);
    const outside = Buffer.from(b);
    outside.writeUInt16LE(0xfff0, fatStart + first * 2);
    writeFileSync(join(work, "outside"), outside);
    expect(vfatError(() => openVfat(host.root.openBlock(join(work, "outside"))).readFile("meta-data")).message).toMatch(/outside the volume/);
  });
});
