// Boot modules in the Debian chroot: early remote syslog to a real rsyslogd on
// 127.0.0.1, the rsyslog drop-in checked by the chroot's own rsyslogd, and the
// grub fallback kernel links, menu.lst stanza and grubenv handling.
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rsyslogd, rsyslogdUnavailable } from "../helpers/rsyslogd";
import { ChrootMachine, e2eUnavailable } from "./harness";

const why = e2eUnavailable() ?? rsyslogdUnavailable();
const REPO = resolve(__dirname, "../..");
const RELEASE = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();

describe.skipIf(why !== null)("e2e: boot modules in a Debian chroot", () => {
  let syslog: Rsyslogd;
  let m: ChrootMachine;
  beforeAll(async () => {
    syslog = new Rsyslogd();
    await syslog.start();
    m = new ChrootMachine();
  }, 1_200_000);
  afterAll(async () => {
    await syslog?.stop();
    m?.cleanup();
  });

  it("sends the boot to a remote syslog from the local stage on, and writes an rsyslog drop-in rsyslogd accepts", async () => {
    m.cmdline = `root=/dev/vda1 ro sprout.syslog=udp://127.0.0.1:${syslog.udpPort}`;
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-syslog\nlocal-hostname: loghost\n");
    m.write(
      "/var/lib/cloud/seed/nocloud/user-data",
      `#cloud-config
rsyslog:
  service_reload_command: [sh, -c, "echo reload >> /var/tmp/rsyslog-reloads"]
  configs:
    - "*.* @@127.0.0.1:${syslog.tcpPort}"
    - filename: 30-app.conf
      content: "local3.* /var/log/app.log"
  remotes:
    central: "*.info @[fd00::1]:514"
`,
    );
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    const msgs = await syslog.waitFor((all) => all.some((x) => x.msg.includes("stage final finished")));
    const text = msgs.map((x) => `${x.host}|${x.app}|${x.msg}`).join("\n");
    expect(text).toMatch(/stage local starting/);
    expect(text).toMatch(/stage final finished/);
    expect(msgs.findIndex((x) => x.msg.includes("stage local starting"))).toBeLessThan(msgs.findIndex((x) => x.msg.includes("stage final finished")));
    expect(text).toMatch(/iid-syslog/);
    const dropIn = m.read("/etc/rsyslog.d/20-cloud-config.conf");
    expect(dropIn).toContain(`*.* @@127.0.0.1:${syslog.tcpPort}`);
    expect(dropIn).toMatch(/\*\.info @\[fd00::1\]:514/);
    expect(m.read("/etc/rsyslog.d/30-app.conf")).toContain("local3.* /var/log/app.log");
    expect(m.read("/var/tmp/rsyslog-reloads")).toBe("reload\n");
    const check = m.run(["rsyslogd", "-N1", "-f", "/etc/rsyslog.conf"]);
    expect(check.code, check.stderr + check.stdout).toBe(0);
  });

  it("keeps the image's kernel as a fallback and clears the pending mark at the end of a good boot", () => {
    m.write(`/boot/vmlinuz-${RELEASE}`, "fake kernel image\n");
    m.write(`/boot/initrd.img-${RELEASE}`, "fake initrd\n");
    m.write("/boot/grub/menu.lst", "# my own menu.lst\ndefault 0\ntimeout 3\n\ntitle My kernel\n  root (hd0)\n  kernel /boot/vmlinuz root=/dev/xvda1\n");
    const env = m.run(["sh", "-c", "grub-editenv /boot/grub/grubenv create && grub-editenv /boot/grub/grubenv set sprout_boot_pending=1"]);
    expect(env.code, env.stderr).toBe(0);
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-grub\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\n{}\n");
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    const link = statSync(`${m.upper}/boot/dist-kernel/vmlinuz`);
    expect(link.ino).toBe(statSync(`${m.upper}/boot/vmlinuz-${RELEASE}`).ino);
    expect(m.read("/boot/dist-kernel/initrd.img")).toBe("fake initrd\n");
    const menu = m.read("/boot/grub/menu.lst");
    expect(menu).toContain("# my own menu.lst\ndefault 0\ntimeout 3\n");
    expect(menu).toContain("title My kernel");
    expect(menu).toMatch(/### BEGIN sprout fallback kernel[\s\S]*\/boot\/dist-kernel\/vmlinuz[\s\S]*### END sprout fallback kernel ###/);
    const list = m.run(["grub-editenv", "/boot/grub/grubenv", "list"]);
    expect(list.stdout).not.toMatch(/sprout_boot_pending=1/);
    // A second boot changes nothing in menu.lst.
    expect(m.boot().code).toBe(0);
    expect(m.read("/boot/grub/menu.lst")).toBe(menu);
  });

  it("answers grub-pc's debconf questions where grub-pc is installed, through the chroot's own debconf", () => {
    // grub-pc marked installed by its BIOS boot image (the chroot has grub-common for grub-editenv, not grub-pc).
    m.write("/usr/lib/grub/i386-pc/boot.img", "stand-in\n");
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-grub-dpkg\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\ngrub_dpkg:\n  grub-pc/install_devices: /dev/disk/by-id/virtio-root\n");
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    const debconf = m.read("/var/cache/debconf/config.dat");
    expect(debconf).toMatch(/Name: grub-pc\/install_devices\nTemplate: grub-pc\/install_devices\nValue: \/dev\/disk\/by-id\/virtio-root\n/);
    expect(debconf).toMatch(/Name: grub-pc\/install_devices_empty\nTemplate: grub-pc\/install_devices_empty\nValue: false\n/);
  });

  it("the grub.d script makes a menu entry grub-script-check accepts; the kernel hook keeps the links", () => {
    m.write("/etc/grub.d/42_sprout_fallback", readFileSync(join(REPO, "packaging/grub/42_sprout_fallback")), 0o755);
    m.write("/etc/kernel/postrm.d/z50-sprout-dist-kernel", readFileSync(join(REPO, "packaging/kernel/z50-sprout-dist-kernel")), 0o755);
    const out = m.run(["sh", "-c", "GRUB_DEVICE=/dev/vda1 /etc/grub.d/42_sprout_fallback > /var/tmp/grub-entry && grub-script-check /var/tmp/grub-entry"]);
    expect(out.code, out.stderr).toBe(0);
    const entry = m.read("/var/tmp/grub-entry");
    expect(entry).toMatch(/menuentry .* --id sprout-fallback/);
    expect(entry).toContain("/boot/dist-kernel/vmlinuz root=/dev/vda1");
    expect(entry).toContain("save_env");
    // A kernel package removed: the fallback links stay.
    const rm = m.run(["sh", "-c", `rm /boot/vmlinuz-${RELEASE} && /etc/kernel/postrm.d/z50-sprout-dist-kernel ${RELEASE} /boot/vmlinuz-${RELEASE}; echo rc=$?`]);
    expect(rm.stdout).toMatch(/rc=0/);
    expect(m.read("/boot/dist-kernel/vmlinuz")).toBe("fake kernel image\n");
  });

  it("a dead syslog server neither slows the boot past its bound nor fails it", () => {
    m.cmdline = "root=/dev/vda1 ro sprout.syslog=tcp://127.0.0.1:9";
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-deadlog\n");
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/var/log/sprout.log")).toMatch(/syslog/i);
  });

  it("a rescue boot (rescue.env from the initramfs): instance data, a login message, `sprout rescue status`", () => {
    m.cmdline = "root=/dev/vda1 ro";
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-rescue\n");
    m.write("/.sprout-run/sprout/rescue.env", "RESCUE_FORMAT=1\nRESCUE_ACTIVE='1'\nRESCUE_REASON='pivot'\nRESCUE_DEVICE='/dev/vdb'\nRESCUE_LABEL='RESCUE'\nRESCUE_MESSAGE='booted the rescue volume /dev/vdb (label RESCUE)'\n");
    const b = m.run(["sprout", "boot"], { keepRun: true });
    expect([0, 2]).toContain(b.code);
    expect(m.after(["sprout", "query", "v1.rescue.active"]).stdout.trim()).toBe("true");
    expect(m.read("/run/motd.d/sprout-rescue")).toMatch(/sprout rescue done/);
    expect(m.after(["sprout", "rescue", "status"]).stdout).toMatch(/RESCUE/);
  });
});
