// ssh into the initramfs when the root does not come up, booted for real.
// qemu's user networking is restricted (no way out of the guest) and only
// forwards a port on 127.0.0.1 to the guest's ssh server.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOOKS, type Kernel, bootedRoot, buildInitramfs, cannotBoot, ensureKernel, freePort, makeDisk, startVm, tempDir } from "./harness.js";

const run = promisify(execFile);
const why = cannotBoot();
if (why) console.warn(`skipping the dropbear boot tests: ${why}`);

describe.skipIf(why !== null)("dropbear in the initramfs under qemu", () => {
  let work = "";
  let kernel: Kernel;
  let initrd = "";
  let root = "";
  let clientKey = "";
  let hostPub = "";

  beforeAll(async () => {
    work = tempDir("dropbear");
    kernel = ensureKernel();
    clientKey = join(work, "client");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test-client", "-f", clientKey]);
    // The system's OpenSSH host key, which the hook converts: the client below
    // trusts only this key, so a login proves the fingerprints match.
    const hostKey = join(work, "ssh_host_ed25519_key");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    hostPub = readFileSync(`${hostKey}.pub`, "utf8").trim();
    // DROPBEAR=n as shipped: in the image, started only by sprout.dropbear=1.
    initrd = buildInitramfs(kernel, work, {
      modules: ["virtio_net"],
      systemFiles: {
        "etc/sprout/rescue.conf": readFileSync(join(HOOKS, "rescue.conf"), "utf8"),
        "etc/sprout/initramfs/authorized_keys": `# from the instance's meta-data\n${readFileSync(`${clientKey}.pub`, "utf8")}`,
        "etc/ssh/ssh_host_ed25519_key": readFileSync(hostKey, "utf8"),
      },
    });
    root = makeDisk(work, { id: "normal", label: "cloudimg-rootfs" });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const ssh = (port: number, args: string[], input?: string) => {
    const known = join(work, "known_hosts");
    writeFileSync(known, `[127.0.0.1]:${port} ${hostPub}\n`);
    const argv = [
      "-i", clientKey, "-p", String(port), "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes",
      "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR", ...args,
    ];
    return new Promise<{ code: number; out: string }>((ok) => {
      const child = execFile("ssh", argv, { timeout: 60_000 }, (err, stdout, stderr) =>
        ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
      child.stdin?.end(input ?? "");
    });
  };

  it("starts ssh when the root disk is missing (sprout.dropbear=1); the login runs commands and shows what failed", async () => {
    const port = await freePort();
    // No panic=: with it initramfs-tools reboots without running panic scripts.
    const vm = startVm({
      kernel, initrd, disks: [], sshPort: port, timeoutMs: 360_000, log: join(work, "missing.log"),
      append: "root=LABEL=cloudimg-rootfs sprout.dropbear=1",
    });
    try {
      // initramfs-tools waits 30 s for the root before it panics.
      await vm.waitFor(/sprout-dropbear: ssh server on port 22/, 300_000);
      const cmd = await ssh(port, ["root@127.0.0.1", "echo logged-in-as-$(id -un); cat /run/sprout/initramfs-banner"]);
      expect(cmd.out).toContain("logged-in-as-root");
      expect(cmd.out).toContain("What failed: the root device (LABEL=cloudimg-rootfs) was not found");
      expect(cmd.code).toBe(0);

      // An interactive login lands in a shell that shows the banner first.
      const shell = await ssh(port, ["-tt", "root@127.0.0.1"], "echo shell-$((6*7))\nexit\n");
      expect(shell.out).toMatch(/sprout: this instance's root file system did not come up[\s\S]*sprout-continue[\s\S]*shell-42/);

      await ssh(port, ["root@127.0.0.1", "poweroff -f"]);
      const end = await vm.exited;
      expect(end.killed).toBe(false);
    } finally {
      vm.kill();
    }
  });

  it("continues the boot after the root is mounted by hand over ssh", async () => {
    const port = await freePort();
    // A mount option ext4 refuses: the root is there but does not mount.
    const vm = startVm({
      kernel, initrd, disks: [root], sshPort: port, timeoutMs: 360_000, log: join(work, "nomount.log"),
      append: "root=LABEL=cloudimg-rootfs rootflags=sprout_no_such_option sprout.dropbear=1",
    });
    try {
      await vm.waitFor(/sprout-dropbear: ssh server on port 22/, 300_000);
      const banner = await ssh(port, ["root@127.0.0.1", "cat /run/sprout/initramfs-banner"]);
      expect(banner.out).toContain("What failed: the root file system (/dev/vda) was found but did not mount");
      const cont = await ssh(port, ["root@127.0.0.1", "mount -r /dev/vda /root && sprout-continue"]);
      expect(cont.out).toContain("the boot goes on");
      const end = await vm.exited;
      expect(end.killed).toBe(false);
      expect(bootedRoot(end.log), end.log).toBe("normal");
    } finally {
      vm.kill();
    }
  });

  it("stays off without DROPBEAR=y or sprout.dropbear=1", async () => {
    // panic=1 ends the boot at the first panic, before panic scripts would run,
    // so this boot has no panic=: the test waits for the emergency shell.
    const vm = startVm({
      kernel, initrd, disks: [root], timeoutMs: 300_000, log: join(work, "off.log"),
      append: "root=LABEL=cloudimg-rootfs rootflags=sprout_no_such_option",
    });
    try {
      const log = await vm.waitFor(/\(initramfs\)/, 240_000);
      expect(log).toMatch(/Failed to mount \/dev\/vda as root file system/);
      expect(log).not.toMatch(/sprout-dropbear/);
    } finally {
      vm.kill();
    }
  });

  it("keeps dropbear out of an image built with DROPBEAR=never", async () => {
    const never = tempDir("dropbear-never");
    try {
      const img = buildInitramfs(kernel, never, {
        systemFiles: {
          "etc/sprout/rescue.conf": "DROPBEAR=never\n",
          "etc/sprout/initramfs/authorized_keys": readFileSync(`${clientKey}.pub`, "utf8"),
        },
      });
      const { stdout } = await run("lsinitramfs", [img], { maxBuffer: 64 << 20 });
      expect(stdout).toMatch(/sbin\/blkid$/m);
      expect(stdout).not.toMatch(/sbin\/dropbear$/m);
      // The image with the default DROPBEAR=n has it, for sprout.dropbear=1.
      const { stdout: withIt } = await run("lsinitramfs", [initrd], { maxBuffer: 64 << 20 });
      expect(withIt).toMatch(/sbin\/dropbear$/m);
    } finally {
      rmSync(never, { recursive: true, force: true });
    }
  });
});
