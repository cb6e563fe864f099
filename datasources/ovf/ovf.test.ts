import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCmdline } from "../../agent/cmdline";
import { DatasourceError } from "../../agent/errors";
import { instanceDataDocs } from "../../agent/instance-data";
import { buildIso } from "../../agent/iso9660/writer";
import type { DatasourceContext } from "../../agent/types";
import { datasourceConformance, type Machine } from "../../test/conformance/datasource";
import { tempRoot, withUnreadableDevice, type TempRoot } from "../../test/helpers/target";
import { ovf } from ".";
import { decodeUserData, parseOvfEnv } from "./parse";

const CORPUS = "/work/shared/corpus/cloud-init/ovf/ovf-env.xml";
const work = mkdtempSync(join(tmpdir(), "sprout-ovf-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Values go in as written (not escaped like `sprout seed`'s ovfEnvXml), so tests can put entities and references in them. */
function envXml(props: Record<string, string>): string {
  const p = Object.entries(props)
    .map(([k, v]) => `    <Property oe:key="${k}" oe:value="${v}"/>`)
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="vm">
  <PropertySection>
${p}
  </PropertySection>
</Environment>
`;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

function sproutIso(label: string, files: Record<string, string>): Buffer {
  return buildIso({ label, date: new Date(0), files: Object.entries(files).map(([name, data]) => ({ name, data: Buffer.from(data) })) });
}

function xorrisoIso(flags: string[], files: Record<string, string>, label: string): Buffer {
  const dir = mkdtempSync(join(work, "src-"));
  for (const [n, c] of Object.entries(files)) writeFileSync(join(dir, n), c);
  const out = join(dir, "..", `${Math.random().toString(36).slice(2)}.iso`);
  execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", label, ...flags, "-o", out, dir], { stdio: ["ignore", "ignore", "pipe"] });
  return readFileSync(out);
}

/** A CD drive as the kernel shows it: /sys/block/NAME/size and the node /dev/NAME (here a file holding the image). */
function cdrom(r: TempRoot, name: string, image: Buffer): void {
  r.write(`/sys/block/${name}/size`, `${Math.ceil(image.length / 512)}\n`);
  r.write(`/dev/${name}`, image);
}

const devices = (...paths: string[]) => ({ datasource: { OVF: { devices: paths } } });

const own: Machine[] = [
  {
    name: "seed file /var/lib/cloud/seed/ovf-env.xml",
    setup: (r) => {
      r.write("/var/lib/cloud/seed/ovf-env.xml", envXml({ "instance-id": "iid-seedfile", hostname: "h1", "user-data": b64("#cloud-config\n{}\n") }));
      return { instanceId: "iid-seedfile" };
    },
  },
  {
    name: "CD drive /dev/sr0 with an ISO made by sprout seed (label OVF ENV)",
    setup: (r) => {
      cdrom(r, "sr0", sproutIso("OVF ENV", { "ovf-env.xml": envXml({ "instance-id": "iid-sr0" }) }));
      return { instanceId: "iid-sr0" };
    },
  },
  {
    name: "CD drive /dev/sr1 with a Rock Ridge ISO made by xorriso, beside an empty drive sr0",
    setup: (r) => {
      r.write("/sys/block/sr0/size", "0\n");
      r.write("/sys/block/sda/size", "2048\n");
      cdrom(r, "sr1", xorrisoIso(["-R", "-J"], { "ovf-env.xml": envXml({ "instance-id": "iid-sr1" }) }, "OVF ENV"));
      return { instanceId: "iid-sr1" };
    },
  },
  {
    name: "plain ISO9660 (OVF_ENV.XML) on /dev/hdc",
    setup: (r) => {
      const dir = mkdtempSync(join(work, "plain-"));
      writeFileSync(join(dir, "ovf-env.xml"), envXml({ "instance-id": "iid-plain" }));
      const out = join(dir, "plain.iso");
      execFileSync("genisoimage", ["-quiet", "-V", "OVF-TRANSPORT", "-o", out, join(dir, "ovf-env.xml")], { stdio: ["ignore", "ignore", "pipe"] });
      cdrom(r, "hdc", readFileSync(out));
      return { instanceId: "iid-plain" };
    },
  },
  {
    name: "an image file named in datasource.OVF.devices",
    setup: (r) => {
      r.write("/var/lib/images/ovf.iso", sproutIso("OVF ENV", { "OVF_ENV.XML": envXml({ "instance-id": "iid-configured" }) }));
      return { instanceId: "iid-configured", config: devices("/var/lib/images/ovf.iso") };
    },
  },
  {
    name: "seedfrom a plain path (cloud-init reads it as file://)",
    setup: (r) => {
      r.write("/srv/seed/meta-data", "instance-id: iid-from-path\nlocal-hostname: seeded\n");
      r.write("/srv/seed/user-data", "#cloud-config\n{}\n");
      r.write("/var/lib/cloud/seed/ovf-env.xml", envXml({ seedfrom: "/srv/seed/" }));
      return { instanceId: "iid-from-path" };
    },
  },
  {
    name: "seedfrom file:// (meta-data and user-data from the seed)",
    setup: (r) => {
      r.write("/srv/seed/meta-data", "instance-id: iid-from-seed\nlocal-hostname: seeded\n");
      r.write("/srv/seed/user-data", "#cloud-config\n{}\n");
      r.write("/var/lib/cloud/seed/ovf-env.xml", envXml({ seedfrom: "file:///srv/seed/" }));
      return { instanceId: "iid-from-seed" };
    },
  },
];

const broken: Machine[] = [
  {
    name: "ovf-env.xml with a DOCTYPE and an external entity (XXE)",
    setup: (r) => {
      r.write("/etc/secret", "top secret\n");
      r.write("/var/lib/cloud/seed/ovf-env.xml", `<?xml version="1.0"?><!DOCTYPE Environment [<!ENTITY xxe SYSTEM "file:///etc/secret">]>\n${envXml({ hostname: "&xxe;" }).replace(/^<\?xml[^>]*>\n/, "")}`);
      return {};
    },
  },
  {
    name: "ovf-env.xml with a billion-laughs payload",
    setup: (r) => {
      const ents = ['<!ENTITY lol "lol">'];
      for (let i = 1; i < 10; i++) ents.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? "" : i - 1};`.repeat(10)}">`);
      r.write("/var/lib/cloud/seed/ovf-env.xml", `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${ents.join("\n")}\n]>\n<Environment><PropertySection><Property key="hostname" value="&lol9;"/></PropertySection></Environment>\n`);
      return {};
    },
  },
  {
    name: "XML that is not well-formed",
    setup: (r) => {
      r.write("/var/lib/cloud/seed/ovf-env.xml", envXml({ "instance-id": "x" }).replace("</PropertySection>", ""));
      return {};
    },
  },
  {
    name: "XML that is not an OVF environment",
    setup: (r) => {
      r.write("/var/lib/cloud/seed/ovf-env.xml", "<?xml version='1.0'?><Envelope/>");
      return {};
    },
  },
  {
    name: "user-data that is neither base64 nor text",
    setup: (r) => {
      r.write("/var/lib/cloud/seed/ovf-env.xml", envXml({ "instance-id": "x", "user-data": "#!/bin/sh&#x1b;[31m&#1;" }));
      return {};
    },
  },
  {
    name: "a named ISO device that is empty (no media)",
    setup: (r) => {
      r.write("/dev/sr7", "");
      return { config: devices("/dev/sr7") };
    },
  },
  {
    name: "a named ISO device that cannot be opened",
    setup: () => ({ config: devices("/dev/sr9") }),
  },
  {
    name: "a named device that is not an ISO",
    setup: (r) => {
      r.write("/var/lib/junk.img", Buffer.alloc(100 * 1024, 0x33));
      return { config: devices("/var/lib/junk.img") };
    },
  },
  {
    name: "an ISO labelled OVF ENV without ovf-env.xml",
    setup: (r) => {
      cdrom(r, "sr0", sproutIso("OVF ENV", { "readme.txt": "nothing here\n" }));
      return {};
    },
  },
  {
    name: "datasource.OVF.devices that is not a list of paths",
    setup: () => ({ config: { datasource: { OVF: { devices: "sr0" } } } }),
  },
];

datasourceConformance({ ds: ovf, own, broken });

function ctx(config: Record<string, unknown> = {}, stage: "local" | "network" = "local"): DatasourceContext {
  return { config, system: {}, cmdline: parseCmdline(""), stage, deadline: performance.now() + 5000 };
}

describe("parseOvfEnv", () => {
  it("reads the OVF environment from cloud-init's corpus", () => {
    const env = parseOvfEnv(readFileSync(CORPUS));
    expect(env.instanceId).toBe("i-abcdefg");
    expect(env.localHostname).toBe("ubuntuhost");
    expect(env.seedfrom).toBe("http://tinyurl.com/sm-");
    expect(env.publicKeys).toHaveLength(1);
    expect(env.publicKeys[0]).toMatch(/^ssh-rsa AAAAB3.* smoser@brickies$/);
    expect(env.userData?.toString()).toBe('#!/bin/sh\necho "hi world"\n');
    expect(env.password).toBe("passw0rd");
    expect(env.networkConfig).toEqual({ network: { version: 2, ethernets: { nics: { match: { name: "eth*" }, dhcp4: true } } } });
    expect(env.metaData).toMatchObject({ "instance-id": "i-abcdefg", "local-hostname": "ubuntuhost", seedfrom: "http://tinyurl.com/sm-" });
  });

  it("defaults the instance-id, prefers local-hostname over hostname, unescapes attribute values", () => {
    const env = parseOvfEnv(envXml({ hostname: "h", "local-hostname": "lh", "public-keys": "ssh-ed25519 AAAA a&amp;b&#10;ssh-rsa BBBB c" }));
    expect(env.instanceId).toBe("iid-dsovf");
    expect(env.localHostname).toBe("lh");
    expect(env.publicKeys).toEqual(["ssh-ed25519 AAAA a&b", "ssh-rsa BBBB c"]);
  });

  it("reads hostname as local-hostname: of the two, the one written later wins, as in cloud-init", () => {
    expect(parseOvfEnv(envXml({ "local-hostname": "lh", hostname: "h" })).localHostname).toBe("h");
    expect(parseOvfEnv(envXml({ "local-hostname": "lh", hostname: "h" })).metaData["local-hostname"]).toBe("h");
    expect(parseOvfEnv(envXml({ hostname: "h", "local-hostname": "lh" })).localHostname).toBe("lh");
    // An empty one written later is still the value cloud-init takes (then no hostname is set).
    expect(parseOvfEnv(envXml({ hostname: "h", "local-hostname": "" })).localHostname).toBeNull();
  });

  it("reads the first PropertySection only, as cloud-init does", () => {
    const xml = envXml({ "instance-id": "first", hostname: "h1" }).replace("</Environment>", `  <PropertySection>\n    <Property oe:key="hostname" oe:value="h2"/>\n    <Property oe:key="password" oe:value="p"/>\n  </PropertySection>\n</Environment>`);
    const env = parseOvfEnv(xml);
    expect(env.localHostname).toBe("h1");
    expect(env.password).toBeNull();
    expect(Object.keys(env.properties)).toEqual(["instance-id", "hostname"]);
  });

  it("takes user-data as base64, else as the text itself", () => {
    expect(decodeUserData(b64("#cloud-config\nhostname: a\n")).toString()).toBe("#cloud-config\nhostname: a\n");
    expect(decodeUserData("#cloud-config\nhostname: a").toString()).toBe("#cloud-config\nhostname: a");
    // "test" is valid base64 but decodes to binary noise: it means the word.
    expect(decodeUserData("test").toString()).toBe("test");
    const gz = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeUserData(gz.toString("base64")).equals(gz)).toBe(true);
  });

  it("refuses a DOCTYPE before parsing: nothing read, nothing expanded", () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "${"x".repeat(1000)}"><!ENTITY b "${"&a;".repeat(1000)}">]><Environment><PropertySection><Property key="hostname" value="&b;"/></PropertySection></Environment>`;
    expect(() => parseOvfEnv(bomb)).toThrow(/DOCTYPE/);
    // A DOCTYPE inside a comment is not one.
    expect(parseOvfEnv(envXml({ "instance-id": "ok" }).replace("<Environment", "<!-- <!DOCTYPE x> -->\n<Environment")).instanceId).toBe("ok");
  });

  it("names the line and column of malformed XML", () => {
    let err: unknown;
    try {
      parseOvfEnv('<?xml version="1.0"?>\n<Environment>\n  <PropertySection>\n    <Property key="a" value="b">\n</Environment>\n', "/dev/sr0");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as DatasourceError).message).toMatch(/\/dev\/sr0: not well-formed XML at line \d+/);
  });

  it("refuses an environment that is not UTF-8 or too large", () => {
    expect(() => parseOvfEnv(Buffer.from([0x3c, 0xff, 0xfe]))).toThrow(/UTF-8/);
    expect(() => parseOvfEnv(Buffer.alloc(5 * 1024 * 1024, 0x20))).toThrow(/more than/);
  });
});

describe("OVF datasource", () => {
  it("hashes the password for the default user and keeps it out of the redacted instance data", async () => {
    const r = tempRoot({ "/var/lib/cloud/seed/ovf-env.xml": readFileSync(CORPUS, "utf8").replace('oe:value="http://tinyurl.com/sm-"', 'oe:value=""') });
    try {
      const data = await ovf.fetch(r.host(), ctx());
      const du = data.extraDs!.default_user as { hashed_passwd: string };
      expect(du.hashed_passwd).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
      expect(JSON.stringify(data)).not.toContain("passw0rd");
      const { redacted } = instanceDataDocs(data, "OVF");
      expect(JSON.stringify(redacted)).not.toContain(du.hashed_passwd);
      expect(data.userData?.toString()).toBe('#!/bin/sh\necho "hi world"\n');
      expect(data.networkConfig).toMatchObject({ network: { version: 2 } });
      expect(data.localHostname).toBe("ubuntuhost");
      expect(data.subplatform).toBe("seed-file (/var/lib/cloud/seed/ovf-env.xml)");
    } finally {
      r.cleanup();
    }
  });

  it("ignores a network-config property it cannot read (not base64, not YAML) and uses the rest, with a warning, as cloud-init", async () => {
    const notYaml = Buffer.from("version: 2\nethernets: [\n").toString("base64");
    for (const [value, why] of [["version: 2", /the network-config property is not base64; it is ignored .*: encode network-config with `base64 -w0/], [notYaml, /network-config: YAML error at line \d+: .*; it is ignored .*: fix the YAML of network-config/]] as const) {
      const r = tempRoot({ "/var/lib/cloud/seed/ovf-env.xml": envXml({ "instance-id": "iid-netcfg", hostname: "still-named", "network-config": value }) });
      try {
        const data = await ovf.fetch(r.host(), ctx());
        expect(data).toMatchObject({ instanceId: "iid-netcfg", localHostname: "still-named", networkConfig: null });
        expect(data.warnings).toEqual([expect.stringMatching(why)]);
      } finally {
        r.cleanup();
      }
    }
  });

  it("defers an http seedfrom to the network stage, then reads it (cloud-init appends the name to the prefix)", async () => {
    const http = await import("node:http");
    const server = http.createServer((req, res) => {
      const files: Record<string, string> = { "/sm-meta-data": "instance-id: iid-http\nlocal-hostname: fromseed\n", "/sm-user-data": "#cloud-config\nruncmd: [true]\n", "/sm-network-config": "version: 2\nethernets: [\n" };
      const body = files[req.url ?? ""];
      // vendor-data as S3 answers a key that does not exist.
      res.writeHead(req.url === "/sm-vendor-data" ? 403 : body === undefined ? 404 : 200);
      res.end(body ?? "");
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    const r = tempRoot({ "/var/lib/cloud/seed/ovf-env.xml": envXml({ hostname: "ovfname", seedfrom: `http://127.0.0.1:${port}/sm-` }) });
    try {
      const h = r.host();
      const err = await ovf.fetch(h, ctx()).catch((e: unknown) => e);
      expect((err as Error).constructor.name).toBe("NeedNetworkError");
      const data = await ovf.fetch(h, ctx({}, "network"));
      expect(data.instanceId).toBe("iid-http");
      expect(data.localHostname).toBe("ovfname"); // the OVF property wins
      expect(data.userData?.toString()).toBe("#cloud-config\nruncmd: [true]\n");
      // The seed's extras that cannot be used are warnings, not a refused seed.
      expect(data.networkConfig).toBeNull();
      expect(data.warnings).toEqual([
        `seed file http://127.0.0.1:${port}/sm-vendor-data answered HTTP 403; the seed is used without its vendor-data`,
        expect.stringMatching(/^network-config from http:\/\/127\.0\.0\.1:\d+\/sm-: YAML error at line \d+: .*; it is ignored/),
      ]);
    } finally {
      server.close();
      r.cleanup();
    }
  });

  it("reads VMware guestinfo through vmware-rpctool when it is installed", async () => {
    const bin = mkdtempSync(join(work, "bin-"));
    mkdirSync(bin, { recursive: true });
    const xml = envXml({ "instance-id": "iid-guestinfo" });
    writeFileSync(join(bin, "vmware-rpctool"), `#!/bin/sh\n[ "$1" = "info-get guestinfo.ovfEnv" ] || exit 1\ncat <<'EOF'\n${xml}EOF\n`);
    chmodSync(join(bin, "vmware-rpctool"), 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    const r = tempRoot();
    try {
      const h = r.host();
      expect(await ovf.detect(h, ctx())).toEqual({ reason: "OVF environment in guestinfo (guestinfo.ovfEnv)" });
      expect((await ovf.fetch(h, ctx())).instanceId).toBe("iid-guestinfo");
    } finally {
      process.env.PATH = oldPath;
      r.cleanup();
    }
  });

  it("passes password RANDOM on as a request for a random password, never as a password", async () => {
    const r = tempRoot({ "/var/lib/cloud/seed/ovf-env.xml": envXml({ "instance-id": "iid-r", password: "RANDOM" }) });
    try {
      const data = await ovf.fetch(r.host(), ctx());
      expect(data.extraDs!.default_user).toEqual({ random_passwd: true });
      expect(data.sensitivePaths).toContain("default_user");
    } finally {
      r.cleanup();
    }
  });

  it("the seed file wins over a CD drive", async () => {
    const r = tempRoot({ "/var/lib/cloud/seed/ovf-env.xml": envXml({ "instance-id": "iid-file" }) });
    cdrom(r, "sr0", sproutIso("OVF ENV", { "ovf-env.xml": envXml({ "instance-id": "iid-cd" }) }));
    try {
      expect((await ovf.fetch(r.host(), ctx())).instanceId).toBe("iid-file");
    } finally {
      r.cleanup();
    }
  });

  it("skips a CD drive the kernel cannot read (EIO: qemu's empty drive) and finds the environment on the next; a named one is reported", async () => {
    const r = tempRoot();
    cdrom(r, "sr0", Buffer.alloc(64 * 1024));
    cdrom(r, "sr1", sproutIso("OVF ENV", { "ovf-env.xml": envXml({ "instance-id": "iid-sr1" }) }));
    // A fresh host for each: a datasource looks once per boot (per host).
    const host = () => {
      const h = r.host();
      return { ...h, root: withUnreadableDevice(h.root, "/dev/sr0") };
    };
    try {
      expect((await ovf.fetch(host(), ctx())).instanceId).toBe("iid-sr1");
      r.write("/sys/block/sr1/size", "0\n");
      await expect(ovf.fetch(host(), ctx({ devices: ["/dev/sr0"] }))).rejects.toThrow(/cannot read the ISO \/dev\/sr0: .*EIO: i\/o error, read/);
    } finally {
      r.cleanup();
    }
  });

  it("ignores CD drives that hold other ISOs", async () => {
    const r = tempRoot();
    cdrom(r, "sr0", sproutIso("cidata", { "meta-data": "instance-id: x\n" }));
    cdrom(r, "sr1", Buffer.alloc(64 * 1024));
    try {
      expect(await ovf.detect(r.host(), ctx())).toBeNull();
    } finally {
      r.cleanup();
    }
  });
});
