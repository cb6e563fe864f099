// Boot modules in the Debian chroot: early remote syslog to a real rsyslogd on
// 127.0.0.1, the rsyslog drop-in checked by the chroot's own rsyslogd, and the
// grub fallback kernel links, menu.lst stanza and grubenv handling.
import { readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rsyslogd, rsyslogdUnavailable } from "../helpers/rsyslogd";
import { ChrootMachine, e2eUnavailable } from "./harness";

const why = e2eUnavailable() ?? rsyslogdUnavailable();
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
});
