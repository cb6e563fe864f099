// Seed ISOs in a real Debian chroot: an OVF environment ISO and a NoCloud cidata ISO,
// each made by `sprout seed` and by xorriso, named through datasource.*.devices (the
// chroot has no /sys/block of its own, so the drive scan has nothing to find there).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ovfEnvXml } from "../../agent/commands/seed";
import { sprout } from "../helpers/cli";
import { ChrootMachine, e2eUnavailable } from "./harness";

const why = e2eUnavailable() ?? (execFileSync("sh", ["-c", "command -v xorriso || true"], { encoding: "utf8" }).trim() ? null : "xorriso is not installed");
if (why) console.warn(`skipping e2e: ${why}`);

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eOvfE2eTestKeyOnlyForTheChroot e2e@sprout";
const userData = (tag: string) => `#cloud-config
write_files:
  - path: /etc/e2e/${tag}.conf
    content: seeded by ${tag}
runcmd:
  - echo "${tag} ran on $(hostname)" >> /var/tmp/${tag}.log
`;

describe.skipIf(why !== null)("e2e: seed ISOs (OVF and cidata) in a Debian chroot", () => {
  const work = mkdtempSync(join(tmpdir(), "sprout-e2e-iso-"));
  const file = (name: string, content: string) => {
    const p = join(work, name);
    writeFileSync(p, content);
    return p;
  };
  const xorriso = (label: string, files: Record<string, string>) => {
    const src = mkdtempSync(join(work, "src-"));
    for (const [n, c] of Object.entries(files)) writeFileSync(join(src, n), c);
    const out = join(work, `${label.replace(/\W/g, "")}-${Object.keys(files).length}.iso`);
    execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", label, "-J", "-R", "-o", out, src], { stdio: ["ignore", "ignore", "pipe"] });
    return readFileSync(out);
  };
  let m: ChrootMachine;
  beforeAll(() => {
    m = new ChrootMachine();
  }, 1_200_000);
  afterAll(() => {
    m?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  /** A fresh instance: forget the last one, put the ISO in and name it for the datasource. */
  function attach(ds: "OVF" | "NoCloud", iso: Buffer): void {
    m.run(["sprout", "clean", "--logs"]);
    m.write("/var/lib/sprout-test/seed.iso", iso);
    m.write("/etc/sprout/config.d/50-seed-iso.yaml", `datasource_list: [NoCloud, OVF, None]\ndatasource:\n  ${ds}:\n    devices: [/var/lib/sprout-test/seed.iso]\n`);
  }

  function expectBooted(ds: string, iid: string, hostname: string, tag: string): void {
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.lastHostname()).toBe(hostname); // the kernel's hostname as the boot left it
    const s = m.after(["sprout", "status"]);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(m.after(["sprout", "query", "v1.datasource"]).stdout).toBe(`${ds}\n`);
    expect(m.after(["sprout", "query", "v1.instance_id"]).stdout).toBe(`${iid}\n`);
    expect(m.read("/etc/hostname")).toBe(`${hostname}\n`);
    expect(m.read(`/etc/e2e/${tag}.conf`)).toBe(`seeded by ${tag}`);
    expect(m.read(`/var/tmp/${tag}.log`)).toBe(`${tag} ran on ${hostname}\n`);
    expect(m.read("/home/debian/.ssh/authorized_keys")).toContain(KEY);
  }

  it("boots from an OVF ISO made by `sprout seed ovf`", () => {
    const iso = join(work, "ovf.iso");
    const r = sprout(["seed", "ovf", "--user-data", file("ud-ovf", userData("ovf-sprout")), "--hostname", "ovf-host", "--instance-id", "iid-e2e-ovf", "--public-key", file("key.pub", `${KEY}\n`), "-o", iso]);
    expect(r.code, r.stderr).toBe(0);
    attach("OVF", readFileSync(iso));
    expectBooted("OVF", "iid-e2e-ovf", "ovf-host", "ovf-sprout");
  });

  it("boots from an OVF ISO made by xorriso (label OVF ENV)", () => {
    const env = ovfEnvXml({ "instance-id": "iid-e2e-ovf-x", hostname: "ovf-xorriso", "public-keys": KEY, "user-data": Buffer.from(userData("ovf-xorriso")).toString("base64") });
    attach("OVF", xorriso("OVF ENV", { "ovf-env.xml": env }));
    expectBooted("OVF", "iid-e2e-ovf-x", "ovf-xorriso", "ovf-xorriso");
  });

  it("boots from a cidata ISO made by `sprout seed nocloud`", () => {
    const iso = join(work, "seed.iso");
    const md = file("md", `instance-id: iid-e2e-cidata\nlocal-hostname: cidata-host\npublic-keys:\n  - ${KEY}\n`);
    const r = sprout(["seed", "nocloud", "--meta-data", md, "--user-data", file("ud-nc", userData("cidata-sprout")), "-o", iso]);
    expect(r.code, r.stderr).toBe(0);
    attach("NoCloud", readFileSync(iso));
    expectBooted("NoCloud", "iid-e2e-cidata", "cidata-host", "cidata-sprout");
  });

  it("boots from a cidata ISO made by xorriso", () => {
    attach("NoCloud", xorriso("cidata", { "meta-data": `instance-id: iid-e2e-cidata-x\nlocal-hostname: cidata-xorriso\npublic-keys:\n  - ${KEY}\n`, "user-data": userData("cidata-xorriso") }));
    expectBooted("NoCloud", "iid-e2e-cidata-x", "cidata-xorriso", "cidata-xorriso");
  });

  it("an empty named drive: the boot goes on, degraded, and says why", () => {
    m.run(["sprout", "clean", "--logs"]);
    m.write("/var/lib/sprout-test/empty.iso", "");
    m.write("/etc/sprout/config.d/50-seed-iso.yaml", "datasource_list: [OVF, None]\ndatasource:\n  OVF:\n    devices: [/var/lib/sprout-test/empty.iso]\n");
    const b = m.boot();
    expect(b.code).toBe(2);
    const s = m.after(["sprout", "status"]);
    expect(s.code).toBe(2);
    expect(s.stdout + s.stderr).toMatch(/empty \(a drive with no media\?\)/);
  });
});
