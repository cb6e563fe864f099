import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { packageUpdateUpgradeInstall } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

const APT = ["apt-get", "--option=Dpkg::Options::=--force-confold", "--option=Dpkg::options::=--force-unsafe-io", "--assume-yes", "--quiet"];

// apt-get never runs on the test machine: the Runner records the argv.
describe("package_update_upgrade_install", () => {
  const [ex1, ex2] = docExamples("cc_package_update_upgrade_install");
  it("module-docs example1: update, dist-upgrade, install (chrooted into the target), snaps reported", async () => {
    root = tempRoot();
    const rec = recordingHost(root.host());
    const res = await packageUpdateUpgradeInstall.run(ex1!.config, moduleContext(root, { host: rec.host }));
    expect(res.errors).toEqual([]);
    const pre = ["chroot", root.dir, ...APT];
    expect(rec.runs.map((r) => r.argv)).toEqual([
      [...pre, "update"],
      [...pre, "dist-upgrade"],
      [...pre, "install", "pwgen", "pastebinit", "libpython3.8=3.8.10-0ubuntu1~20.04.2", "mg"],
    ]);
    expect(rec.runs.every((r) => r.opts.env?.DEBIAN_FRONTEND === "noninteractive")).toBe(true);
    expect(res.detail).toMatch(/not supported, skipped: snap:/);
  });
  it("module-docs example2: update and upgrade only", async () => {
    root = tempRoot();
    const rec = recordingHost(root.host());
    await packageUpdateUpgradeInstall.run(ex2!.config, moduleContext(root, { host: rec.host }));
    expect(rec.runs.map((r) => r.argv.slice(-1)[0])).toEqual(["update", "dist-upgrade"]);
  });
  it("accepts cloud-init's deprecated apt_update / apt_upgrade", async () => {
    root = tempRoot();
    const rec = recordingHost(root.host());
    await packageUpdateUpgradeInstall.run({ apt_update: true, apt_upgrade: true }, moduleContext(root, { host: rec.host }));
    expect(rec.runs.map((r) => r.argv.slice(-1)[0])).toEqual(["update", "dist-upgrade"]);
  });
  it("waits a bounded number of times for the dpkg lock", async () => {
    root = tempRoot();
    let calls = 0;
    const locked = { code: 100, stderr: Buffer.from("E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)\n") };
    const rec = recordingHost(root.host(), { run: () => (++calls <= 2 ? locked : {}) });
    const ok = await packageUpdateUpgradeInstall.run({ packages: ["jq"] }, moduleContext(root, { host: rec.host }));
    expect(ok.errors).toEqual([]);
    expect(rec.runs).toHaveLength(4); // update twice locked, update, install
    const stuck = recordingHost(root.host(), { run: () => locked });
    const res = await packageUpdateUpgradeInstall.run({ package_update: true }, moduleContext(root, { host: stuck.host }));
    expect(stuck.runs).toHaveLength(10);
    expect(res.errors![0]).toMatch(/apt-get update failed: the dpkg lock was still held after 10 attempts/);
  });
  it("a failing install is reported with apt's words", async () => {
    root = tempRoot();
    const rec = recordingHost(root.host(), { run: (argv) => (argv.includes("install") ? { code: 100, stderr: Buffer.from("E: Unable to locate package nosuch\n") } : {}) });
    const res = await packageUpdateUpgradeInstall.run({ packages: ["nosuch"] }, moduleContext(root, { host: rec.host }));
    expect(res.errors).toEqual(["apt-get install nosuch failed: E: Unable to locate package nosuch"]);
  });
});
