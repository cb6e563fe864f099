// User-data in cloud-init's formats, booted in the Debian chroot as a real machine would.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { e2eUnavailable, Machines, serveDir } from "./harness";

const why = e2eUnavailable();

function mime(parts: Array<{ type: string; filename: string; body: string }>): string {
  const b = "==sprout-e2e-boundary==";
  const out = [`Content-Type: multipart/mixed; boundary="${b}"`, "MIME-Version: 1.0", ""];
  for (const p of parts) out.push(`--${b}`, `Content-Type: ${p.type}; charset="us-ascii"`, "MIME-Version: 1.0", "Content-Transfer-Encoding: 7bit", `Content-Disposition: attachment; filename="${p.filename}"`, "", p.body);
  out.push(`--${b}--`, "");
  return out.join("\n");
}

describe.skipIf(why !== null)("e2e: user-data formats and modules in a Debian chroot", () => {
  let server: { url: string; stop(): void };
  let base = "";
  const machines = new Machines();
  const machine = () => machines.make();
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sprout-e2e-www-"));
    writeFileSync(join(dir, "included.yaml"), "#cloud-config\nwrite_files:\n  - path: /etc/e2e/included\n    content: from-include\n");
    server = await serveDir(dir);
    base = server.url;
  });
  afterAll(() => {
    server?.stop();
    machines.cleanup();
  });

  it("MIME multipart: cloud-config, shell script, boothook and an #include; users and keys", () => {
    const m = machine();
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-mime\nlocal-hostname: mimehost\npublic-keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e2e e2e@test\n");
    m.write(
      "/var/lib/cloud/seed/nocloud/user-data",
      mime([
        { type: "text/cloud-config", filename: "base.yaml", body: "#cloud-config\nusers:\n  - default\n  - name: alice\n    groups: [adm]\n    shell: /bin/bash\n    sudo: ALL=(ALL) NOPASSWD:ALL\n    ssh_authorized_keys: [ssh-ed25519 AAAAalice alice@laptop]\nbootcmd:\n  - echo bootcmd-ran >> /var/tmp/bootcmd.log\n" },
        { type: "text/x-shellscript", filename: "setup.sh", body: "#!/bin/sh\necho \"part script as $(id -un)\" > /var/tmp/part-script\necho from-script-stdout\n" },
        { type: "text/cloud-boothook", filename: "hook.sh", body: "#!/bin/sh\necho \"boothook $INSTANCE_ID\" >> /var/tmp/boothook.log\n" },
        { type: "text/x-include-url", filename: "inc.txt", body: `${base}/included.yaml\n${base}/missing.yaml\n` },
      ]),
    );
    const b = m.boot();
    expect(b.code, b.stderr).toBe(2); // the missing include is reported
    const st = JSON.parse(m.read("/run/sprout/status.json")).v1;
    expect(st.errors.map((e: { message: string }) => e.message).join("\n")).toMatch(/missing\.yaml.*404/);
    expect(m.read("/etc/e2e/included")).toBe("from-include");
    expect(m.read("/var/tmp/part-script")).toBe("part script as root\n");
    expect(m.read("/var/tmp/boothook.log")).toBe("boothook iid-mime\n");
    expect(m.read("/var/tmp/bootcmd.log")).toBe("bootcmd-ran\n");
    const passwd = m.read("/etc/passwd");
    expect(passwd).toMatch(/^debian:/m);
    expect(passwd).toMatch(/^alice:.*:\/bin\/bash$/m);
    expect(m.read("/home/debian/.ssh/authorized_keys")).toContain("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e2e e2e@test");
    expect(m.read("/home/alice/.ssh/authorized_keys")).toContain("AAAAalice");
    expect(m.read("/etc/sudoers.d/90-cloud-init-users")).toContain("alice ALL=(ALL) NOPASSWD:ALL");
    const log = m.read("/var/log/user_data.log");
    expect(log).toMatch(/--- sprout: BEGIN setup\.sh stage=final instance=iid-mime/);
    expect(log).toContain("from-script-stdout");
    // A second boot: boothooks and bootcmd run again, per-instance scripts do not.
    expect(m.boot().code).toBe(2);
    expect(m.read("/var/tmp/boothook.log")).toBe("boothook iid-mime\nboothook iid-mime\n");
    expect(m.read("/var/tmp/bootcmd.log")).toBe("bootcmd-ran\nbootcmd-ran\n");
    expect(m.read("/var/log/user_data.log").match(/BEGIN setup\.sh/g)).toHaveLength(1);
  });

  it("gzip-compressed user-data, a jinja template, and a YAML error reported with its line", () => {
    const m = machine();
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-gz\nlocal-hostname: gzhost\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", gzipSync("## template: jinja\n#cloud-config\nwrite_files:\n  - path: /etc/e2e/jinja\n    content: \"{{ v1.instance_id }} on {{ ds.meta_data.local_hostname }}\"\n"));
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/etc/e2e/jinja")).toBe("iid-gz on gzhost");
    expect(m.run(["stat", "-c", "%a", "/var/lib/sprout/instance/user-data.txt.i"]).stdout.trim()).toBe("600");

    const m2 = machine();
    m2.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-bad\n");
    m2.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nruncmd:\n  - echo a\n  bad: [\n");
    const b2 = m2.boot();
    expect(b2.code).toBe(2);
    const e = JSON.parse(m2.read("/run/sprout/status.json")).v1.errors.find((x: { source: string }) => x.source.startsWith("user-data"));
    expect(e.line).toBeGreaterThanOrEqual(3);
    expect(m2.after(["sprout", "status"]).stdout).toMatch(/YAML/);
  });

  it("scripts directories, deferred files and write_files owners", () => {
    const m = machine();
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-dirs\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nusers: [default]\nwrite_files:\n  - path: /home/debian/owned\n    content: mine\n    owner: debian:debian\n    defer: true\n");
    m.write("/var/lib/sprout/scripts/per-boot/10-hello", "#!/bin/sh\necho per-boot >> /var/tmp/per-boot.log\n", 0o755);
    expect(m.boot().code).toBe(0);
    expect(m.boot().code).toBe(0);
    expect(m.read("/var/tmp/per-boot.log")).toBe("per-boot\nper-boot\n");
    expect(m.read("/home/debian/owned")).toBe("mine");
    expect(m.run(["stat", "-c", "%U", "/home/debian/owned"]).stdout.trim()).toBe("debian");
  });
});
