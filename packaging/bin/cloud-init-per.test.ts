// packaging/bin/cloud-init-per: once, instance and always, with cloud-init's semaphores,
// run for real (sh) against a temp tree (SPROUT_ROOT), plus shellcheck.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempRoot, type TempRoot } from "../../test/helpers/target";

const PER = resolve(__dirname, "cloud-init-per");
let root: TempRoot;
afterEach(() => root?.cleanup());

function per(args: string[]) {
  const r = spawnSync(PER, args, { encoding: "utf8", env: { ...process.env, SPROUT_ROOT: root.dir } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A tree whose /var/lib/cloud/instance points at instance `id`, as sprout leaves it. */
function onInstance(id: string): void {
  mkdirSync(join(root.dir, "var/lib/sprout/instances", id), { recursive: true });
  mkdirSync(join(root.dir, "var/lib/cloud"), { recursive: true });
  rmSync(join(root.dir, "var/lib/cloud/instance"), { force: true });
  symlinkSync(`../sprout/instances/${id}`, join(root.dir, "var/lib/cloud/instance"));
}

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)("cloud-init-per", () => {
  it("once: runs the first time only, even on a new instance; the semaphore holds the exit status", () => {
    root = tempRoot();
    onInstance("i-1");
    const log = join(root.dir, "ran");
    expect(per(["once", "my-mkfs", "sh", "-c", `echo ran >> ${log}; exit 3`]).code).toBe(3);
    onInstance("i-2");
    expect(per(["once", "my-mkfs", "sh", "-c", `echo ran >> ${log}`]).code).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("ran\n");
    // my-mkfs and my_mkfs are one name, as in cloud-init.
    expect(readFileSync(join(root.dir, "var/lib/cloud/sem/bootper.my_mkfs.once"), "utf8")).toMatch(/^3\t\d+\n$/);
  });

  it("instance: runs once per instance, in the instance's own semaphore folder", () => {
    root = tempRoot();
    onInstance("i-1");
    const log = join(root.dir, "ran");
    per(["instance", "setup", "sh", "-c", `echo i1 >> ${log}`]);
    per(["instance", "setup", "sh", "-c", `echo i1-again >> ${log}`]);
    onInstance("i-2");
    per(["instance", "setup", "sh", "-c", `echo i2 >> ${log}`]);
    expect(readFileSync(log, "utf8")).toBe("i1\ni2\n");
    expect(existsSync(join(root.dir, "var/lib/sprout/instances/i-1/sem/bootper.setup.instance"))).toBe(true);
  });

  it("always: runs every time", () => {
    root = tempRoot();
    const log = join(root.dir, "ran");
    for (let i = 0; i < 3; i++) expect(per(["always", "tick", "sh", "-c", `echo t >> ${log}`]).code).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("t\nt\nt\n");
  });

  it("refuses a bad frequency, a name with a /, and too few arguments, with its usage", () => {
    root = tempRoot();
    expect(per(["weekly", "x", "true"])).toMatchObject({ code: 1, err: expect.stringContaining("invalid frequency: weekly") });
    expect(per(["once", "a/b", "true"])).toMatchObject({ code: 1, err: expect.stringContaining("name cannot contain a /") });
    expect(per(["once", "x"])).toMatchObject({ code: 1, err: expect.stringContaining("Usage: cloud-init-per frequency name cmd") });
    expect(per(["--help"])).toMatchObject({ code: 0, out: expect.stringContaining("once: run only once") });
  });

  it("passes shellcheck", (ctx) => {
    const sc = spawnSync("sh", ["-c", "command -v shellcheck"], { encoding: "utf8" }).stdout.trim();
    if (!sc) ctx.skip();
    const r = spawnSync(sc, ["-s", "sh", PER], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
