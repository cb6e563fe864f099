// EC2's meta-data network description -> version 2 network-config, as cloud-init 22.4.2's
// convert_ec2_metadata_network_config. The expected values below are what cloud-init
// itself returns for the same input; where Debian's cloud-init is unpacked on this
// machine (the compat suite's layer), every case is also run through it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeLeaf } from "./parse";
import { ec2NetworkConfig } from "./network";
// @ts-expect-error -- plain .mjs helper shared with the bench
import { LAYER } from "../../test/bench/cloud-init-chroot.mjs";

const MAC0 = "0a:1b:2c:3d:4e:01";
const MAC1 = "0a:1b:2c:3d:4e:02";
const NICS = new Map([
  [MAC0, "eth0"],
  [MAC1, "eth1"],
]);

interface Case {
  md: unknown;
  nics: Map<string, string>;
  fallback: string | null;
  full: boolean;
  want: unknown;
}

const primary = { "device-number": "0", "local-ipv4s": "10.0.0.5", "subnet-ipv4-cidr-block": "10.0.0.0/20" };

const CASES: Record<string, Case> = {
  "one NIC, IPv4 only: DHCPv4, no route metric": {
    md: { interfaces: { macs: { [MAC0]: primary } } },
    nics: new Map([[MAC0, "eth0"]]),
    fallback: "eth0",
    full: true,
    want: { version: 2, ethernets: { eth0: { dhcp4: true, dhcp6: false, match: { macaddress: MAC0 }, "set-name": "eth0" } } },
  },
  "one NIC with IPv6 and secondary addresses": {
    md: {
      interfaces: {
        macs: {
          [MAC0]: { ...primary, "local-ipv4s": ["10.0.0.5", "10.0.0.7", "10.0.0.6"], ipv6s: ["2600:1f14::1", "2600:1f14::2"], "subnet-ipv6-cidr-block": "2600:1f14::/64" },
        },
      },
    },
    nics: new Map([[MAC0, "eth0"]]),
    fallback: "eth0",
    full: true,
    want: { version: 2, ethernets: { eth0: { dhcp4: true, dhcp6: true, addresses: ["10.0.0.6/20", "10.0.0.7/20", "2600:1f14::2/64"], match: { macaddress: MAC0 }, "set-name": "eth0" } } },
  },
  "two NICs: metrics by device-number, DHCPv6 where there are IPv6 addresses": {
    md: { interfaces: { macs: { [MAC0]: { ...primary, ipv6s: "2600:1f14::1" }, [MAC1]: { "device-number": "1", "local-ipv4s": "10.0.1.9" } } } },
    nics: NICS,
    fallback: "eth0",
    full: true,
    want: {
      version: 2,
      ethernets: {
        eth0: { dhcp4: true, "dhcp4-overrides": { "route-metric": 100 }, dhcp6: true, "dhcp6-overrides": { "route-metric": 100 }, match: { macaddress: MAC0 }, "set-name": "eth0" },
        eth1: { dhcp4: true, "dhcp4-overrides": { "route-metric": 200 }, dhcp6: false, match: { macaddress: MAC1 }, "set-name": "eth1" },
      },
    },
  },
  "a subnet block that cannot be read: the secondary addresses get /24": {
    md: { interfaces: { macs: { [MAC0]: { "device-number": "0", "local-ipv4s": ["10.0.0.5", "10.0.0.6"], "subnet-ipv4-cidr-block": "garbage" } } } },
    nics: new Map([[MAC0, "eth0"]]),
    fallback: "eth0",
    full: true,
    want: { version: 2, ethernets: { eth0: { dhcp4: true, dhcp6: false, addresses: ["10.0.0.6/24"], match: { macaddress: MAC0 }, "set-name": "eth0" } } },
  },
  "a NIC the meta-data does not describe is left alone; no device-number counts on": {
    md: { interfaces: { macs: { [MAC1]: { "local-ipv4s": "10.0.1.9" } } } },
    nics: NICS,
    fallback: "eth0",
    full: true,
    want: { version: 2, ethernets: { eth1: { dhcp4: true, dhcp6: false, match: { macaddress: MAC1 }, "set-name": "eth1" } } },
  },
  "apply_full_imds_network_config false: the fallback NIC only, DHCP only": {
    md: { interfaces: { macs: { [MAC0]: { ...primary, "local-ipv4s": ["10.0.0.5", "10.0.0.6"], ipv6s: ["2600:1f14::1"] }, [MAC1]: { "device-number": "1" } } } },
    nics: NICS,
    fallback: "eth0",
    full: false,
    want: { version: 2, ethernets: { eth0: { dhcp4: true, dhcp6: true, match: { macaddress: MAC0 }, "set-name": "eth0" } } },
  },
};

describe("EC2 meta-data network -> network-config", () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      expect(ec2NetworkConfig(c.md, c.nics, c.fallback, c.full).config).toEqual(c.want);
    });
  }

  it("says when a subnet block cannot be read", () => {
    const c = CASES["a subnet block that cannot be read: the secondary addresses get /24"]!;
    expect(ec2NetworkConfig(c.md, c.nics, c.fallback, true).warnings).toEqual([`EC2 meta-data: cannot read subnet-ipv4-cidr-block "garbage" of the NIC ${MAC0}: its secondary ipv4 addresses get /24`]);
  });

  it("gives no config (the DHCP fallback stays) when no NIC matches, the machine has none, or network/ is missing", () => {
    const md = { interfaces: { macs: { "0a:ff:ff:ff:ff:ff": primary } } };
    expect(ec2NetworkConfig(md, NICS, "eth0", true)).toEqual({ config: null, warnings: [] });
    expect(ec2NetworkConfig(md, new Map(), null, true)).toEqual({ config: null, warnings: [] });
    expect(ec2NetworkConfig(md, NICS, "eth0", false)).toEqual({ config: null, warnings: [] });
    expect(ec2NetworkConfig(undefined, NICS, "eth0", true)).toEqual({ config: null, warnings: [] });
    expect(ec2NetworkConfig({ interfaces: "x" }, NICS, "eth0", true).warnings[0]).toMatch(/network\/interfaces\/macs is missing/);
  });

  it("matches a service that spells MACs in capitals (cloud-init would not: a difference on purpose)", () => {
    const md = { interfaces: { macs: { [MAC0.toUpperCase()]: primary } } };
    expect(ec2NetworkConfig(md, new Map([[MAC0, "eth0"]]), "eth0", true).config).toEqual(CASES["one NIC, IPv4 only: DHCPv4, no route metric"]!.want);
  });

  it("reads several-line leaves as lists, as cloud-init's crawl does, so secondary addresses are seen", () => {
    expect(decodeLeaf(Buffer.from("10.0.0.5\n10.0.0.6"))).toEqual(["10.0.0.5", "10.0.0.6"]);
    expect(decodeLeaf(Buffer.from("sg-1\r\nsg-2\n"))).toEqual(["sg-1", "sg-2"]);
    expect(decodeLeaf(Buffer.from("10.0.0.5"))).toBe("10.0.0.5");
    expect(decodeLeaf(Buffer.from('{"Code": "Success"}\n'))).toEqual({ Code: "Success" });
    expect(decodeLeaf(Buffer.from('{"Code"\n'))).toEqual(['{"Code"']);
  });
});

// Debian's cloud-init, unpacked by the compat suite (npm run test:compat builds it once).
const cloudInitPython = `${LAYER}/usr/lib/python3/dist-packages`;
const noCloudInit = existsSync(`${cloudInitPython}/cloudinit/sources/DataSourceEc2.py`) ? null : "Debian's cloud-init is not unpacked here (npm run test:compat makes it)";

describe.skipIf(noCloudInit !== null)("the same cases through cloud-init 22.4.2 itself", () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const script = [
        "import json, sys",
        `sys.path.insert(0, ${JSON.stringify(cloudInitPython)})`,
        "from cloudinit.sources.DataSourceEc2 import convert_ec2_metadata_network_config as convert",
        "a = json.load(sys.stdin)",
        "print(json.dumps(convert(a['md'], a['nics'], a['fallback'], a['full'])))",
      ].join("\n");
      const input = JSON.stringify({ md: c.md, nics: Object.fromEntries(c.nics), fallback: c.fallback, full: c.full });
      const r = spawnSync("python3", ["-c", script], { input, encoding: "utf8", timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(c.want);
    });
  }
});
