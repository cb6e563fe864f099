// packaging/image/build's bad-input paths: a clear message before any work, and an
// interrupted build that leaves no mount and no temporary tree behind.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain .mjs shared with the bench
import { CACHE, REPO, vmUnavailable } from "./vm.mjs";

const BUILD = join(REPO, "packaging/image/build");
const why = vmUnavailable();

describe("packaging/image/build", () => {
  const out = mkdtempSync("/var/tmp/sprout-image-test-");
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.skipIf(process.getuid?.() !== 0)("without root it says so and does nothing", () => {
    writeFileSync(join(out, "fake.deb"), "");
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", BUILD, "--deb", join(out, "fake.deb"), "--out", join(out, "x.raw")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^image\/build: needs root .*: run it with sudo$/m);
    expect(readdirSync(out)).toEqual(["fake.deb"]);
  });

  it("refuses a missing .deb and a bad size before any work", () => {
    expect(spawnSync("sh", [BUILD, "--deb", join(out, "none.deb")], { encoding: "utf8" }).stderr).toMatch(/(does not exist \(build it with packaging\/build-deb\)|needs root)/);
    if (process.getuid?.() === 0) {
      writeFileSync(join(out, "fake.deb"), "");
      expect(spawnSync("sh", [BUILD, "--deb", join(out, "fake.deb"), "--size", "300M"], { encoding: "utf8" }).stderr).toMatch(/--size must be whole GiB like 3G, not '300M'/);
    }
  });

  it.skipIf(why !== null)(
    "interrupted halfway, it leaves no mount and no temporary tree",
    async () => {
      const deb = readdirSync(join(REPO, "dist")).find((f) => f.endsWith("_all.deb"));
      if (!deb) throw new Error("no dist/*.deb: run packaging/build-deb first");
      const p = spawn("sh", [BUILD, "--deb", join(REPO, "dist", deb), "--out", join(out, "img.raw"), "--cache", join(CACHE, "image")], { stdio: ["ignore", "ignore", "pipe"], detached: true });
      let stderr = "";
      p.stderr.on("data", (d) => (stderr += d));
      const mountedInside = () => readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.split(" ")[1]?.startsWith(out + "/"));
      // Wait until mmdebstrap has its mounts inside the tree: the middle of the build.
      for (let i = 0; i < 600 && mountedInside().length === 0 && p.exitCode === null; i++) await new Promise((r) => setTimeout(r, 250));
      expect(mountedInside().length, stderr).toBeGreaterThan(0);
      process.kill(-p.pid!, "SIGINT");
      const code = await new Promise<number | null>((res) => p.on("close", res));
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/interrupted/);
      expect(mountedInside()).toEqual([]);
      expect(readdirSync(out).filter((f) => f.startsWith(".image-build") || f === "img.raw")).toEqual([]);
      expect(existsSync(join(out, "img.raw"))).toBe(false);
    },
    600_000,
  );
});
