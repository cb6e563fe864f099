import { describe, expect, it } from "vitest";
import { parseCmdline } from "../../agent/cmdline";
import { DatasourceError } from "../../agent/errors";
import { datasourceConformance } from "../../test/conformance/datasource";
import { noCloud } from ".";
import { noCloudFromCmdline, parseMetaData, parseNoCloudSpec, seedFileUrl } from "./parse";

datasourceConformance({
  ds: noCloud,
  own: [
    {
      name: "seed directory nocloud",
      setup: (r) => {
        r.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-seed-1\nlocal-hostname: web1\npublic-keys:\n  - ssh-ed25519 AAAA k1\n");
        r.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nhostname: x\n");
        return { instanceId: "iid-seed-1" };
      },
    },
    {
      name: "seed directory nocloud-net, meta-data in JSON",
      setup: (r) => {
        r.write("/var/lib/cloud/seed/nocloud-net/meta-data", '{"instance-id": "iid-json", "local-hostname": "j"}');
        r.write("/var/lib/cloud/seed/nocloud-net/user-data", "");
        return { instanceId: "iid-json" };
      },
    },
    {
      name: "ds=nocloud;s=file:///... on the kernel command line",
      setup: (r) => {
        r.write("/srv/seed/meta-data", "instance-id: iid-file-seed\n");
        r.write("/srv/seed/user-data", "#cloud-config\n{}\n");
        return { instanceId: "iid-file-seed", cmdline: "root=/dev/vda1 ds=nocloud;s=file:///srv/seed/ ro" };
      },
    },
    {
      name: "ds=nocloud;i=...;h=... alone",
      setup: () => ({ instanceId: "iid-cmdline", cmdline: '"ds=nocloud;i=iid-cmdline;h=host1"' }),
    },
    {
      name: "datasource.NoCloud.seedfrom in the system config",
      setup: (r) => {
        r.write("/opt/seed/meta-data", "instance-id: iid-config-seed\n");
        return { instanceId: "iid-config-seed", config: { datasource: { NoCloud: { seedfrom: "file:///opt/seed/" } } } };
      },
    },
    {
      name: "ds=nocloud in the SMBIOS serial",
      setup: (r) => {
        r.write("/sys/class/dmi/id/product_serial", "ds=nocloud;i=iid-smbios\n");
        return { instanceId: "iid-smbios" };
      },
    },
  ],
  broken: [
    {
      name: "meta-data that is not UTF-8",
      setup: (r) => {
        r.write("/var/lib/cloud/seed/nocloud/meta-data", Buffer.from([0x69, 0x6e, 0xff, 0xfe, 0x0a]));
        return {};
      },
    },
    {
      name: "meta-data that is YAML but not a mapping",
      setup: (r) => {
        r.write("/var/lib/cloud/seed/nocloud/meta-data", "- just\n- a list\n");
        return {};
      },
    },
    {
      name: "meta-data with a YAML syntax error",
      setup: (r) => {
        r.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: [unclosed\n");
        return {};
      },
    },
    {
      name: "a seed file that is a directory",
      setup: (r) => {
        r.write("/var/lib/cloud/seed/nocloud/meta-data/oops", "x");
        r.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\n");
        return {};
      },
    },
    {
      name: "seedfrom with an unsupported scheme",
      setup: () => ({ cmdline: "ds=nocloud;s=ftp://127.0.0.1/seed/" }),
    },
    {
      name: "a file seed without meta-data",
      setup: () => ({ cmdline: "ds=nocloud;s=file:///nowhere/" }),
    },
  ],
});

describe("NoCloud parsing", () => {
  it("reads the short and long forms of ds=nocloud", () => {
    expect(parseNoCloudSpec("nocloud;s=http://127.0.0.1/x/;i=iid;h=web")).toEqual({ mode: "nocloud", seedfrom: "http://127.0.0.1/x/", instanceId: "iid", localHostname: "web" });
    expect(parseNoCloudSpec("nocloud-net;seedfrom=file:///s/;local-hostname=a;instance-id=b")).toEqual({ mode: "nocloud-net", seedfrom: "file:///s/", instanceId: "b", localHostname: "a" });
    expect(parseNoCloudSpec("ec2")).toBeNull();
  });

  it("accepts seedfrom= and local-hostname= as separate kernel arguments", () => {
    const c = noCloudFromCmdline(parseCmdline("seedfrom=file:///seed/ local-hostname=h1"), null);
    expect(c).toMatchObject({ seedfrom: "file:///seed/", localHostname: "h1" });
    expect(noCloudFromCmdline(parseCmdline("root=/dev/sda1 quiet"), null)).toBeNull();
  });

  it("builds seed file URLs with %s or a /", () => {
    expect(seedFileUrl("http://h/seed/", "meta-data")).toBe("http://h/seed/meta-data");
    expect(seedFileUrl("http://h/seed", "user-data")).toBe("http://h/seed/user-data");
    expect(seedFileUrl("http://h/get?f=%s", "meta-data")).toBe("http://h/get?f=meta-data");
  });

  it("names the line of a YAML error in meta-data", () => {
    let err: unknown;
    try {
      parseMetaData(Buffer.from("instance-id: a\nlocal-hostname: [x\n"), "/seed/meta-data");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as DatasourceError).location?.line).toBeGreaterThanOrEqual(2);
    expect(parseMetaData(Buffer.alloc(0), "x")).toEqual({});
  });

  it("lets kernel command line values win over the seed's", async () => {
    const { tempRoot } = await import("../../test/helpers/target");
    const r = tempRoot({ "/var/lib/cloud/seed/nocloud/meta-data": "instance-id: from-seed\nlocal-hostname: seedhost\n" });
    try {
      const data = await noCloud.fetch(r.host(), { config: {}, system: {}, cmdline: parseCmdline("ds=nocloud;h=cmdhost"), stage: "local", deadline: performance.now() + 1000 });
      expect(data.instanceId).toBe("from-seed");
      expect(data.localHostname).toBe("cmdhost");
    } finally {
      r.cleanup();
    }
  });
});
