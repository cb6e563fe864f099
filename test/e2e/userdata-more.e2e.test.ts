// More of issue 4 in the Debian chroot: cloud-config-archive, include-once across
// boots, vendor-data under user-data (and switched off), cloud-config-url on the
// kernel line, timezone, /etc/hosts, sshd's password setting, phone_home, output,
// an existing user, and a script that cannot run.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eUnavailable, Machines, serveDir } from "./harness";

const why = e2eUnavailable();

describe.skipIf(why !== null)("e2e: more user-data and modules in a Debian chroot", () => {
  let server: { url: string; stop(): void };
  let base = "";
  let www = "";
  const machines = new Machines();
  const machine = () => machines.make();
  beforeAll(async () => {
    www = mkdtempSync(join(tmpdir(), "sprout-e2e-www-"));
    writeFileSync(join(www, "once.yaml"), "#cloud-config\nruncmd:\n  - echo once >> /var/tmp/include-once.log\n");
    writeFileSync(join(www, "url.cfg"), "#cloud-config\nfinal_message: from cloud-config-url\n");
    server = await serveDir(www);
    base = server.url;
  });
  afterAll(() => {
    server?.stop();
    machines.cleanup();
  });

  it("cloud-config-archive with an #include-once part, fetched once across two boots", () => {
    const m = machine();
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-archive\n");
    m.write(
      "/var/lib/cloud/seed/nocloud/user-data",
      `#cloud-config-archive
- type: text/cloud-config
  content: |
    #cloud-config
    write_files:
      - path: /etc/e2e/from-archive
        content: archived
- type: text/x-include-once-url
  content: ${base}/once.yaml
`,
    );
    expect(m.boot().code).toBe(0);
    expect(m.read("/etc/e2e/from-archive")).toBe("archived");
    expect(m.read("/var/tmp/include-once.log")).toBe("once\n");
    writeFileSync(join(www, "once.yaml"), "#cloud-config\nruncmd:\n  - echo changed >> /var/tmp/include-once.log\n");
    expect(m.boot().code).toBe(0);
    expect(m.read("/var/tmp/include-once.log")).toBe("once\n");
  });

  it("vendor-data is applied under user-data, and can be switched off", () => {
    const m = machine();
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-vendor\n");
    m.write("/var/lib/cloud/seed/nocloud/vendor-data", "#cloud-config\nwrite_files:\n  - path: /etc/e2e/vendor\n    content: vendor\nfinal_message: vendor says hi\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nfinal_message: user wins\n");
    expect(m.boot().code).toBe(0);
    expect(m.read("/etc/e2e/vendor")).toBe("vendor");
    expect(m.read("/var/log/sprout.log")).toContain("user wins");
    expect(m.read("/var/log/sprout.log")).not.toContain("vendor says hi");
    const m2 = machine();
    m2.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-novendor\n");
    m2.write("/var/lib/cloud/seed/nocloud/vendor-data", "#cloud-config\nwrite_files:\n  - path: /etc/e2e/vendor\n    content: vendor\n");
    m2.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\n{}\n");
    m2.write("/etc/sprout/config.d/50-no-vendor.yaml", "vendor_data: {enabled: false}\n");
    expect(m2.boot().code).toBe(0);
    expect(m2.exists("/etc/e2e/vendor")).toBe(false);
  });

  it("cloud-config-url on the kernel command line, timezone, /etc/hosts, sshd password setting, phone_home, output", () => {
    const m = machine();
    m.cmdline = `root=/dev/vda1 ro cloud-config-url=${base}/url.cfg`;
    m.write("/etc/ssh/sshd_config", "# sshd\nPasswordAuthentication yes\nUsePAM yes\n");
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-misc\nlocal-hostname: misc\n");
    m.write(
      "/var/lib/cloud/seed/nocloud/user-data",
      `#cloud-config
timezone: Europe/Paris
manage_etc_hosts: true
fqdn: misc.example.internal
ssh_pwauth: false
ssh_genkeytypes: [ed25519]
phone_home:
  url: ${base}/phone/$INSTANCE_ID
  post: [instance_id, hostname]
  tries: 2
output:
  all: "| tee -a /var/log/cloud-init-output.log"
`,
    );
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/etc/sprout/config.d/91_kernel_cmdline_url.cfg")).toContain("from cloud-config-url");
    expect(m.run(["stat", "-c", "%a", "/etc/sprout/config.d/91_kernel_cmdline_url.cfg"]).stdout.trim()).toBe("600");
    expect(m.run(["readlink", "/etc/localtime"]).stdout.trim()).toMatch(/Europe\/Paris$/);
    expect(m.read("/etc/timezone")).toBe("Europe/Paris\n");
    expect(m.read("/etc/hosts")).toMatch(/misc\.example\.internal/);
    expect(m.read("/etc/ssh/sshd_config")).toMatch(/^PasswordAuthentication no$/m);
    expect(m.exists("/etc/ssh/ssh_host_ed25519_key")).toBe(true);
    const posts = readFileSync(join(www, "posts.log"), "utf8");
    expect(posts).toMatch(/^\/phone\/iid-misc .*instance_id=iid-misc/m);
    expect(m.read("/var/log/cloud-init-output.log")).toMatch(/stage (network|final)/);
    expect(existsSync(join(www, "posts.log"))).toBe(true);
  });

  it("a user the image already has is updated; a per-boot script that cannot run is reported", () => {
    const m = machine();
    expect(m.run(["useradd", "--create-home", "--shell", "/bin/sh", "olduser"]).code).toBe(0);
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-exists\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nusers:\n  - name: olduser\n    shell: /bin/bash\n    groups: [adm]\n");
    m.write("/var/lib/sprout/scripts/per-boot/10-noexec", "#!/bin/sh\necho never\n", 0o644);
    const b = m.boot();
    expect(b.code).toBe(2);
    expect(m.read("/etc/passwd")).toMatch(/^olduser:.*:\/bin\/bash$/m);
    expect(m.read("/etc/group")).toMatch(/^adm:.*olduser/m);
    const s = m.after(["sprout", "status"]);
    expect(s.code).toBe(2);
    expect(s.stdout).toMatch(/10-noexec.*(not executable|permission)/i);
    expect(s.stdout).not.toMatch(/olduser/);
  });
});
