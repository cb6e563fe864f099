// packaging/bin/cloud-init: cloud-init's command line answered by the real sprout
// (dist/sprout.js) on a temp root booted from a NoCloud seed.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempRoot, type TempRoot } from "../../test/helpers/target";

const SHIM = resolve(__dirname, "cloud-init");
const BUNDLE = resolve(__dirname, "../../dist/sprout.js");
let bin: string;
let root: TempRoot;

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), "sprout-shim-"));
  writeFileSync(join(bin, "sprout"), `#!/bin/sh\nexec "${process.execPath}" "${BUNDLE}" "$@"\n`);
  chmodSync(join(bin, "sprout"), 0o755);
});
afterAll(() => {
  rmSync(bin, { recursive: true, force: true });
  root?.cleanup();
});

function ci(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(SHIM, ["--root", root.dir, ...args], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SPROUT_CODE_CACHE_DIR: "off", ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function seeded(): TempRoot {
  return tempRoot({
    "var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-shim\nlocal-hostname: shimhost\n",
    "var/lib/cloud/seed/nocloud/user-data": "#cloud-config\nruncmd: [echo hi]\n",
    "proc/cmdline": "quiet\n",
  });
}

describe.skipIf(!existsSync(BUNDLE))("cloud-init's command line on sprout", () => {
  it("status --wait before any boot gives up at its bound; init --local, init, modules --mode config|final boot the stages; status --long --wait then says done", () => {
    root = seeded();
    const early = ci(["status", "--wait"], { CLOUD_INIT_WAIT_TIMEOUT: "1" });
    expect(early.code).toBe(1);
    expect(early.out).toMatch(/had not finished after 1 s/);
    expect(ci(["init", "--local"]).code).toBe(0);
    expect(ci(["init"]).code).toBe(0);
    expect(ci(["modules", "--mode", "config"]).code).toBe(0);
    expect(ci(["modules", "--mode=final"]).code).toBe(0);
    const st = ci(["status", "--long", "--wait"]);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/^status: done$/m);
    expect(JSON.parse(ci(["status", "--format", "json"]).out).status).toBe("done");
    expect(existsSync(join(root.dir, "var/lib/cloud/instance/boot-finished"))).toBe(true);
  });

  it("query, analyze and schema -c answer as sprout's", () => {
    expect(ci(["query", "v1.instance_id"]).out.trim()).toBe("iid-shim");
    expect(JSON.parse(ci(["query", "-a"]).out).v1.local_hostname).toBe("shimhost");
    expect(ci(["analyze", "show"]).code).toBe(0);
    writeFileSync(join(root.dir, "bad.yaml"), "#cloud-config\nwrite_file: []\n");
    const bad = ci(["schema", "-c", join(root.dir, "bad.yaml"), "--annotate"]);
    expect(bad.code).toBe(1);
    expect(bad.out + bad.err).toMatch(/did you mean "write_files"/);
  });

  it("clean --logs --seed forgets the instance, the logs and the seed", () => {
    expect(ci(["clean", "--logs", "--seed"]).code).toBe(0);
    expect(existsSync(join(root.dir, "var/lib/sprout/instance"))).toBe(false);
    expect(existsSync(join(root.dir, "var/log/sprout.log"))).toBe(false);
    expect(existsSync(join(root.dir, "var/lib/cloud/seed/nocloud"))).toBe(false);
  });

  it("says what sprout cannot do, with what to do instead, and exits 2", () => {
    for (const [args, why] of [
      [["single", "--name", "x"], /single is not available: this machine runs sprout/],
      [["collect-logs"], /\/var\/log\/sprout\.log/],
      [["status", "--bogus"], /status --bogus is not available.*sprout status --help/],
      [["status", "--format"], /--format without a value/],
      [["query", "--format", "{{v1}}"], /sprout query KEY/],
      [[], /Try: cloud-init status --wait/],
    ] as const) {
      const r = ci([...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(why);
    }
    expect(ci(["--version"]).out).toMatch(/^cloud-init 22\.4\.2 \(sprout \d+\.\d+\.\d+, which takes cloud-init 22\.4\.2's inputs\)$/m);
  });

  it("is POSIX sh that shellcheck accepts", () => {
    const r = spawnSync("shellcheck", ["-s", "sh", SHIM], { encoding: "utf8" });
    if (r.error) return void console.warn("shellcheck is not installed; test/install-deps.sh installs it");
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
