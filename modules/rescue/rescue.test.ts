// Rescue mode on real loop devices labelled like the real ones: the rescue
// volume (RESCUE) is the target root's "/", the instance's own root
// (cloudimg-rootfs) is attached beside it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHost } from "../../agent/host";
import { sprout } from "../../test/helpers/cli";
import { loopUnavailable, Scratch, sh } from "../../test/helpers/loop";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { parseRescueEnv, rescueMessage } from "./state";
import { rescue, udevLinkName } from ".";

describe("rescue.env and the message (pure)", () => {
  it("reads the initramfs's shell lines, quotes and escapes included", () => {
    const env = parseRescueEnv("RESCUE_FORMAT=1\nRESCUE_ACTIVE='1'\nRESCUE_DEVICE='/dev/vdb'\nRESCUE_CANDIDATES='/dev/vdb /dev/vdc'\nRESCUE_MESSAGE='it'\\''s the rescue volume'\n# comment\nnot a line\n");
    expect(env).toEqual({ RESCUE_FORMAT: "1", RESCUE_ACTIVE: "1", RESCUE_DEVICE: "/dev/vdb", RESCUE_CANDIDATES: "/dev/vdb /dev/vdc", RESCUE_MESSAGE: "it's the rescue volume" });
  });

  it("says what happened and how to finish", () => {
    const msg = rescueMessage({ active: true, device: "/dev/vdb", label: "RESCUE", source: "rescue.env", reason: "pivot", done: false, target: { label: "cloudimg-rootfs", device: "/dev/vda1", mountPoint: "/mnt/rescue-target", mounted: true, problem: null } });
    expect(msg).toContain("booted from the rescue volume /dev/vdb (label RESCUE)");
    expect(msg).toContain("/dev/vda1 (label cloudimg-rootfs) is mounted read-only at /mnt/rescue-target");
    expect(msg).toContain("run `sprout rescue done`, then reboot. The next boot uses the normal root filesystem");
  });
});

const unavailable = loopUnavailable();
if (unavailable) console.warn(`rescue loop device tests skipped: ${unavailable}`);

let scratch: Scratch | null = null;
const roots: TempRoot[] = [];
afterEach(() => {
  scratch?.cleanup();
  scratch = null;
  roots.splice(0).forEach((r) => r.cleanup());
});

/** Labels already on this machine's devices (another test's disks): the tests must not pick those up. */
const labelTaken = (label: string) => spawnSync("blkid", ["-c", "/dev/null", "-t", `LABEL=${label}`, "-o", "device"], { encoding: "utf8" }).stdout.trim() !== "";

function rescueMachine(s: Scratch, rootLabel: string): { root: string; rescueDev: string; targetDev: string } {
  const rescueDisk = s.disk("rescue", 32);
  s.mkfs(rescueDisk.loop, "ext4", "RESCUE");
  const targetDisk = s.disk("target", 32, { kind: "gpt", parts: [null] });
  s.mkfs(targetDisk.parts[0]!, "ext4", rootLabel);
  const m = join(s.dir, "t");
  mkdirSync(m);
  s.mount(targetDisk.parts[0]!, m);
  writeFileSync(join(m, "broken.conf"), "the file to repair\n");
  s.umount(m);
  const root = join(s.dir, "root");
  mkdirSync(root);
  s.mount(rescueDisk.loop, root);
  mkdirSync(join(root, "proc/self"), { recursive: true });
  writeFileSync(join(root, "proc/self/mountinfo"), `1 0 ${Scratch.majMin(rescueDisk.loop)} / / rw,relatime - ext4 ${rescueDisk.loop} rw\n`);
  symlinkSync("/sys", join(root, "sys"));
  symlinkSync("/dev", join(root, "dev"));
  mkdirSync(join(root, "run/sprout"), { recursive: true });
  writeFileSync(join(root, "run/sprout/instance-data.json"), JSON.stringify({ v1: { instance_id: "iid-rescue" }, ds: {} }));
  s.track(join(root, "mnt/rescue-target"));
  return { root, rescueDev: rescueDisk.loop, targetDev: targetDisk.parts[0]! };
}

describe.skipIf(!!unavailable)("rescue mode on loop devices", () => {
  it("root labelled RESCUE (no rescue.env): records v1.rescue, mounts cloudimg-rootfs read-only, tells the person; `sprout rescue` status and done", async () => {
    const s = (scratch = new Scratch());
    const rootLabel = labelTaken("cloudimg-rootfs") ? `cloudimg-t${process.pid}` : "cloudimg-rootfs";
    if (rootLabel !== "cloudimg-rootfs") console.warn(`another device here is labelled cloudimg-rootfs: this test labels the target ${rootLabel}`);
    const m = rescueMachine(s, rootLabel);
    const h = createHost({ root: m.root, logFile: null });
    const res = await rescue.run({ rescue: { root_label: rootLabel } }, moduleContext(h, "local"));
    expect(res.errors).toEqual([]);
    expect(res).toMatchObject({ status: "changed" });
    const target = join(m.root, "mnt/rescue-target");
    expect(readFileSync(join(target, "broken.conf"), "utf8")).toBe("the file to repair\n");
    expect(() => writeFileSync(join(target, "x"), "x")).toThrow(/EROFS/);
    const v1 = { active: true, device: m.rescueDev, label: "RESCUE" };
    expect(JSON.parse(readFileSync(join(m.root, "run/sprout/instance-data.json"), "utf8")).v1).toEqual({ instance_id: "iid-rescue", rescue: v1 });
    expect(JSON.parse(readFileSync(join(m.root, "run/sprout/instance-data-v1.d/rescue.json"), "utf8"))).toEqual(v1);
    const motd = readFileSync(join(m.root, "run/motd.d/sprout-rescue"), "utf8");
    expect(motd).toContain(`booted from the rescue volume ${m.rescueDev} (label RESCUE)`);
    expect(motd).toContain(`${m.targetDev} (label ${rootLabel}) is mounted read-only at /mnt/rescue-target`);

    const status = sprout(["--root", m.root, "rescue", "status"]);
    expect(status).toMatchObject({ code: 0, stdout: motd });
    const done = sprout(["--root", m.root, "rescue", "done"]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/wrote \/DONE on the rescue volume .*\nReboot: the next boot uses the normal root filesystem/);
    s.umount(target);
    s.umount(m.root);
    const check = join(s.dir, "check");
    mkdirSync(check);
    s.mount(m.rescueDev, check, ["-o", "ro"]);
    expect(readFileSync(join(check, "DONE"), "utf8")).toMatch(/^rescue finished .* \(sprout rescue done\)\n$/);
  });

  it("where udev runs, /dev/disk/by-label answers for the root's label without running blkid", async () => {
    const s = (scratch = new Scratch());
    const m = rescueMachine(s, `other-${process.pid}`);
    // This machine has no udev: the root gets a /dev of its own with udev's link, and /run/udev/data.
    rmSync(join(m.root, "dev"));
    mkdirSync(join(m.root, "dev/disk/by-label"), { recursive: true });
    mkdirSync(join(m.root, "run/udev/data"), { recursive: true });
    const h = createHost({ root: m.root, logFile: null });
    const ran: string[][] = [];
    const run = h.run.run.bind(h.run);
    h.run.run = (argv, opts) => (ran.push(argv), run(argv, opts));
    // The link udev makes for the rescue volume, relative as udev writes it.
    symlinkSync(`../../${m.rescueDev.replace(/^\/dev\//, "")}`, join(m.root, "dev/disk/by-label/RESCUE"));
    const found = await rescue.run({ rescue: { mount: false } }, moduleContext(h, "local"));
    expect(found).toMatchObject({ status: "changed" });
    expect(JSON.parse(readFileSync(join(m.root, "run/sprout/instance-data-v1.d/rescue.json"), "utf8"))).toEqual({ active: true, device: m.rescueDev, label: "RESCUE" });
    // A link to another device, or none: not rescue mode, and still no blkid of the root.
    rmSync(join(m.root, "dev/disk/by-label/RESCUE"));
    symlinkSync("../../vdz9", join(m.root, "dev/disk/by-label/RESCUE"));
    expect(await rescue.run({}, moduleContext(h, "local"))).toMatchObject({ status: "skipped", detail: "not in rescue mode (root label)" });
    rmSync(join(m.root, "dev/disk/by-label/RESCUE"));
    expect(await rescue.run({}, moduleContext(h, "local"))).toMatchObject({ status: "skipped", detail: "not in rescue mode (root label)" });
    expect(ran.filter((a) => a[0] === "blkid" && a.includes("LABEL") && a.includes("value"))).toEqual([]);
  });

  it("rescue.env from the initramfs is believed; no original root attached is said plainly, not an error", async () => {
    const s = (scratch = new Scratch());
    const m = rescueMachine(s, `other-${process.pid}`);
    writeFileSync(join(m.root, "run/sprout/rescue.env"), `RESCUE_FORMAT=1\nRESCUE_ACTIVE='1'\nRESCUE_REASON='pivot'\nRESCUE_DEVICE='/dev/vdb'\nRESCUE_LABEL='FIXIT'\n`);
    const h = createHost({ root: m.root, logFile: null });
    const res = await rescue.run({ rescue: { root_label: `absent-${process.pid}` } }, moduleContext(h, "local"));
    expect(res).toMatchObject({ status: "changed", errors: [] });
    expect(JSON.parse(readFileSync(join(m.root, "run/sprout/instance-data-v1.d/rescue.json"), "utf8"))).toEqual({ active: true, device: "/dev/vdb", label: "FIXIT" });
    expect(readFileSync(join(m.root, "run/motd.d/sprout-rescue"), "utf8")).toMatch(new RegExp(`label absent-${process.pid}\\) is not mounted: no volume labelled absent-${process.pid} is attached`));
    expect(existsSync(join(m.root, "mnt/rescue-target/broken.conf"))).toBe(false);
  });

  it("a normal boot: RESCUE_ACTIVE=0 or a root without the rescue label records active: false and mounts nothing", async () => {
    const s = (scratch = new Scratch());
    const m = rescueMachine(s, `other-${process.pid}`);
    sh(["e2label", m.rescueDev, "cloudimg-rootfs"]);
    const h = createHost({ root: m.root, logFile: null });
    expect(await rescue.run({}, moduleContext(h, "local"))).toMatchObject({ status: "skipped", detail: "not in rescue mode (root label)" });
    expect(JSON.parse(readFileSync(join(m.root, "run/sprout/instance-data.json"), "utf8")).v1.rescue).toEqual({ active: false, device: null, label: null });
    writeFileSync(join(m.root, "run/sprout/rescue.env"), "RESCUE_ACTIVE='0'\nRESCUE_REASON='marker'\n");
    expect(await rescue.run({}, moduleContext(h, "local"))).toMatchObject({ status: "skipped", detail: "not in rescue mode (rescue.env: marker)" });
    expect(existsSync(join(m.root, "run/motd.d/sprout-rescue"))).toBe(false);
    expect(sprout(["--root", m.root, "rescue", "done"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/not in rescue mode, so there is nothing to finish/) });
  });

  it("the label in the initramfs's /etc/sprout/rescue.conf is the default label here too", async () => {
    const s = (scratch = new Scratch());
    const m = rescueMachine(s, `other-${process.pid}`);
    sh(["e2label", m.rescueDev, "FIXIT"]);
    mkdirSync(join(m.root, "etc/sprout"), { recursive: true });
    writeFileSync(join(m.root, "etc/sprout/rescue.conf"), "RESCUE=y\nRESCUE_LABEL=FIXIT\nRESCUE_WAIT=5\n");
    const h = createHost({ root: m.root, logFile: null });
    const res = await rescue.run({ rescue: { root_label: `absent-${process.pid}` } }, moduleContext(h, "local"));
    expect(res.status).toBe("changed");
    expect(JSON.parse(readFileSync(join(m.root, "run/sprout/instance-data-v1.d/rescue.json"), "utf8"))).toEqual({ active: true, device: m.rescueDev, label: "FIXIT" });
  });
});

describe("udev's by-label names (pure)", () => {
  it("escapes as udev does: a space and a slash as \\xNN, UTF-8 and #+-.:=@_ kept", () => {
    expect(udevLinkName("RESCUE")).toBe("RESCUE");
    expect(udevLinkName("UEC-rescue")).toBe("UEC-rescue");
    expect(udevLinkName("my disk/2")).toBe("my\\x20disk\\x2f2");
    expect(udevLinkName("déjà_vu#1+2.3:4=5@6")).toBe("déjà_vu#1+2.3:4=5@6");
  });
});

describe("sprout rescue without a boot record", () => {
  it("status says so and exits 1; a bad subcommand is a usage error", () => {
    const r = tempRoot();
    roots.push(r);
    expect(sprout(["--root", r.dir, "rescue", "status"])).toMatchObject({ code: 1, stdout: expect.stringMatching(/^not in rescue mode/) });
    expect(sprout(["--root", r.dir, "rescue", "finish"]).code).toBe(2);
  });
});

describe("rescue through the stage engine", () => {
  it("v1.rescue is in instance data after the boot, also when the datasource is found in the network stage, after the rescue module ran", async () => {
    const { runStages } = await import("../../agent/boot");
    const http = await import("node:http");
    const server = http.createServer((req, res) => res.end(req.url?.endsWith("meta-data") ? "instance-id: iid-engine\n" : req.url?.endsWith("user-data") ? "#cloud-config\n{}\n" : ""));
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    try {
      const r = tempRoot({
        "/proc/cmdline": `root=/dev/vda1 ro ds=nocloud;s=http://127.0.0.1:${port}/\n`,
        "/run/sprout/rescue.env": "RESCUE_FORMAT=1\nRESCUE_ACTIVE='1'\nRESCUE_DEVICE='/dev/vdb'\nRESCUE_LABEL='RESCUE'\n",
        "/etc/sprout/config.yaml": `datasource_list: [NoCloud]\nrescue: {root_label: absent-${process.pid}, mount: false}\n`,
      });
      roots.push(r);
      const st = await runStages(r.host(), ["local", "network", "config", "final"]);
      expect(st.v1.errors).toEqual([]);
      expect(st.v1.datasource).toBe("NoCloud");
      expect(st.v1.stages.local.modules.find((m) => m.id === "rescue")).toMatchObject({ status: "changed" });
      const v1 = { active: true, device: "/dev/vdb", label: "RESCUE" };
      expect(JSON.parse(readFileSync(join(r.dir, "run/sprout/instance-data.json"), "utf8")).v1).toMatchObject({ instance_id: "iid-engine", rescue: v1 });
      expect(JSON.parse(readFileSync(join(r.dir, "run/sprout/instance-data-sensitive.json"), "utf8")).v1.rescue).toEqual(v1);
      expect(sprout(["--root", r.dir, "query", "v1.rescue.active"])).toMatchObject({ code: 0, stdout: "true\n" });
    } finally {
      server.close();
    }
  });
});
