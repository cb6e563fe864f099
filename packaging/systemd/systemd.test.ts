// The shell side of the systemd integration: sprout-generator (sprout=disabled,
// /etc/sprout/sprout-disabled) and stage-gate (the stage units' bounded waits),
// run as systemd runs them, on temporary directories.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const here = new URL(".", import.meta.url).pathname;
const GENERATOR = join(here, "sprout-generator");
const GATE = join(here, "stage-gate");

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function generator(cmdline: string, disabledFile = false) {
  dir = mkdtempSync(join(tmpdir(), "sprout-gen-"));
  mkdirSync(join(dir, "root/proc"), { recursive: true });
  writeFileSync(join(dir, "root/proc/cmdline"), cmdline + "\n");
  if (disabledFile) {
    mkdirSync(join(dir, "root/etc/sprout"), { recursive: true });
    writeFileSync(join(dir, "root/etc/sprout/sprout-disabled"), "");
  }
  const r = spawnSync("sh", [GENERATOR, join(dir, "out"), join(dir, "early"), join(dir, "late")], { encoding: "utf8", env: { ...process.env, SPROUT_GENERATOR_ROOT: join(dir, "root") } });
  const link = join(dir, "out/multi-user.target.wants/sprout.target");
  return { ...r, linked: existsSync(join(dir, "out/multi-user.target.wants")) && readlinkSync(link) };
}

describe("sprout-generator", () => {
  it("pulls sprout.target into multi-user.target on a normal boot", () => {
    const r = generator("root=LABEL=cloudimg-rootfs ro console=ttyS0");
    expect(r.status).toBe(0);
    expect(r.linked).toBe("/lib/systemd/system/sprout.target");
  });

  it("does nothing, and says why, with sprout=disabled on the kernel command line", () => {
    const r = generator("root=/dev/vda1 sprout=disabled quiet");
    expect(r.status).toBe(0);
    expect(r.linked).toBe(false);
    expect(r.stderr).toMatch(/sprout=disabled is on the kernel command line: sprout will not run this boot/);
  });

  it("does not mistake a similar word for sprout=disabled", () => {
    expect(generator("root=/dev/vda1 xsprout=disabled sprout=disabledx").linked).toBe("/lib/systemd/system/sprout.target");
  });

  it("does nothing when /etc/sprout/sprout-disabled exists", () => {
    const r = generator("root=/dev/vda1", true);
    expect(r.linked).toBe(false);
    expect(r.stderr).toMatch(/\/etc\/sprout\/sprout-disabled exists/);
  });

  it("without its output directory argument it is a usage error", () => {
    const r = spawnSync("sh", [GENERATOR], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: sprout-generator NORMAL_DIR/);
  });

  it("is POSIX sh that shellcheck accepts", () => {
    const sc = spawnSync("shellcheck", ["-s", "sh", GENERATOR, GATE, join(here, "../bin/sprout"), join(here, "../bin/warm-code-cache"), join(here, "../bin/cpu-id.sh"), join(here, "../build-deb"), join(here, "../image/build"), join(here, "../image/customize")], { encoding: "utf8" });
    if (sc.error) return void console.warn("shellcheck not installed; skipped (apt-get install shellcheck)");
    expect(sc.stdout + sc.stderr).toBe("");
    expect(sc.status).toBe(0);
  });
});

function gate(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("sh", [GATE, ...args], { env: { ...process.env, SPROUT_RUN_DIR: dir } });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("stage-gate", () => {
  it("opens the stage's gate at once and returns when sprout marks the stage done", async () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-gate-"));
    const waiting = gate(["wait", "config", "30"]);
    for (let i = 0; i < 200 && !existsSync(join(dir, "gate/config")); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(join(dir, "gate/config"))).toBe(true);
    mkdirSync(join(dir, "stage"), { recursive: true });
    writeFileSync(join(dir, "stage/config.done"), "");
    expect((await waiting).code).toBe(0);
  });

  it("fails at once, naming the unit to look at, when sprout's process has ended without the stage", async () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-gate-"));
    expect((await gate(["ended"])).code).toBe(0);
    const r = await gate(["wait", "final", "30"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^<3>sprout stopped before its final stage finished: see `systemctl status sprout.service`/);
  });

  it("gives up after its bound with an error, so the boot goes on", async () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-gate-"));
    const r = await gate(["wait", "local", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/<3>sprout's local stage did not finish within 1 s; the boot goes on/);
  });

  it("reset forgets an earlier run's markers", async () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-gate-"));
    mkdirSync(join(dir, "stage"), { recursive: true });
    writeFileSync(join(dir, "stage/ended"), "");
    writeFileSync(join(dir, "stage/local.done"), "");
    expect((await gate(["reset"])).code).toBe(0);
    expect(existsSync(join(dir, "stage/ended"))).toBe(false);
    expect(existsSync(join(dir, "stage/local.done"))).toBe(false);
  });

  it("refuses an unknown stage or a bad bound", async () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-gate-"));
    expect(await gate(["wait", "later", "5"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown stage 'later'/) });
    expect(await gate(["wait", "local", "5s"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/SECONDS must be a whole number/) });
    expect(await gate([])).toMatchObject({ code: 2 });
  });
});

describe("console lines under systemd", () => {
  it("carry their syslog priority as a <N> prefix when stderr is the journal (JOURNAL_STREAM), and none otherwise", () => {
    dir = mkdtempSync(join(tmpdir(), "sprout-journal-"));
    mkdirSync(join(dir, "proc"), { recursive: true });
    writeFileSync(join(dir, "proc/cmdline"), "root=/dev/vda1\n");
    mkdirSync(join(dir, "etc/sprout"), { recursive: true });
    writeFileSync(join(dir, "etc/sprout/config.yaml"), "datasource_list: [None\n");
    const bundle = join(here, "../../dist/sprout.js");
    const boot = (env: Record<string, string>) => spawnSync(process.execPath, [bundle, "--root", dir, "boot"], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off", ...env } });
    const journal = boot({ JOURNAL_STREAM: "8:12345" });
    expect(journal.stderr).toMatch(/^<6>sprout\[local\]: stage local starting$/m);
    expect(journal.stderr).toMatch(/^<3>sprout\[local\]: ERROR \[config\] \/etc\/sprout\/config\.yaml/m);
    const plain = boot({ JOURNAL_STREAM: "" });
    expect(plain.stderr).toMatch(/^sprout\[local\]: stage local starting$/m);
    expect(plain.stderr).not.toMatch(/^<\d>/m);
  });
});
