// scripts/panic/sprout-dropbear run with sh against a fake initramfs.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeInitramfs, PANIC } from "./fake.js";

let t: FakeInitramfs;
afterEach(() => t?.cleanup());

// Stands in for initramfs-tools' functions: configure_networking leaves the
// file ipconfig would, and the log helpers print as the real ones do.
const FUNCTIONS = `
log_success_msg() { printf 'Success: %s\\n' "$*"; }
log_warning_msg() { printf 'Warning: %s\\n' "$*"; }
configure_networking() {
	echo "configure_networking IP=$IP" >>"$CALLS"
	printf "IPV4ADDR='10.0.2.15'\\n" >"$SPROUT_ROOT/run/net-eth0.conf"
}
`;

// dropbear forks into the background and leaves its pid file, as the real one.
const DROPBEAR = `#!/bin/sh
echo "dropbear $*" >>"$CALLS"
while [ $# -gt 0 ]; do [ "$1" = -P ] && echo 4242 >"$2"; shift; done
`;

function setup(opts: { cmdline?: string; conf?: string; dropbear?: boolean } = {}) {
  t = new FakeInitramfs({ cmdline: opts.cmdline ?? "root=LABEL=cloudimg-rootfs console=ttyS0" });
  t.file("scripts/functions", FUNCTIONS);
  if (opts.conf !== undefined) t.file("etc/sprout/rescue.conf", opts.conf);
  if (opts.dropbear !== false) t.stub("dropbear", DROPBEAR);
  t.file("etc/sprout/initramfs/authorized_keys", "ssh-ed25519 AAAAC3Nza test@example\n");
  t.file("etc/dropbear/dropbear_ed25519_host_key", "k1");
  t.file("etc/dropbear/dropbear_rsa_host_key", "k2");
  t.file("proc/mounts", "rootfs / rootfs rw 0 0\n");
  return t;
}

// The server starts behind the console shell; wait (bounded) for its result.
async function settled(what: RegExp): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const calls = t.callLog();
    if (calls.some((c) => what.test(c))) return calls;
    await new Promise((r) => setTimeout(r, 100));
  }
  return t.callLog();
}

describe("panic/sprout-dropbear", () => {
  it("does nothing by default (DROPBEAR=n, no kernel argument)", async () => {
    setup({ conf: "DROPBEAR=n\n" });
    const r = await t.run(PANIC);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(t.callLog()).toEqual([]);
    expect(existsSync(join(t.root, "run/sprout/initramfs-banner"))).toBe(false);
  });

  it("starts dropbear with keys only, no forwarding, after networking, with DROPBEAR=y", async () => {
    setup({ conf: "DROPBEAR=y\n" });
    const r = await t.run(PANIC, [], { IP: "" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Warning: sprout-dropbear: the root device (LABEL=cloudimg-rootfs) was not found; starting an ssh server (DROPBEAR=y in /etc/sprout/rescue.conf)");
    const calls = await settled(/^dropbear /);
    const net = calls.findIndex((c) => c.startsWith("configure_networking"));
    const db = calls.findIndex((c) => c.startsWith("dropbear"));
    expect(net).toBeGreaterThanOrEqual(0);
    expect(db).toBeGreaterThan(net);
    const keys = join(t.root, "etc/dropbear");
    expect(calls[db]).toBe(
      `dropbear -s -g -j -k -E -p 22 -P ${join(t.root, "run/sprout/dropbear.pid")} -r ${keys}/dropbear_ed25519_host_key -r ${keys}/dropbear_rsa_host_key`,
    );
    // root's home (from the hook's passwd) gets the keys, with modes dropbear accepts.
    const home = join(t.root, "run/sprout/dropbear-home");
    expect(readFileSync(join(home, ".ssh/authorized_keys"), "utf8")).toContain("ssh-ed25519 AAAAC3Nza");
    expect(statSync(join(home, ".ssh/authorized_keys")).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, ".ssh")).mode & 0o777).toBe(0o700);
    expect(statSync(home).mode & 0o777).toBe(0o700);
  });

  it("is turned on by sprout.dropbear=1 and uses DROPBEAR_PORT", async () => {
    setup({ cmdline: "root=/dev/vda1 sprout.dropbear=1", conf: "DROPBEAR=n\nDROPBEAR_PORT=2222\n" });
    const r = await t.run(PANIC);
    expect(r.stdout).toContain("(kernel argument sprout.dropbear=1)");
    const calls = await settled(/^dropbear /);
    expect(calls.find((c) => c.startsWith("dropbear"))).toMatch(/ -p 2222 /);
  });

  it("is turned off by sprout.dropbear=0 even with DROPBEAR=y", async () => {
    setup({ cmdline: "root=/dev/vda1 sprout.dropbear=0", conf: "DROPBEAR=y\n" });
    const r = await t.run(PANIC);
    expect(r.stdout).toBe("");
    expect(t.callLog()).toEqual([]);
  });

  it("says so when the initramfs has no dropbear", async () => {
    setup({ conf: "DROPBEAR=y\n", dropbear: false });
    const r = await t.run(PANIC);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Warning: sprout-dropbear: no dropbear in this initramfs");
  });

  it("starts one server only, however often initramfs-tools panics", async () => {
    setup({ conf: "DROPBEAR=y\n" });
    await t.run(PANIC);
    await settled(/^dropbear /);
    mkdirSync(join(t.root, "proc/4242"));
    const again = await t.run(PANIC);
    expect(again.stdout).not.toContain("starting an ssh server");
    await new Promise((r) => setTimeout(r, 300));
    expect(t.callLog().filter((c) => c.startsWith("dropbear"))).toHaveLength(1);
  });

  describe("the banner says what failed", () => {
    const banner = () => t.read("run/sprout/initramfs-banner");

    it("root device not found", async () => {
      setup({ conf: "DROPBEAR=y\n" });
      await t.run(PANIC);
      expect(banner()).toContain("What failed: the root device (LABEL=cloudimg-rootfs) was not found");
      expect(banner()).toContain("Kernel command line: root=LABEL=cloudimg-rootfs console=ttyS0");
      expect(banner()).toMatch(/mount it yourself on \/root[\s\S]*sprout-continue/);
    });

    it("root found but not mounted", async () => {
      setup({ conf: "DROPBEAR=y\n" });
      t.device({ name: "vda", label: "cloudimg-rootfs" });
      await t.run(PANIC, [], { ROOT: "/dev/vda" });
      expect(banner()).toContain("What failed: the root file system (/dev/vda) was found but did not mount");
    });

    it("fsck failed", async () => {
      setup({ conf: "DROPBEAR=y\n" });
      t.file("run/initramfs/fsck.log", "Log of fsck -C -a -T -t ext4 /dev/vda\n/dev/vda: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.\n");
      t.file("run/initramfs/fsck-root", "");
      await t.run(PANIC, [], { ROOT: "/dev/vda" });
      expect(banner()).toContain("failed its check; fsck said:");
      expect(banner()).toContain("UNEXPECTED INCONSISTENCY");
    });

    it("a break= on the kernel command line", async () => {
      setup({ cmdline: "root=/dev/vda break=premount sprout.dropbear=1" });
      await t.run(PANIC);
      expect(banner()).toContain("What failed: nothing: the boot was stopped on purpose by break=premount");
    });

    it("root mounted but no init", async () => {
      setup({ conf: "DROPBEAR=y\n" });
      t.file("proc/mounts", "rootfs / rootfs rw 0 0\n/dev/vda /root ext4 ro 0 0\n");
      await t.run(PANIC, [], { ROOT: "/dev/vda", rootmnt: "/root", init: "/sbin/init" });
      expect(banner()).toContain("is mounted on /root but cannot be started (no /sbin/init?)");
    });
  });

  describe("continue", () => {
    // A real process plays the emergency shell: fake /proc says it is "sh -i", child of init.
    function fakeProc(pid: number, ppid: number, cmdline: string) {
      t.file(`proc/${pid}/stat`, `${pid} (sh) S ${ppid} ${pid} ${pid} 0 -1 4194560\n`);
      t.file(`proc/${pid}/cmdline`, cmdline.split(" ").join("\0") + "\0");
    }

    it("ends the emergency shell (an interactive sh whose parent is init), and nothing else", async () => {
      setup();
      const shell = spawn("sleep", ["60"]);
      const other = spawn("sleep", ["60"]);
      try {
        fakeProc(shell.pid!, 1, "sh -i");
        fakeProc(other.pid!, 1, "/usr/lib/systemd/systemd-udevd --daemon");
        fakeProc(99999, 57, "sh -i");
        const gone = new Promise((r) => shell.on("exit", (_c, sig) => r(sig)));
        const r = await t.run(PANIC, ["continue"]);
        expect(r.stdout).toContain("sprout-continue: the boot goes on");
        expect(r.code).toBe(0);
        expect(await gone).toBe("SIGKILL");
        expect(other.exitCode).toBe(null);
        expect(other.signalCode).toBe(null);
      } finally {
        shell.kill("SIGKILL");
        other.kill("SIGKILL");
      }
    });

    it("fails with a message when there is no emergency shell", async () => {
      setup();
      writeFileSync(join(t.root, "proc/uptime"), "1.00 1.00\n");
      const r = await t.run(PANIC, ["continue"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("no emergency shell found");
    });
  });
});
