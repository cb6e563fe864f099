// The per-run temp folder's removal must never go into a mount left below it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeUnlessMounted } from "./temp-dir-setup";

const isRoot = process.getuid?.() === 0;

describe("removeUnlessMounted", () => {
  let dir = "";
  afterEach(() => {
    try {
      execFileSync("umount", [join(dir, "mnt")], { stdio: "ignore" });
    } catch {
      // not mounted
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("removes the folder and everything in it", () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-tdtest-"));
    mkdirSync(join(dir, "a/b"), { recursive: true });
    writeFileSync(join(dir, "a/b/file"), "x");
    removeUnlessMounted(dir);
    expect(existsSync(dir)).toBe(false);
  });

  it.runIf(isRoot)("keeps the folder, and what is mounted in it, while a mount is below it", () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-tdtest-"));
    mkdirSync(join(dir, "mnt"));
    execFileSync("mount", ["-t", "tmpfs", "tmpfs", join(dir, "mnt")]);
    writeFileSync(join(dir, "mnt/precious"), "x");
    removeUnlessMounted(dir);
    expect(existsSync(join(dir, "mnt/precious"))).toBe(true);
  });
});
