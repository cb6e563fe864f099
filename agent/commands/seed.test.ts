// `sprout seed` through the bundle: ISOs read back by sprout's reader, isoinfo and xorriso,
// and booted from by `sprout boot` on a temp root (datasource.*.devices naming the image).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseOvfEnv } from "../../datasources/ovf/parse";
import { sprout } from "../../test/helpers/cli";
import { createHost } from "../host";
import { openIso } from "../iso9660";

const work = mkdtempSync(join(tmpdir(), "sprout-seedcmd-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const host = createHost({ root: "/", logFile: null });
const file = (name: string, content: string) => {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
};

const md = file("meta-data", "instance-id: iid-seedcmd\nlocal-hostname: kvm-guest\n");
const ud = file("user-data", "#cloud-config\nwrite_files:\n  - path: /etc/seeded\n    content: from the seed ISO\n");
const nc = file("network-config", "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n");
const key = file("key.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcs test@sprout\n");

describe("sprout seed nocloud", () => {
  const iso = join(work, "seed.iso");
  it("writes a cidata ISO that sprout, isoinfo and xorriso read", () => {
    const r = sprout(["seed", "nocloud", "--meta-data", md, "--user-data", ud, "--network-config", nc, "-o", iso]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const img = openIso(host.root.openBlock(iso));
    expect(img.label).toBe("cidata");
    expect(img.readFile("meta-data").toString()).toBe(readFileSync(md, "utf8"));
    expect(img.readFile("network-config").toString()).toBe(readFileSync(nc, "utf8"));
    expect(execFileSync("isoinfo", ["-d", "-i", iso], { encoding: "utf8" })).toMatch(/Volume id: cidata/);
    expect(execFileSync("isoinfo", ["-J", "-x", "/user-data", "-i", iso], { encoding: "utf8" })).toBe(readFileSync(ud, "utf8"));
    expect(execFileSync("xorriso", ["-indev", iso, "-ls", "/"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })).toMatch(/'meta-data'/);
  });

  it("is booted from by sprout (datasource.NoCloud.devices)", () => {
    const root = mkdtempSync(join(work, "root-"));
    mkdirSync(join(root, "etc/sprout"), { recursive: true });
    mkdirSync(join(root, "srv"), { recursive: true });
    writeFileSync(join(root, "srv/seed.iso"), readFileSync(iso));
    writeFileSync(join(root, "etc/sprout/config.yaml"), "datasource:\n  NoCloud:\n    devices: [/srv/seed.iso]\n");
    const r = sprout(["--root", root, "boot", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(root, "run/sprout/instance-data.json"), "utf8"));
    expect(data.v1).toMatchObject({ datasource: "NoCloud", instance_id: "iid-seedcmd", local_hostname: "kvm-guest", subplatform: "seed-device (/srv/seed.iso)" });
    expect(readFileSync(join(root, "etc/seeded"), "utf8")).toBe("from the seed ISO");
  });
});

describe("sprout seed ovf", () => {
  const iso = join(work, "ovf.iso");
  it("writes an OVF ENV ISO whose ovf-env.xml parses to the given properties", () => {
    const r = sprout(["seed", "ovf", "--user-data", ud, "--hostname", "ovf-guest", "--instance-id", "iid-ovf-cmd", "--public-key", key, "--seedfrom", "http://127.0.0.1:1/x/", "--password", "s3cret & <ok>", "-o", iso]);
    expect(r.code, r.stderr).toBe(0);
    const img = openIso(host.root.openBlock(iso));
    expect(img.label).toBe("OVF ENV");
    const env = parseOvfEnv(img.readFile("ovf-env.xml"));
    expect(env).toMatchObject({ instanceId: "iid-ovf-cmd", localHostname: "ovf-guest", seedfrom: "http://127.0.0.1:1/x/", password: "s3cret & <ok>" });
    expect(env.publicKeys).toEqual(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcs test@sprout"]);
    expect(env.userData?.toString()).toBe(readFileSync(ud, "utf8"));
    expect(execFileSync("isoinfo", ["-d", "-i", iso], { encoding: "utf8" })).toMatch(/Volume id: OVF ENV/);
    expect(execFileSync("isoinfo", ["-J", "-x", "/ovf-env.xml", "-i", iso], { encoding: "utf8" })).toMatch(/oe:key="hostname" oe:value="ovf-guest"/);
  });

  it("derives the instance-id from the content when none is given, and is reproducible with SOURCE_DATE_EPOCH", () => {
    const a = join(work, "a.iso");
    const b = join(work, "b.iso");
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    expect(sprout(["seed", "ovf", "--user-data", ud, "-o", a], { env }).code).toBe(0);
    expect(sprout(["seed", "ovf", "--user-data", ud, "-o", b], { env }).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const id = parseOvfEnv(openIso(host.root.openBlock(a)).readFile("ovf-env.xml")).instanceId;
    expect(id).toMatch(/^iid-ovf-[0-9a-f]{12}$/);
  });

  it("is booted from by sprout (datasource.OVF.devices): hostname, keys, user-data", () => {
    const root = mkdtempSync(join(work, "root-"));
    mkdirSync(join(root, "etc/sprout"), { recursive: true });
    mkdirSync(join(root, "srv"), { recursive: true });
    const noSeed = join(work, "ovf-noseed.iso");
    expect(sprout(["seed", "ovf", "--user-data", ud, "--hostname", "ovf-guest", "--public-key", key, "-o", noSeed]).code).toBe(0);
    writeFileSync(join(root, "srv/ovf.iso"), readFileSync(noSeed));
    writeFileSync(join(root, "etc/sprout/config.yaml"), "datasource:\n  OVF:\n    devices: [/srv/ovf.iso]\n");
    const r = sprout(["--root", root, "boot", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(root, "run/sprout/instance-data.json"), "utf8"));
    expect(data.v1).toMatchObject({ datasource: "OVF", platform: "ovf", local_hostname: "ovf-guest", public_ssh_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcs test@sprout"] });
    expect(readFileSync(join(root, "etc/seeded"), "utf8")).toBe("from the seed ISO");
  });
});

describe("sprout seed: bad input", () => {
  it("says what is missing or wrong", () => {
    const cases: [string[], number, RegExp][] = [
      [["seed"], 2, /nocloud.*ovf/],
      [["seed", "nocloud", "--user-data", ud, "-o", join(work, "x.iso")], 2, /--meta-data/],
      [["seed", "nocloud", "--meta-data", md, "--user-data", ud], 2, /-o FILE/],
      [["seed", "ovf", "--user-data", ud, "--meta-data", md, "-o", join(work, "x.iso")], 2, /for `sprout seed nocloud`/],
      [["seed", "ovf", "--user-data", ud, "--hostname", "bad name!", "-o", join(work, "x.iso")], 2, /not a host name/],
      [["seed", "nocloud", "--meta-data", join(work, "nope"), "--user-data", ud, "-o", join(work, "x.iso")], 1, /no such file/],
      [["seed", "nocloud", "--meta-data", work, "--user-data", ud, "-o", join(work, "x.iso")], 1, /not a regular file/],
      [["seed", "nocloud", "--meta-data", md, "--user-data", ud, "-o", join(md, "x.iso")], 1, /cannot write/],
    ];
    for (const [argv, code, msg] of cases) {
      const r = sprout(argv);
      expect(r.code, argv.join(" ")).toBe(code);
      expect(r.stderr, argv.join(" ")).toMatch(msg);
    }
  });
});
