// NoCloud boots in a real Debian chroot with Debian's own nodejs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChrootMachine, e2eUnavailable } from "./harness";

const why = e2eUnavailable();
if (why) console.warn(`skipping e2e: ${why}`);

describe.skipIf(why !== null)("e2e: NoCloud in a Debian chroot", () => {
  let m: ChrootMachine;
  beforeAll(() => {
    m = new ChrootMachine();
  }, 1_200_000);
  afterAll(() => m?.cleanup());

  const userData = `#cloud-config
hostname: e2e-host
write_files:
  - path: /etc/e2e/hello.conf
    content: |
      greeting=hello
    permissions: '0640'
runcmd:
  - echo "ran on $(hostname)" >> /var/tmp/runcmd.log
  - [sh, -c, "id -u > /var/tmp/runcmd-uid"]
`;

  it("runs the bundle on Debian's nodejs", () => {
    const v = m.run(["node", "--version"]);
    expect(v.stdout).toMatch(/^v18\./);
    expect(m.run(["sprout", "--version"]).stdout).toMatch(/^sprout \d/);
  });

  it("first boot: sets the hostname, writes files, runs commands, reports success", () => {
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-e2e-1\nlocal-hostname: from-meta\n");
    m.write("/var/lib/cloud/seed/nocloud/user-data", userData);
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/etc/hostname")).toBe("e2e-host\n");
    expect(m.lastHostname()).toBe("e2e-host");
    // A short hostname alone: its FQDN is the cloud's (meta-data local-hostname), as in cloud-init.
    expect(m.read("/etc/hosts")).toMatch(/^127\.0\.1\.1 from-meta e2e-host$/m);
    expect(m.read("/etc/e2e/hello.conf")).toBe("greeting=hello\n");
    expect(m.read("/var/tmp/runcmd.log")).toBe("ran on e2e-host\n");
    expect(m.read("/var/tmp/runcmd-uid")).toBe("0\n");
    expect(m.read("/var/log/user_data.log")).toMatch(/--- sprout: BEGIN runcmd stage=final instance=iid-e2e-1 at .*\n[\s\S]*--- sprout: END runcmd exit=0/);
    expect(JSON.parse(m.read("/run/sprout/result.json")).v1.status).toBe("done");
    const s = m.after(["sprout", "status"]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/status: done/);
    expect(m.after(["sprout", "query", "v1.local_hostname"]).stdout).toBe("from-meta\n");
  });

  it("second boot, same instance: per-instance modules do not run again", () => {
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/var/tmp/runcmd.log")).toBe("ran on e2e-host\n");
    const st = JSON.parse(m.read("/run/sprout/status.json"));
    expect(st.v1.stages.final.modules.find((x: { id: string }) => x.id === "runcmd").status).toBe("not-due");
  });

  it("a new instance-id is a first boot again", () => {
    m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-e2e-2\n");
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/var/tmp/runcmd.log")).toBe("ran on e2e-host\nran on e2e-host\n");
    expect(m.read("/var/lib/sprout/data/previous-instance-id")).toBe("iid-e2e-1\n");
  });

  it("a seed named on the kernel command line (ds=nocloud;s=file://...)", () => {
    m.run(["sprout", "clean", "--seed"]);
    m.write("/srv/seed/meta-data", "instance-id: iid-cmdline\n");
    m.write("/srv/seed/user-data", "#cloud-config\nruncmd:\n  - touch /var/tmp/from-cmdline-seed\n");
    m.cmdline = "root=/dev/vda1 ro ds=nocloud;s=file:///srv/seed/;h=cmdline-host";
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.exists("/var/tmp/from-cmdline-seed")).toBe(true);
    expect(m.read("/etc/hostname")).toBe("cmdline-host\n");
    expect(JSON.parse(m.read("/run/sprout/instance-data.json")).v1.instance_id).toBe("iid-cmdline");
  });
});
