import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PathEscapeError } from "../errors";
import { FsTargetRoot } from "./target-root";

const dirs: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "sprout-tr-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    try {
      execFileSync("umount", [d], { stdio: "ignore" });
    } catch {
      // not a mount point
    }
    rmSync(d, { recursive: true, force: true });
  }
});

describe("FsTargetRoot", () => {
  it("writeInPlace: writes an existing file through the same inode, never creates one, never leaves the root", () => {
    const d = temp();
    const outside = temp();
    mkdirSync(join(d, "proc/sys/kernel"), { recursive: true });
    writeFileSync(join(d, "proc/sys/kernel/hostname"), "old-and-longer\n");
    const r = new FsTargetRoot(d);
    const inode = statSync(join(d, "proc/sys/kernel/hostname")).ino;
    r.writeInPlace("/proc/sys/kernel/hostname", "new");
    expect(readFileSync(join(d, "proc/sys/kernel/hostname"), "utf8")).toBe("new");
    expect(statSync(join(d, "proc/sys/kernel/hostname")).ino).toBe(inode);
    expect(() => r.writeInPlace("/proc/sys/kernel/nothing", "x")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(existsSync(join(d, "proc/sys/kernel/nothing"))).toBe(false);
    symlinkSync(outside, join(d, "proc/out"));
    writeFileSync(join(outside, "f"), "keep");
    expect(() => r.writeInPlace("/proc/out/f", "x")).toThrow(PathEscapeError);
    expect(() => r.writeInPlace("/../f", "x")).toThrow(PathEscapeError);
    expect(readFileSync(join(outside, "f"), "utf8")).toBe("keep");
  });

  it("remove: a file, a missing path, and a tree without following its symlinks", () => {
    const d = temp();
    const outside = temp();
    writeFileSync(join(outside, "precious"), "keep");
    const r = new FsTargetRoot(d);
    r.writeAtomic("/var/x/file", "1");
    r.writeAtomic("/var/x/sub/deeper/file", "2");
    symlinkSync(outside, join(d, "var/x/sub/link-out"));
    symlinkSync(join(outside, "precious"), join(d, "var/x/file-link"));
    r.remove("/var/x/file");
    expect(existsSync(join(d, "var/x/file"))).toBe(false);
    r.remove("/var/nothing-here");
    expect(() => r.remove("/var/x")).toThrow(/EISDIR/);
    r.remove("/var/x", { recursive: true });
    expect(existsSync(join(d, "var/x"))).toBe(false);
    expect(readFileSync(join(outside, "precious"), "utf8")).toBe("keep");
    expect(existsSync(join(d, "var"))).toBe(true);
    expect(() => r.remove("/", { recursive: true })).toThrow(PathEscapeError);
  });

  it("resolves target paths under the root", () => {
    const d = temp();
    const r = new FsTargetRoot(d);
    expect(r.resolve("/etc/hostname")).toBe(join(d, "etc/hostname"));
    expect(r.resolve("etc/./x/../hostname")).toBe(join(d, "etc/hostname"));
    expect(new FsTargetRoot("/").resolve("/etc/hostname")).toBe("/etc/hostname");
  });

  it("refuses paths that climb out of the root", () => {
    const r = new FsTargetRoot(temp());
    expect(() => r.resolve("/../etc/passwd")).toThrow(PathEscapeError);
    expect(() => r.resolve("/var/lib/sprout/instances/../../../../../etc")).toThrow(PathEscapeError);
    expect(() => r.resolve("a\0b")).toThrow(PathEscapeError);
  });

  it("refuses a write through a symlink that points outside the root", () => {
    const d = temp();
    const outside = temp();
    mkdirSync(join(d, "etc"));
    symlinkSync(outside, join(d, "etc/evil"));
    const r = new FsTargetRoot(d);
    expect(() => r.writeAtomic("/etc/evil/x", "data")).toThrow(PathEscapeError);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("writes atomically with the exact mode, whatever the umask", () => {
    const d = temp();
    const r = new FsTargetRoot(d);
    const old = process.umask(0o077);
    try {
      r.writeAtomic("/etc/a/b/file", "hello", { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect(readFileSync(join(d, "etc/a/b/file"), "utf8")).toBe("hello");
    expect(statSync(join(d, "etc/a/b/file")).mode & 0o7777).toBe(0o644);
    r.writeAtomic("/etc/a/b/file", "again", { mode: 0o600 });
    expect(readFileSync(join(d, "etc/a/b/file"), "utf8")).toBe("again");
    expect(statSync(join(d, "etc/a/b/file")).mode & 0o7777).toBe(0o600);
    expect(readdirSync(join(d, "etc/a/b"))).toEqual(["file"]);
  });

  it("mkdirp gives its mode to the last folder only, as mkdir -p -m does: the folders above get 0755", () => {
    const d = temp();
    const r = new FsTargetRoot(d);
    r.mkdirp("/var/www/.ssh", 0o700);
    expect(statSync(join(d, "var/www/.ssh")).mode & 0o777).toBe(0o700);
    expect(statSync(join(d, "var/www")).mode & 0o777).toBe(0o755);
    expect(statSync(join(d, "var")).mode & 0o777).toBe(0o755);
    r.mkdirp("/var/www/.ssh", 0o700);
    expect(statSync(join(d, "var/www/.ssh")).mode & 0o777).toBe(0o700);
  });

  it("keeps the old file intact when a write fails (full filesystem)", (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    const d = temp();
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", d]);
    } catch {
      ctx.skip();
    }
    const r = new FsTargetRoot(d);
    r.writeAtomic("/etc/hostname", "precious\n");
    expect(() => r.writeAtomic("/etc/hostname", Buffer.alloc(1024 * 1024, 1))).toThrow(/ENOSPC|no space/i);
    expect(readFileSync(join(d, "etc/hostname"), "utf8")).toBe("precious\n");
    expect(readdirSync(join(d, "etc"))).toEqual(["hostname"]);
  });

  it("refuses to replace a directory with a file", () => {
    const d = temp();
    mkdirSync(join(d, "etc/motd"), { recursive: true });
    writeFileSync(join(d, "etc/motd/keep"), "x");
    expect(() => new FsTargetRoot(d).writeAtomic("/etc/motd", "hi")).toThrow(/directory/);
    expect(readFileSync(join(d, "etc/motd/keep"), "utf8")).toBe("x");
  });

  it("reads files from /proc-like sources that report size 0, and caps reads", () => {
    const r = new FsTargetRoot("/");
    expect(r.readText("/proc/self/status").length).toBeGreaterThan(0);
    const d = temp();
    writeFileSync(join(d, "big"), Buffer.alloc(5000));
    expect(() => new FsTargetRoot(d).readFile("/big", 4096)).toThrow(/EFBIG|larger/);
    expect(new FsTargetRoot(d).tryReadFile("/missing")).toBeNull();
  });

  it("replaces a symlink atomically and creates exclusively once", () => {
    const d = temp();
    const r = new FsTargetRoot(d);
    r.symlinkAtomic("instances/a", "/var/lib/sprout/instance");
    r.symlinkAtomic("instances/b", "/var/lib/sprout/instance");
    expect(lstatSync(join(d, "var/lib/sprout/instance")).isSymbolicLink()).toBe(true);
    expect(r.readlink("/var/lib/sprout/instance")).toBe("instances/b");
    expect(r.createExclusive("/run/lock", "1")).toBe(true);
    expect(r.createExclusive("/run/lock", "2")).toBe(false);
    expect(readFileSync(join(d, "run/lock"), "utf8")).toBe("1");
  });

  it("reads ranges of a file through a block reader", () => {
    const d = temp();
    const data = Buffer.alloc(10000);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    writeFileSync(join(d, "img"), data);
    const b = new FsTargetRoot(d).openBlock("/img");
    expect(b.size).toBe(10000);
    expect(b.read(2048, 16)).toEqual(data.subarray(2048, 2064));
    expect(b.read(9990, 100).length).toBe(10);
    expect(b.read(20000, 10).length).toBe(0);
    b.close();
    expect(existsSync(join(d, "img"))).toBe(true);
  });
  it("tells the filesystem type and free space of a path, as stat -f does", () => {
    const d = temp();
    mkdirSync(join(d, "var"), { recursive: true });
    const st = new FsTargetRoot(d).statfs("/var");
    expect(st).not.toBeNull();
    const [type, bsize, bfree] = execFileSync("stat", ["-f", "-c", "%t %S %f", join(d, "var")], { encoding: "utf8" }).trim().split(" ");
    expect(st!.type).toBe(parseInt(type!, 16));
    // The filesystem is in use by other tests: compare to within 64 MiB.
    expect(Math.abs(st!.freeBytes - Number(bsize) * Number(bfree))).toBeLessThan(64 * 2 ** 20);
    expect(st!.availBytes).toBeLessThanOrEqual(st!.freeBytes);
    expect(() => new FsTargetRoot(d).statfs("/no/such/dir")).toThrow(/ENOENT/);
  });
});
