// collect.mjs, run as the compat harness runs it, on a hand-made upper layer.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RawSnapshot } from "./effects";

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** A swap area as mkswap writes it: the UUID at 1036..1052, the signature at the end of the first page. */
function swapArea(uuidByte: number, size = 128 * 1024): Buffer {
  const b = Buffer.alloc(size);
  b.fill(uuidByte, 1036, 1052);
  b.write("SWAPSPACE2", 4086, "latin1");
  return b;
}

describe("compat collect.mjs", () => {
  it("compares swap files without mkswap's random UUID, and other large files by their bytes", () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-collect-"));
    const lower = join(dir, "lower");
    mkdirSync(lower);
    const snap = (name: string, files: Record<string, Buffer>) => {
      const upper = join(dir!, name);
      mkdirSync(upper);
      for (const [p, c] of Object.entries(files)) writeFileSync(join(upper, p), c);
      // The upper layer stands in for the merged tree as well: collect.mjs reads both.
      const r = spawnSync(process.execPath, [join(__dirname, "collect.mjs"), upper, upper, lower], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      return Object.fromEntries((JSON.parse(r.stdout) as RawSnapshot).changed.map((e) => [e.path, e.sha256]));
    };
    const a = snap("a", { swapfile: swapArea(1), big: Buffer.alloc(100 * 1024, 1) });
    const b = snap("b", { swapfile: swapArea(2), big: Buffer.alloc(100 * 1024, 2) });
    expect(a["/swapfile"]).toBeDefined();
    expect(a["/swapfile"]).toBe(b["/swapfile"]);
    expect(a["/big"]).not.toBe(b["/big"]);
    const changed = swapArea(1);
    changed[8000] = 7;
    const c = snap("c", { swapfile: changed });
    expect(c["/swapfile"]).not.toBe(a["/swapfile"]);
  });
});
