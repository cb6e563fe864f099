// The ISO9660 reader on images made by xorriso and genisoimage, the writer read back by
// them, and broken images made here: each broken one must give an IsoError with a hint.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHost } from "../host";
import { IsoError, openIso, type IsoImage } from ".";
import { buildIso } from "./writer";

const work = mkdtempSync(join(tmpdir(), "sprout-iso-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const host = createHost({ root: "/", logFile: null });

let counter = 0;
function tree(files: Record<string, string | Buffer>): string {
  const dir = join(work, `tree${counter++}`);
  mkdirSync(dir);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

/** Makes an image with genisoimage or xorriso's mkisofs emulation; `flags` pick the name systems. */
function mkiso(tool: "genisoimage" | "xorriso", flags: string[], files: Record<string, string | Buffer>, label = "TESTVOL"): string {
  const out = join(work, `img${counter++}.iso`);
  const src = tree(files);
  const argv = tool === "xorriso" ? ["-as", "mkisofs", "-quiet", "-V", label, ...flags, "-o", out, src] : ["-quiet", "-V", label, ...flags, "-o", out, src];
  execFileSync(tool, argv, { stdio: ["ignore", "ignore", "pipe"] });
  return out;
}

function open(path: string): IsoImage {
  return openIso(host.root.openBlock(path));
}

function isoError(fn: () => unknown): IsoError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "should have thrown an IsoError").toBeInstanceOf(IsoError);
  expect((err as IsoError).hint, "the error should say what to do").toBeTruthy();
  expect((err as IsoError).message).toContain("[iso9660]");
  return err as IsoError;
}

describe("ISO9660 reader on real images", () => {
  it("reads a plain ISO9660 image (upper-case 8.3 names, case-insensitive lookup)", () => {
    const img = open(mkiso("genisoimage", [], { "readme.txt": "plain\n", "sub/inner.txt": "inner\n" }, "PLAINVOL"));
    expect(img.names).toBe("iso9660");
    expect(img.label).toBe("PLAINVOL");
    expect(img.jolietLabel).toBeNull();
    expect(img.readdir("/").map((e) => e.name).sort()).toEqual(["README.TXT", "SUB"]);
    expect(img.readFile("readme.txt").toString()).toBe("plain\n");
    expect(img.readFile("/Sub/Inner.TXT").toString()).toBe("inner\n");
  });

  it("reads Joliet names (genisoimage -J) and the Joliet label", () => {
    const img = open(mkiso("genisoimage", ["-J"], { "meta-data": "instance-id: j\n", "user-data": "#cloud-config\n" }, "cidata"));
    expect(img.names).toBe("joliet");
    expect(img.label).toBe("cidata");
    expect(img.jolietLabel).toBe("cidata");
    expect(img.readdir("/").map((e) => e.name).sort()).toEqual(["meta-data", "user-data"]);
    expect(img.readFile("META-DATA").toString()).toBe("instance-id: j\n");
  });

  it("reads Rock Ridge names (xorriso -R), preferring them over Joliet", () => {
    const files = { "ovf-env.xml": "<Environment/>", "Mixed.Case.name.with.dots": "x", "dir-one/dir-two/deep-file": "deep" };
    for (const flags of [["-R"], ["-R", "-J"]]) {
      const img = open(mkiso("xorriso", flags, files, "OVF ENV"));
      expect(img.names).toBe("rockridge");
      expect(img.label).toBe("OVF ENV");
      expect(img.readdir("/").map((e) => e.name).sort()).toEqual(["Mixed.Case.name.with.dots", "dir-one", "ovf-env.xml"]);
      expect(img.readFile("OVF-ENV.XML").toString()).toBe("<Environment/>");
      expect(img.readFile("dir-one/DIR-TWO/deep-file").toString()).toBe("deep");
    }
  });

  it("reads a directory of many files spanning several sectors", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`file-with-a-long-name-${String(i).padStart(4, "0")}.txt`] = `content ${i}\n`;
    const img = open(mkiso("xorriso", ["-R", "-J"], files));
    const names = img.readdir("/").map((e) => e.name);
    expect(names).toHaveLength(400);
    expect(img.readFile("file-with-a-long-name-0399.txt").toString()).toBe("content 399\n");
    expect(img.readFile("file-with-a-long-name-0000.txt").toString()).toBe("content 0\n");
  });

  it("reads nested directories and a file over 1 MiB byte for byte", () => {
    const big = Buffer.alloc(1536 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    const img = open(mkiso("genisoimage", ["-J", "-r"], { "a/b/c/d/e/big.bin": big, "a/b/small": "s" }));
    expect(img.readFile("a/b/c/d/e/big.bin").equals(big)).toBe(true);
    expect(img.stat("a/b/c")).toMatchObject({ isDir: true });
    expect(img.stat("a/b/missing")).toBeNull();
    expect(img.stat("a/b/small/below")).toBeNull();
    isoError(() => img.readFile("a/b/c/d/e/big.bin", 1024 * 1024));
    isoError(() => img.readFile("a/b"));
    isoError(() => img.readFile("nope"));
  });
});

describe("ISO9660 writer (sprout seed), read back by sprout, isoinfo and xorriso", () => {
  const files = [
    { name: "meta-data", data: Buffer.from("instance-id: iid-w\n") },
    { name: "user-data", data: Buffer.from("#cloud-config\nhostname: w\n") },
    { name: "ovf-env.xml", data: Buffer.alloc(5000, 0x41) },
  ];
  const path = join(work, "written.iso");
  writeFileSync(path, buildIso({ label: "cidata", files, date: new Date("2026-01-02T03:04:05Z") }));

  it("is read by sprout's reader with Joliet names", () => {
    const img = open(path);
    expect(img.names).toBe("joliet");
    expect(img.label).toBe("cidata");
    for (const f of files) expect(img.readFile(f.name).equals(f.data)).toBe(true);
  });

  it("is read by isoinfo (label, Joliet names, ISO9660 names) and xorriso", () => {
    expect(execFileSync("isoinfo", ["-d", "-i", path], { encoding: "utf8" })).toMatch(/Volume id: cidata/);
    expect(execFileSync("isoinfo", ["-J", "-l", "-i", path], { encoding: "utf8" })).toMatch(/meta-data/);
    expect(execFileSync("isoinfo", ["-l", "-i", path], { encoding: "utf8" })).toMatch(/META_DATA\.;1/);
    expect(execFileSync("isoinfo", ["-J", "-x", "/user-data", "-i", path], { encoding: "utf8" })).toBe("#cloud-config\nhostname: w\n");
    const ls = execFileSync("xorriso", ["-indev", path, "-ls", "/"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(ls).toMatch(/'meta-data'/);
    expect(ls).toMatch(/'ovf-env.xml'/);
    const out = join(work, "extracted");
    execFileSync("xorriso", ["-osirrox", "on", "-indev", path, "-extract", "/meta-data", out], { stdio: "ignore" });
    expect(readFileSync(out, "utf8")).toBe("instance-id: iid-w\n");
  });

  it("writes the same bytes for the same input (reproducible seeds)", () => {
    const again = buildIso({ label: "cidata", files, date: new Date("2026-01-02T03:04:05Z") });
    expect(again.equals(readFileSync(path))).toBe(true);
  });

  it("writes a root directory that spans several sectors", () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ name: `a-rather-long-seed-file-name-${String(i).padStart(3, "0")}.yaml`, data: Buffer.from(`n=${i}\n`) }));
    const p = join(work, "many.iso");
    writeFileSync(p, buildIso({ label: "MANY", files: many, date: new Date(0) }));
    const img = open(p);
    expect(img.readdir("/")).toHaveLength(150);
    expect(img.readFile("A-RATHER-LONG-SEED-FILE-NAME-149.YAML").toString()).toBe("n=149\n");
    const listed = execFileSync("isoinfo", ["-J", "-l", "-i", p], { encoding: "utf8" });
    expect(listed.match(/a-rather-long-seed-file-name-\d{3}\.yaml/g)).toHaveLength(150);
    expect(execFileSync("isoinfo", ["-l", "-i", p], { encoding: "utf8" }).match(/;1/g)).toHaveLength(150);
  });

  it("refuses bad labels and names", () => {
    expect(() => buildIso({ label: "é", files: [], date: new Date(0) })).toThrow(/label/);
    expect(() => buildIso({ label: "x", files: [{ name: "a/b", data: Buffer.alloc(0) }], date: new Date(0) })).toThrow(/name/);
    expect(() => buildIso({ label: "x", files: [{ name: "A", data: Buffer.alloc(0) }, { name: "a", data: Buffer.alloc(0) }], date: new Date(0) })).toThrow(/two files/);
  });
});

/** A plain image (ISO9660 names only) with a directory SUB and a file F.TXT, and where their records are. */
function patchable(): { path: string; bytes: Buffer; rootAt: number; sub: number; file: number } {
  const path = mkiso("genisoimage", [], { "sub/f.txt": "in sub\n", "f.txt": "top\n" });
  const bytes = readFileSync(path);
  const rootAt = bytes.readUInt32LE(16 * 2048 + 156 + 2) * 2048;
  const find = (id: string) => {
    let pos = rootAt;
    for (;;) {
      const len = bytes[pos]!;
      if (len === 0) throw new Error(`no record ${id}`);
      if (bytes.toString("latin1", pos + 33, pos + 33 + bytes[pos + 32]!) === id) return pos;
      pos += len;
    }
  };
  return { path, bytes, rootAt, sub: find("SUB"), file: find("F.TXT;1") };
}

function setBoth32(b: Buffer, at: number, v: number): void {
  b.writeUInt32LE(v, at);
  b.writeUInt32BE(v, at + 4);
}

describe("ISO9660 reader on broken images", () => {
  it("the patchable image is fine before it is broken", () => {
    const p = patchable();
    expect(open(p.path).readFile("sub/f.txt").toString()).toBe("in sub\n");
  });

  it("an empty file (a drive with no media)", () => {
    const path = join(work, "empty.iso");
    writeFileSync(path, "");
    expect(isoError(() => open(path)).message).toMatch(/past the end|empty/);
  });

  it("a file that is not an ISO", () => {
    const path = join(work, "garbage.iso");
    writeFileSync(path, Buffer.alloc(64 * 1024, 0x5a));
    expect(isoError(() => open(path)).message).toMatch(/not an ISO/);
  });

  it("a truncated image: descriptors cut off, or files cut off", () => {
    const p = patchable();
    const short = join(work, "short.iso");
    writeFileSync(short, p.bytes.subarray(0, 16 * 2048 + 100));
    isoError(() => open(short));
    const cut = join(work, "cut.iso");
    writeFileSync(cut, p.bytes);
    truncateSync(cut, p.rootAt + 2048);
    const err = isoError(() => open(cut).readFile("sub/f.txt"));
    expect(err.message).toMatch(/past the end/);
  });

  it("a directory extent past the end of the image", () => {
    const p = patchable();
    setBoth32(p.bytes, p.sub + 2, 0x00ffffff);
    const path = join(work, "past-end.iso");
    writeFileSync(path, p.bytes);
    const img = open(path);
    expect(img.readFile("f.txt").toString()).toBe("top\n"); // siblings still read
    expect(isoError(() => img.readFile("sub/f.txt")).message).toMatch(/past the end/);
  });

  it("a directory that loops back to its parent", () => {
    const p = patchable();
    setBoth32(p.bytes, p.sub + 2, p.rootAt / 2048);
    const path = join(work, "loop.iso");
    writeFileSync(path, p.bytes);
    expect(isoError(() => open(path).readFile("sub/sub/sub/sub/f.txt")).message).toMatch(/loops/);
  });

  it("a 4 GB length on a file and on a directory", () => {
    const p = patchable();
    setBoth32(p.bytes, p.file + 10, 0xffffffff);
    setBoth32(p.bytes, p.sub + 10, 0xffffffff);
    const path = join(work, "huge.iso");
    writeFileSync(path, p.bytes);
    const img = open(path);
    expect(isoError(() => img.readFile("f.txt")).message).toMatch(/4294967295 bytes/);
    expect(isoError(() => img.readdir("sub")).message).toMatch(/4294967295 bytes/);
  });

  it("a label that is not ASCII: the label is an error, the files still read", () => {
    const p = patchable();
    Buffer.from("caf\xc3\xa9      ", "latin1").copy(p.bytes, 16 * 2048 + 40);
    const path = join(work, "label.iso");
    writeFileSync(path, p.bytes);
    const img = open(path);
    expect(isoError(() => img.label).message).toMatch(/non-ASCII/);
    expect(img.readFile("f.txt").toString()).toBe("top\n");
  });

  it("a directory record with a bad length", () => {
    const p = patchable();
    p.bytes[p.file] = 5;
    const path = join(work, "badrec.iso");
    writeFileSync(path, p.bytes);
    expect(isoError(() => open(path).readdir("/")).message).toMatch(/bad length/);
  });

  it("a device that cannot be opened is the caller's error, not a crash", () => {
    expect(() => host.root.openBlock(join(work, "does-not-exist"))).toThrow();
  });
});
