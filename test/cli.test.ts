// The CLI as a person meets it: the built bundle, run with --root on a temp machine.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUNDLE, sprout } from "./helpers/cli";
import { tempRoot, type TempRoot } from "./helpers/target";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));

function seeded(userData = "#cloud-config\nfinal_message: done $INSTANCE_ID\n"): TempRoot {
  const r = tempRoot({
    "/proc/cmdline": "root=/dev/vda1\n",
    "/var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-cli\nlocal-hostname: clihost\npublic-keys: [ssh-ed25519 AAAAC3 me@laptop]\n",
    "/var/lib/cloud/seed/nocloud/user-data": userData,
  });
  roots.push(r);
  return r;
}

describe("sprout CLI", () => {
  it("prints its version and help", () => {
    expect(sprout(["--version"]).stdout).toMatch(/^sprout \d+\.\d+\.\d+/);
    const help = sprout(["--help"]);
    expect(help.code).toBe(0);
    for (const c of ["boot", "init", "status", "query", "analyze", "clean"]) expect(help.stdout).toContain(c);
    expect(sprout(["status", "--help"]).stdout).toContain("--wait");
  });

  it("rejects unknown commands and options with exit 2 and a hint", () => {
    const a = sprout(["bot"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown command "bot" \(did you mean boot\?\)/);
    const b = sprout(["status", "--frobnicate"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown option --frobnicate/);
    expect(sprout(["init"]).code).toBe(2);
    expect(sprout(["init", "--stage", "late"]).stderr).toMatch(/not "late"/);
    expect(sprout([]).code).toBe(2);
  });

  it("boots, then status, query, analyze describe that boot", () => {
    const r = seeded();
    const b = sprout(["--root", r.dir, "boot"]);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain("done iid-cli");
    const s = sprout(["--root", r.dir, "status"]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/status: done\ndatasource: NoCloud\ninstance-id: iid-cli/);
    const js = JSON.parse(sprout(["--root", r.dir, "status", "--format", "json"]).stdout);
    expect(js.status).toBe("done");
    expect(sprout(["--root", r.dir, "query", "v1.instance_id"]).stdout).toBe("iid-cli\n");
    expect(sprout(["--root", r.dir, "query", "ds.meta_data.local-hostname"]).stdout).toBe("clihost\n");
    expect(sprout(["--root", r.dir, "query", "ds.meta_data.local_hostname"]).stdout).toBe("clihost\n");
    expect(JSON.parse(sprout(["--root", r.dir, "query", "v1.public_ssh_keys"]).stdout)).toEqual(["ssh-ed25519 AAAAC3 me@laptop"]);
    expect(JSON.parse(sprout(["--root", r.dir, "query", "--all"]).stdout).v1.datasource).toBe("NoCloud");
    expect(sprout(["--root", r.dir, "query", "userdata"]).stdout).toContain("final_message");
    const missing = sprout(["--root", r.dir, "query", "v1.nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--list-keys/);
    const show = sprout(["--root", r.dir, "analyze", "show"]);
    expect(show.stdout).toMatch(/stage local: [\d.]+s \(ok\)/);
    expect(show.stdout).toMatch(/final_message \(changed\)/);
    const blame = JSON.parse(sprout(["--root", r.dir, "analyze", "blame", "--format", "json"]).stdout);
    expect(blame.map((x: { module: string }) => x.module)).toContain("set_hostname");
  });

  it("exits 2 when degraded and 1 when a stage could not complete", () => {
    const r = seeded("#cloud-config\nruncmd:\n  - exit 4\n");
    expect(sprout(["--root", r.dir, "boot"]).code).toBe(2);
    const s = sprout(["--root", r.dir, "status"]);
    expect(s.code).toBe(2);
    expect(s.stdout).toMatch(/status: degraded/);
    expect(s.stdout).toMatch(/runcmd/);
    const st = JSON.parse(readFileSync(join(r.dir, "run/sprout/status.json"), "utf8"));
    st.v1.stages.config.fatal = "simulated";
    writeFileSync(join(r.dir, "run/sprout/status.json"), JSON.stringify(st));
    expect(sprout(["--root", r.dir, "status"]).code).toBe(1);
  });

  it("status --wait returns when the boot finishes and never waits past its timeout", async () => {
    const r = seeded();
    mkdirSync(join(r.dir, "run/sprout"), { recursive: true });
    writeFileSync(join(r.dir, "run/sprout/status.json"), JSON.stringify({ v1: { done: false, stage: "local", errors: [], warnings: [], stages: { local: { start: "x", end: null, fatal: null, modules: [] }, network: {}, config: {}, final: {} } } }));
    const t0 = Date.now();
    const w = sprout(["--root", r.dir, "status", "--wait", "--timeout", "1"]);
    expect(w.code).toBe(1);
    expect(w.stdout).toMatch(/had not finished after 1 s/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const waiter = spawn(process.execPath, [BUNDLE, "--root", r.dir, "status", "--wait", "--timeout", "60"]);
    const exit = new Promise<number | null>((res) => waiter.on("exit", (c) => res(c)));
    sprout(["--root", r.dir, "boot"]);
    expect(await exit).toBe(0);
  });

  it("a second sprout waits for the lock, gives up with a message, and takes over a stale one", async () => {
    const r = seeded();
    const holder = spawn("sleep", ["30"]);
    mkdirSync(join(r.dir, "run/sprout"), { recursive: true });
    writeFileSync(join(r.dir, "run/sprout/sprout.lock"), `${holder.pid}\n`);
    const second = sprout(["--root", r.dir, "boot", "--lock-wait", "1"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`another sprout \\(pid ${holder.pid}\\) is still running`));
    holder.kill("SIGKILL");
    await new Promise((res) => holder.on("exit", res));
    const third = sprout(["--root", r.dir, "boot", "--lock-wait", "5"]);
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/stale lock/);
  });

  it("clean forgets the instance so the next boot is a first boot", () => {
    const r = seeded("#cloud-config\nruncmd:\n  - echo x >> \"$COUNT\"\n");
    const env = { COUNT: join(r.dir, "count") };
    sprout(["--root", r.dir, "boot"], { env });
    sprout(["--root", r.dir, "boot"], { env });
    expect(readFileSync(join(r.dir, "count"), "utf8")).toBe("x\n");
    const c = sprout(["--root", r.dir, "clean", "--logs"]);
    expect(c.stdout).toMatch(/removed: .*\/var\/lib\/sprout.*\/var\/log\/sprout.log/);
    sprout(["--root", r.dir, "boot"], { env });
    expect(readFileSync(join(r.dir, "count"), "utf8")).toBe("x\nx\n");
    expect(sprout(["--root", r.dir, "clean", "--seed"]).stdout).toContain("/var/lib/cloud/seed");
  });

  it("hides sensitive instance data from users other than root", (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    const r = seeded();
    sprout(["--root", r.dir, "boot"]);
    chmodSync(r.dir, 0o755);
    const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    const q = sprout(["--root", r.dir, "query", "userdata"], { prefix: asNobody });
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/only shown to root/);
    expect(sprout(["--root", r.dir, "query", "v1.instance_id"], { prefix: asNobody }).stdout).toBe("iid-cli\n");
  });

  it("says what to do when the instance data cannot be read or is cut short, instead of an internal error", (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    const r = seeded();
    sprout(["--root", r.dir, "boot"]);
    chmodSync(r.dir, 0o755);
    chmodSync(join(r.dir, "run/sprout/instance-data.json"), 0o600);
    const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    const denied = sprout(["--root", r.dir, "query", "v1.instance_id"], { prefix: asNobody });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe("sprout: cannot read /run/sprout/instance-data.json: permission denied (sprout writes it 0644, so its mode was changed since): run `sudo sprout query`; the next boot writes it afresh\n");
    writeFileSync(join(r.dir, "run/sprout/instance-data-sensitive.json"), '{"v1": {"instance_id": "iid-c');
    const cut = sprout(["--root", r.dir, "query", "v1.instance_id"]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toBe("sprout: /run/sprout/instance-data-sensitive.json is not valid JSON (cut short or edited since sprout wrote it); the next boot writes it afresh\n");
  });

  it("status --wait run by a script of the boot answers at once instead of waiting for its own boot (cloud-init status --wait in user-data)", () => {
    const r = seeded();
    const waitCommand = `'${process.execPath}' '${BUNDLE}' --root '${r.dir}' status --wait --timeout 600 > '${r.dir}/waited.out' 2>&1; echo "rc=$?" >> '${r.dir}/waited.out'`;
    r.write("/var/lib/cloud/seed/nocloud/user-data", `#cloud-config\nruncmd:\n  - ${JSON.stringify(waitCommand)}\n`);
    // Without the check, the script waits 600 s for a boot that waits for the script: past this test's bound.
    const boot = sprout(["--root", r.dir, "boot"], { timeoutMs: 50_000 });
    expect(boot.code).toBe(0);
    const out = readFileSync(join(r.dir, "waited.out"), "utf8");
    expect(out).toContain("status: running\n");
    expect(out).toMatch(/sprout: status --wait was run by a script of the boot it would wait for \(sprout, pid \d+\), which cannot finish while that script waits; answering now\n/);
    expect(out).toMatch(/rc=0\n$/);
    // After the boot, the same command from outside waits as before (nothing to wait for: done).
    expect(sprout(["--root", r.dir, "status", "--wait", "--timeout", "5"]).stdout).toMatch(/^status: done\n/);
  });

  it("a reader that stops early (| head) ends sprout quietly with its own exit code", () => {
    // `true` exits long before sprout writes, so the write fails with EPIPE.
    const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${BUNDLE}" schema --docs | true`], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off" } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("writes all of a long output into a pipe its parent made non-blocking, however slowly it is read", () => {
    // Python holds the pipe's read end, shrinks the pipe to one page, makes the write end
    // non-blocking (as some supervisors leave it), and starts reading only after a pause:
    // sprout's writes meet a full pipe (EAGAIN) and must wait, not drop or fail.
    const script = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], sys.argv[2], "schema", "--docs"], stdout=w)
os.close(w)
time.sleep(0.5)
out = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    out += chunk
print(p.wait(), len(out), out.count(b"\\n"))
`;
    const r = spawnSync("python3", ["-c", script, process.execPath, BUNDLE], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off" } });
    const direct = spawnSync(process.execPath, [BUNDLE, "schema", "--docs"], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off" }, maxBuffer: 64 * 1024 * 1024 });
    expect(Buffer.byteLength(direct.stdout)).toBeGreaterThan(8 * 4096); // many times what the pipe holds
    expect(r.stdout.trim(), r.stderr).toBe(`0 ${Buffer.byteLength(direct.stdout)} ${direct.stdout.split("\n").length - 1}`);
  });
});
