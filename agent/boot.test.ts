import { chmodSync, readFileSync, statSync, existsSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempRoot, type TempRoot } from "../test/helpers/target";
import { runStages } from "./boot";
import { bootState, exitCodeFor } from "./status";
import { STAGES } from "./types";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));

function machine(files: Record<string, string | Uint8Array> = {}): TempRoot {
  const r = tempRoot({ "/proc/cmdline": "root=/dev/vda1 ro quiet\n", "/etc/hosts": "127.0.0.1 localhost\n", ...files });
  roots.push(r);
  return r;
}

function seed(r: TempRoot, iid: string, userData: string): void {
  r.write("/var/lib/cloud/seed/nocloud/meta-data", `instance-id: ${iid}\nlocal-hostname: web1\n`);
  r.write("/var/lib/cloud/seed/nocloud/user-data", userData);
}

const read = (r: TempRoot, p: string) => readFileSync(join(r.dir, p), "utf8");
const boot = (r: TempRoot) => runStages(r.host(), [...STAGES]);

const USER_DATA = `#cloud-config
write_files:
  - path: /etc/app.conf
    content: "port=80\\n"
runcmd:
  - echo ran >> /tmp-runcmd-count
`;

describe("the stage engine", () => {
  it("boots a NoCloud seed: hostname, files, instance data, status", async () => {
    const r = machine();
    seed(r, "iid-one", USER_DATA.replace("/tmp-runcmd-count", "\"$SPROUT_TEST_ROOT/runcount\""));
    process.env.SPROUT_TEST_ROOT = r.dir;
    const st = await boot(r);
    expect(st.v1.errors).toEqual([]);
    expect(exitCodeFor(bootState(st))).toBe(0);
    expect(read(r, "/etc/hostname")).toBe("web1\n");
    expect(read(r, "/etc/hosts")).toContain("127.0.1.1 web1");
    expect(read(r, "/etc/app.conf")).toBe("port=80\n");
    expect(read(r, "/runcount")).toBe("ran\n");
    const pub = JSON.parse(read(r, "/run/sprout/instance-data.json"));
    expect(pub.v1).toMatchObject({ instance_id: "iid-one", local_hostname: "web1", datasource: "NoCloud", platform: "nocloud" });
    expect(statSync(join(r.dir, "/run/sprout/instance-data.json")).mode & 0o777).toBe(0o644);
    expect(statSync(join(r.dir, "/run/sprout/instance-data-sensitive.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(r.dir, "/var/lib/sprout/instance/user-data.txt")).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(r.dir, "/var/lib/sprout/instance"))).toBe("instances/iid-one");
    const status = JSON.parse(read(r, "/run/sprout/status.json"));
    expect(status.v1.done).toBe(true);
    expect(JSON.parse(read(r, "/run/sprout/result.json")).v1.status).toBe("done");
    const log = read(r, "/var/log/sprout.log").trim().split("\n").map((l) => JSON.parse(l));
    expect(log.some((l) => l.evt === "finish" && l.name === "final/runcmd")).toBe(true);
    // Every datasource's detection and the chosen one's read are timed (wall and CPU ms): the OVF bench reads these.
    const detects = log.filter((l) => l.evt === "datasource-detect");
    expect(detects.map((l) => l.datasource)).toEqual(["NoCloud", "OVF", "Ec2", "None"]);
    const fetched = log.find((l) => l.evt === "datasource");
    expect(fetched.datasource).toBe("NoCloud");
    for (const l of [...detects, fetched]) expect([typeof l.ms, typeof l.cpu_ms, l.ms >= 0 && l.cpu_ms >= 0]).toEqual(["number", "number", true]);
  });

  it("writes status.json once as each stage starts and once at the end, every stage's start and end recorded", async () => {
    const r = machine();
    seed(r, "iid-status", "#cloud-config\n{}\n");
    const h = r.host();
    const written: string[] = [];
    const writeAtomic = h.root.writeAtomic.bind(h.root);
    h.root.writeAtomic = (p, data, opts) => {
      if (p.endsWith("/status.json")) written.push(JSON.parse(String(data)).v1.stage ?? "none");
      return writeAtomic(p, data, opts);
    };
    const st = await runStages(h, [...STAGES]);
    expect(written).toEqual(["local", "network", "config", "final", "none"]);
    for (const s of STAGES) expect([st.v1.stages[s].start !== null, st.v1.stages[s].end !== null]).toEqual([true, true]);
    expect(JSON.parse(read(r, "/run/sprout/status.json"))).toEqual(st);
  });

  it("does not re-run per-instance modules on a second boot of the same instance, and does for a new one", async () => {
    const r = machine();
    seed(r, "iid-a", USER_DATA.replace("/tmp-runcmd-count", "\"$SPROUT_TEST_ROOT/runcount\""));
    process.env.SPROUT_TEST_ROOT = r.dir;
    await boot(r);
    writeFileSync(join(r.dir, "etc/app.conf"), "edited by a person\n");
    const second = await boot(r);
    expect(read(r, "/runcount")).toBe("ran\n");
    expect(read(r, "/etc/app.conf")).toBe("edited by a person\n");
    expect(second.v1.stages.network.modules.find((m) => m.id === "write_files")?.status).toBe("not-due");
    expect(second.v1.stages.final.modules.find((m) => m.id === "final_message")?.status).toBe("changed");
    seed(r, "iid-b", USER_DATA.replace("/tmp-runcmd-count", "\"$SPROUT_TEST_ROOT/runcount\""));
    await boot(r);
    expect(read(r, "/runcount")).toBe("ran\nran\n");
    expect(read(r, "/etc/app.conf")).toBe("port=80\n");
    expect(read(r, "/var/lib/sprout/data/previous-instance-id")).toBe("iid-a\n");
  });

  it("a module left idle keeps no semaphore, so a later boot whose config gains its keys runs it (as cloud-init does)", async () => {
    const r = machine();
    seed(r, "iid-idle", USER_DATA);
    await boot(r);
    const sem = (id: string) => existsSync(join(r.dir, "var/lib/sprout/instances/iid-idle/sem", id));
    expect([sem("write_files"), sem("timezone")]).toEqual([true, false]);
    r.write("/etc/sprout/config.d/50-timezone.yaml", "timezone: Etc/UTC\n");
    r.write("/usr/share/zoneinfo/Etc/UTC", "TZif2 stand-in\n");
    const second = await boot(r);
    expect(second.v1.stages.config.modules.find((m) => m.id === "timezone")?.status).toBe("changed");
    expect(second.v1.stages.network.modules.find((m) => m.id === "write_files")?.status).toBe("not-due");
    expect(read(r, "/etc/timezone")).toBe("Etc/UTC\n");
    expect(sem("timezone")).toBe(true);
    const third = await boot(r);
    expect(third.v1.stages.config.modules.find((m) => m.id === "timezone")?.status).toBe("not-due");
  });

  it("runs user scripts and runcmd at every boot with AWS's cloud_final_modules: [[scripts-user, always]], and no final module the list leaves out", async () => {
    // The MIME user-data AWS documents for "run my script at every restart".
    const userData = [
      'Content-Type: multipart/mixed; boundary="//"',
      "MIME-Version: 1.0",
      "",
      "--//",
      'Content-Type: text/cloud-config; charset="us-ascii"',
      "MIME-Version: 1.0",
      "Content-Transfer-Encoding: 7bit",
      'Content-Disposition: attachment; filename="cloud-config.txt"',
      "",
      "#cloud-config",
      "cloud_final_modules:",
      "- [scripts-user, always]",
      "runcmd:",
      '  - echo runcmd >> "$SPROUT_TEST_ROOT/every-boot"',
      "write_files:",
      "  - path: /etc/deferred.conf",
      "    content: later",
      "    defer: true",
      "",
      "--//",
      'Content-Type: text/x-shellscript; charset="us-ascii"',
      "MIME-Version: 1.0",
      "Content-Transfer-Encoding: 7bit",
      'Content-Disposition: attachment; filename="userdata.txt"',
      "",
      "#!/bin/sh",
      'echo script >> "$SPROUT_TEST_ROOT/every-boot"',
      "--//--",
      "",
    ].join("\n");
    const r = machine();
    seed(r, "iid-every", userData);
    process.env.SPROUT_TEST_ROOT = r.dir;
    const first = await boot(r);
    expect(first.v1.errors).toEqual([]);
    expect(read(r, "/every-boot")).toBe("runcmd\nscript\n");
    // cloud-init runs no other final module: write-files-deferred and final-message are not in the list.
    expect(existsSync(join(r.dir, "etc/deferred.conf"))).toBe(false);
    const finalMessage = first.v1.stages.final.modules.find((m) => m.id === "final_message");
    expect(finalMessage).toMatchObject({ status: "skipped", detail: "not in cloud_final_modules, which the config gives" });
    // Modules of the other stages still run as they would.
    expect(read(r, "/etc/hostname")).toBe("web1\n");
    const second = await boot(r);
    expect(second.v1.errors).toEqual([]);
    expect(read(r, "/every-boot")).toBe("runcmd\nscript\nruncmd\nscript\n");
  });

  it("does not wait for a daemon runcmd starts in the background (`server &`), which keeps running and logging, as under cloud-init", async () => {
    const r = machine();
    seed(r, "iid-daemon", '#cloud-config\nruncmd:\n  - (sleep 2; echo daemon-says-hello; exec sleep 60) &\n  - echo "$!" > "$SPROUT_TEST_ROOT/daemon.pid"\n  - echo started\n');
    process.env.SPROUT_TEST_ROOT = r.dir;
    const st = await boot(r);
    const pid = Number(read(r, "/daemon.pid"));
    try {
      expect(st.v1.errors).toEqual([]);
      expect(st.v1.done).toBe(true);
      // The boot is over and the daemon still runs...
      expect(() => process.kill(pid, 0)).not.toThrow();
      const log = () => read(r, "/var/log/user_data.log");
      expect(log()).toMatch(/started\n--- sprout: runcmd left a process running that still holds its output; .*\n--- sprout: END runcmd exit=0/);
      // ...and what it prints later still reaches the log.
      for (let waited = 0; waited < 10_000 && !log().includes("daemon-says-hello"); waited += 100) await new Promise((res) => setTimeout(res, 100));
      expect(log()).toMatch(/END runcmd exit=0 after \d+ ms\ndaemon-says-hello\n$/);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("bootcmd's cloud-init-per (cloud-init's own example) works on an image without cloud-init: the package's helper is on the scripts' PATH", async () => {
    const r = machine({ "/usr/lib/sprout/compat/cloud-init-per": readFileSync(join(__dirname, "../packaging/bin/cloud-init-per")) });
    chmodSync(join(r.dir, "usr/lib/sprout/compat/cloud-init-per"), 0o755);
    const userData = '#cloud-config\nbootcmd:\n  - [cloud-init-per, once, mymkfs, sh, -c, \'echo once >> "$SPROUT_TEST_ROOT/per"\']\n  - [cloud-init-per, instance, setup, sh, -c, \'echo "instance $INSTANCE_ID" >> "$SPROUT_TEST_ROOT/per"\']\n';
    seed(r, "iid-per-1", userData);
    process.env.SPROUT_TEST_ROOT = r.dir;
    expect((await boot(r)).v1.errors).toEqual([]);
    await boot(r);
    seed(r, "iid-per-2", userData);
    expect((await boot(r)).v1.errors).toEqual([]);
    expect(read(r, "/per")).toBe("once\ninstance iid-per-1\ninstance iid-per-2\n");
    // cloud-init's semaphores, in the tree booted (--root), not on this machine.
    expect(existsSync(join(r.dir, "var/lib/cloud/sem/bootper.mymkfs.once"))).toBe(true);
  });

  it("runs none of the init modules a cloud_init_modules list leaves out, and reports a list it cannot read", async () => {
    const r = machine();
    seed(r, "iid-lists", "#cloud-config\ncloud_init_modules: [write-files]\ncloud_config_modules: timezone\ntimezone: Etc/UTC\nhostname: from-user-data\nmanage_etc_hosts: true\nwrite_files:\n  - path: /etc/listed.conf\n    content: hello\n");
    r.write("/usr/share/zoneinfo/Etc/UTC", "TZif2 stand-in\n");
    const st = await boot(r);
    expect(read(r, "/etc/listed.conf")).toBe("hello");
    // As cloud-init, which sets the hostname before it reads user-data whatever the lists say: the meta-data's name, not the user-data's.
    expect(read(r, "/etc/hostname")).toBe("web1\n");
    expect(existsSync(join(r.dir, "etc/timezone"))).toBe(false);
    expect(read(r, "/etc/hosts")).not.toContain("from-user-data");
    expect(st.v1.stages.network.modules.find((m) => m.id === "update_etc_hosts")).toMatchObject({ status: "skipped", detail: "not in cloud_init_modules, which the config gives" });
    expect(st.v1.warnings).toContain('[config] cloud_config_modules must be a list of module names (for example [scripts-user, [runcmd, always]]), not string "timezone"; no module of that stage runs, as in cloud-init');
    // A list turns modules off; it is no error, and the boot is clean.
    expect(exitCodeFor(bootState(st))).toBe(0);
  });

  it("a seed whose network-config is broken YAML is used, without it, and the status says why (cloud-init ignores it too)", async () => {
    const r = machine();
    seed(r, "iid-badnet", USER_DATA);
    r.write("/var/lib/cloud/seed/nocloud/network-config", "version: 2\nethernets:\n  eth0:\n    dhcp4: [true\n");
    const st = await boot(r);
    expect(st.v1.datasource).toBe("NoCloud");
    expect(read(r, "/etc/app.conf")).toBe("port=80\n");
    expect(st.v1.errors).toEqual([]);
    expect(st.v1.warnings).toEqual([expect.stringMatching(/^\[ds:NoCloud\] network-config in seed-dir \(\/var\/lib\/cloud\/seed\/nocloud\): YAML error at line \d+: .*; it is ignored \(the network is configured as without one\): fix its YAML$/)]);
  });

  it("points cloud-init's /var/lib/cloud/instance at sprout's instance (boot-finished, user-data.txt), and leaves cloud-init's own state alone", async () => {
    const r = machine();
    seed(r, "iid-link", USER_DATA);
    await boot(r);
    expect(readlinkSync(join(r.dir, "var/lib/cloud/instance"))).toBe("../sprout/instance");
    expect(existsSync(join(r.dir, "var/lib/cloud/instance/boot-finished"))).toBe(true);
    expect(read(r, "/var/lib/cloud/instance/user-data.txt")).toBe(USER_DATA);
    seed(r, "iid-link-2", USER_DATA);
    await boot(r);
    expect(readlinkSync(join(r.dir, "var/lib/sprout/instance"))).toBe("instances/iid-link-2");
    expect(readlinkSync(join(r.dir, "var/lib/cloud/instance"))).toBe("../sprout/instance");
    const withCloudInit = machine({ "/var/lib/cloud/instances/i-ci/boot-finished": "x\n" });
    symlinkSync("/var/lib/cloud/instances/i-ci", join(withCloudInit.dir, "var/lib/cloud/instance"));
    seed(withCloudInit, "iid-link", USER_DATA);
    await boot(withCloudInit);
    expect(readlinkSync(join(withCloudInit.dir, "var/lib/cloud/instance"))).toBe("/var/lib/cloud/instances/i-ci");
  });

  it("records a failing module with its cause, runs the next one, and ends degraded", async () => {
    const r = machine();
    seed(r, "iid-f", "#cloud-config\nwrite_files:\n  - path: /etc/bad\n    content: '!!!notbase64'\n    encoding: b64\n  - path: /etc/good\n    content: ok\nruncmd: 5\n");
    const st = await boot(r);
    expect(exitCodeFor(bootState(st))).toBe(2);
    expect(read(r, "/etc/good")).toBe("ok");
    expect(existsSync(join(r.dir, "etc/bad"))).toBe(false);
    const msgs = st.v1.errors.map((e) => e.message).join("\n");
    expect(msgs).toMatch(/write_files\[0\] \(\/etc\/bad\): content is not valid base64/);
    expect(msgs).toMatch(/runcmd must be a list/);
    expect(st.v1.stages.final.modules.find((m) => m.id === "final_message")?.status).toBe("changed");
  });

  it("names a config.d file with a YAML error and its line, skips it, and applies the others", async () => {
    const r = machine({
      "/etc/sprout/config.d/10-broken.yaml": "final_message: ok\nbad: : x\n",
      "/etc/sprout/config.d/20-good.yaml": "final_message: from config.d $INSTANCE_ID\n",
    });
    seed(r, "iid-cfg", "#cloud-config\n{}\n");
    const st = await boot(r);
    const e = st.v1.errors.find((x) => x.source === "config")!;
    expect(e.file).toBe("/etc/sprout/config.d/10-broken.yaml");
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/skipped this file/);
    expect(read(r, "/var/log/sprout.log")).toContain("from config.d iid-cfg");
  });

  it("keeps an instance-id with / and .. inside the state directory", async () => {
    const r = machine();
    seed(r, '"../../../../etc/evil"', "#cloud-config\n{}\n");
    const st = await boot(r);
    expect(st.v1.instance_id).toBe("../../../../etc/evil");
    expect(existsSync(join(r.dir, "etc/evil"))).toBe(false);
    expect(readlinkSync(join(r.dir, "/var/lib/sprout/instance"))).toBe("instances/.._.._.._.._etc_evil".replace(/^instances\/\./, "instances/_"));
    expect(st.v1.warnings.join("\n")).toMatch(/not a safe directory name/);
    const r2 = machine();
    seed(r2, "..", "");
    await boot(r2);
    expect(readlinkSync(join(r2.dir, "/var/lib/sprout/instance"))).toBe("instances/___");
  });

  it("boots without /proc/cmdline and says so", async () => {
    const r = tempRoot({ "/var/lib/cloud/seed/nocloud/meta-data": "instance-id: x\n" });
    roots.push(r);
    const st = await boot(r);
    expect(st.v1.warnings).toContain("no /proc/cmdline: read no kernel arguments");
    expect(exitCodeFor(bootState(st))).toBe(0);
  });

  it("falls back to None when the seed is broken, and reports the datasource error", async () => {
    const r = machine({ "/var/lib/cloud/seed/nocloud/meta-data": Buffer.from([0xff, 0xfe, 0x00]) });
    const st = await boot(r);
    expect(st.v1.datasource).toBe("None");
    expect(st.v1.errors[0]!.source).toBe("datasource:NoCloud");
    expect(st.v1.errors[0]!.message).toMatch(/not UTF-8/);
    expect(exitCodeFor(bootState(st))).toBe(2);
  });

  it("reports a user-data YAML error with line and column and still runs the modules", async () => {
    const r = machine();
    seed(r, "iid-y", "#cloud-config\nruncmd:\n  - echo a\n bad-indent: [\n");
    const st = await boot(r);
    const e = st.v1.errors.find((x) => x.source === "user-data")!;
    expect(e.line).toBeGreaterThan(1);
    expect(e.col).toBeGreaterThan(0);
    expect(read(r, "/etc/hostname")).toBe("web1\n");
    expect(st.v1.done).toBe(true);
  });

  it("runs the stages one at a time from separate processes' state", async () => {
    const r = machine();
    seed(r, "iid-split", "#cloud-config\nwrite_files:\n  - path: /etc/split\n    content: s\n");
    await runStages(r.host(), ["local"]);
    let st = JSON.parse(read(r, "/run/sprout/status.json"));
    expect(st.v1.done).toBe(false);
    for (const s of ["network", "config", "final"] as const) st = await runStages(r.host(), [s]);
    expect(st.v1.done).toBe(true);
    expect(st.v1.datasource).toBe("NoCloud");
    expect(read(r, "/etc/split")).toBe("s");
    expect(Object.values(st.v1.stages).every((s: unknown) => (s as { end: string | null }).end !== null)).toBe(true);
  });
});
