// The built bundle: one file that runs without node_modules, and its code cache.
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BUNDLE, sprout } from "./helpers/cli";

describe("dist/sprout.js", () => {
  it("runs from a directory with no node_modules", () => {
    const dir = mkdtempSync(join(tmpdir(), "sprout-alone-"));
    copyFileSync(BUNDLE, join(dir, "sprout.js"));
    const r = spawnSync(process.execPath, [join(dir, "sprout.js"), "--version"], { encoding: "utf8", cwd: dir, env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off", NODE_PATH: "" } });
    expect(r.stdout).toMatch(/^sprout \d/);
    expect(readFileSync(BUNDLE, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  // Debian's Node 18, which has none, gets one: packaging/deb.e2e.test.ts.
  const ownSnapshot = (process.config.variables as Record<string, unknown>).node_use_node_snapshot === true;
  it.skipIf(!ownSnapshot)("warm-code-cache makes no start-up snapshot for a Node that has its own (this one), and removes an old one", () => {
    const cache = mkdtempSync(join(tmpdir(), "sprout-cc-"));
    chmodSync(cache, 0o755);
    writeFileSync(join(cache, "startup.blob"), "an old one");
    writeFileSync(join(cache, "startup.stamp"), "1:2:3\n: fpu\n");
    const warm = new URL("../packaging/bin/warm-code-cache", import.meta.url).pathname;
    const entry = new URL("../packaging/bin/startup-snapshot.js", import.meta.url).pathname;
    const r = spawnSync("sh", [warm], { encoding: "utf8", timeout: 120_000, env: { ...process.env, SPROUT_JS: BUNDLE, SPROUT_CODE_CACHE_DIR: cache, SPROUT_SNAPSHOT_ENTRY: entry } });
    expect(r.status).toBe(0);
    const files = readdirSync(cache);
    expect(files.filter((f) => f.startsWith("startup."))).toEqual([]);
    expect(files.some((f) => f.endsWith("-boot.bin"))).toBe(true);
  }, 130_000);

  it("writes a code cache per command and uses it on the next run", () => {
    const cache = mkdtempSync(join(tmpdir(), "sprout-cc-"));
    chmodSync(cache, 0o755);
    expect(sprout(["--version"], { env: { SPROUT_CODE_CACHE_DIR: cache } }).code).toBe(0);
    const files = readdirSync(cache);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^code-[0-9a-f]{16}-${process.version}-${process.arch}-none\\.bin$`));
    expect(sprout(["status"], { env: { SPROUT_CODE_CACHE_DIR: cache } }).code).toBe(0);
    expect(readdirSync(cache).some((f) => f.endsWith("-status.bin"))).toBe(true);
  });

  it("ignores a cache others can write, and replaces a corrupt one", () => {
    const cache = mkdtempSync(join(tmpdir(), "sprout-cc-"));
    chmodSync(cache, 0o755);
    sprout(["--version"], { env: { SPROUT_CODE_CACHE_DIR: cache } });
    const file = join(cache, readdirSync(cache)[0]!);
    writeFileSync(file, Buffer.alloc(5000, 7));
    expect(sprout(["--version"], { env: { SPROUT_CODE_CACHE_DIR: cache } }).stdout).toMatch(/^sprout /);
    expect(readFileSync(file).equals(Buffer.alloc(5000, 7))).toBe(false);
    // Planted by someone else (world-writable): not loaded, and replaced by a safe one.
    writeFileSync(file, Buffer.alloc(5000, 9));
    chmodSync(file, 0o666);
    expect(sprout(["--version"], { env: { SPROUT_CODE_CACHE_DIR: cache } }).stdout).toMatch(/^sprout /);
    expect(readFileSync(file).equals(Buffer.alloc(5000, 9))).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("removes the caches of other builds and Node versions when it writes its own", () => {
    const cache = mkdtempSync(join(tmpdir(), "sprout-cc-"));
    chmodSync(cache, 0o755);
    const stale = ["code-0123456789abcdef-v20.0.0-x64-boot.bin", `code-0123456789abcdef-${process.version}-${process.arch}-status.bin`];
    for (const name of stale) writeFileSync(join(cache, name), "old");
    writeFileSync(join(cache, "unrelated"), "kept");
    expect(sprout(["--version"], { env: { SPROUT_CODE_CACHE_DIR: cache } }).code).toBe(0);
    const left = readdirSync(cache).sort();
    expect(left).toHaveLength(2);
    expect(left).toContain("unrelated");
    expect(left.some((f) => f.endsWith("-none.bin") && !stale.includes(f))).toBe(true);
  });

  it("keeps a cache it could use, and rewrites it with SPROUT_CODE_CACHE_REFRESH=1", () => {
    const cache = mkdtempSync(join(tmpdir(), "sprout-cc-"));
    chmodSync(cache, 0o755);
    const env = { SPROUT_CODE_CACHE_DIR: cache };
    expect(sprout(["--version"], { env }).code).toBe(0);
    const file = join(cache, readdirSync(cache)[0]!);
    const first = statSync(file).ino;
    expect(sprout(["--version"], { env }).code).toBe(0);
    expect(statSync(file).ino).toBe(first);
    // A refreshing run writes a new file (temp + rename), which V8 accepts next time.
    expect(sprout(["--help"], { env: { ...env, SPROUT_CODE_CACHE_REFRESH: "1" } }).code).toBe(0);
    expect(statSync(file).ino).not.toBe(first);
    expect(sprout(["--version"], { env }).stdout).toMatch(/^sprout /);
  });

  it("runs a program that contains */ (escaped in the loader's comment), from source and from its cache", async () => {
    // @ts-expect-error: a plain .mjs build helper with no type declarations
    const { embedProgram } = await import("../packaging/embed-program.mjs");
    const program = 'const re = /a*/; const s = "/* x */"; process.stdout.write(JSON.stringify([re.test("aa"), s, __filename.endsWith("p.js")]));';
    const built = embedProgram(program);
    expect(built.hasCommentClose).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "sprout-embed-"));
    writeFileSync(join(dir, "p.js"), built.text);
    writeFileSync(join(dir, "package.json"), '{ "type": "commonjs" }\n');
    const cache = mkdtempSync(join(tmpdir(), "sprout-cc-"));
    chmodSync(cache, 0o755);
    const run = () => spawnSync(process.execPath, [join(dir, "p.js")], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: cache } });
    const expected = JSON.stringify([true, "/* x */", true]);
    expect(run().stdout).toBe(expected);
    expect(readdirSync(cache)).toHaveLength(1);
    expect(run().stdout).toBe(expected);
  });

  it("the shipped bundle has no */ to unescape at start-up", () => {
    expect(readFileSync(BUNDLE, "latin1")).not.toContain("\x7f");
  });

  it("writes nothing with SPROUT_CODE_CACHE_DIR=off", () => {
    expect(sprout(["--version"], { env: { SPROUT_CODE_CACHE_DIR: "off" } }).code).toBe(0);
  });
});
