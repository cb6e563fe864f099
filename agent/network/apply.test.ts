// applyNetworkConfig on temp target roots: which config wins, the switches that turn
// it off, the fallback from /sys/class/net under the root, the renderer choice, what
// a bad document leaves (nothing), later boots, and renames (only on the running system).
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { recordingHost, recordingRunningSystem } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { parseCmdline } from "../cmdline";
import { applyNetworkConfig, bringUpLive, netplanGenerate, plannedRenames, renameLive, type NetworkApplyInput } from ".";
import { readNics } from "./nics";
import { parseNetworkConfig } from "./state";
import { ENI_FILE, UDEV_RULES_FILE } from "./eni";
import { NETPLAN_FILE } from "./netplan";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));

const IFUPDOWN = { "/usr/sbin/ifup": "", "/usr/sbin/ifdown": "", "/usr/sbin/ifquery": "", "/etc/network/interfaces": "source /etc/network/interfaces.d/*\n" };
const NETWORKD = { "/usr/bin/systemctl": "", "/usr/lib/systemd/systemd-networkd": "" };
const NETPLAN = { "/usr/sbin/netplan": "" };
const nic = (name: string, mac: string, carrier = "1") => ({ [`/sys/class/net/${name}/address`]: `${mac}\n`, [`/sys/class/net/${name}/carrier`]: `${carrier}\n`, [`/sys/class/net/${name}/operstate`]: carrier === "1" ? "up\n" : "down\n" });

function machine(files: Record<string, string> = {}): TempRoot {
  const r = tempRoot(files);
  roots.push(r);
  return r;
}

const V1 = { version: 1, config: [{ type: "physical", name: "eth0", mac_address: "52:54:00:00:00:01", subnets: [{ type: "static", address: "10.0.0.5/24", gateway: "10.0.0.1" }] }] };
const input = (over: Partial<NetworkApplyInput> = {}): NetworkApplyInput => ({ cmdline: parseCmdline(""), system: {}, datasource: { id: "NoCloud", config: V1 }, newInstance: true, ...over });
const read = (r: TempRoot, p: string) => readFileSync(join(r.dir, p), "utf8");
const has = (r: TempRoot, p: string) => existsSync(join(r.dir, p));

describe("applyNetworkConfig", () => {
  it("renders the datasource's network-config for ifupdown when the image has it", async () => {
    const r = machine(IFUPDOWN);
    const res = await applyNetworkConfig(r.host(), input());
    expect(res).toMatchObject({ status: "written", errors: [], files: [ENI_FILE, UDEV_RULES_FILE] });
    expect(read(r, ENI_FILE)).toContain("auto eth0\niface eth0 inet static\n    address 10.0.0.5/24\n    gateway 10.0.0.1\n");
    expect(read(r, UDEV_RULES_FILE)).toBe('SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="52:54:00:00:00:01", NAME="eth0"\n');
  });

  it("renders for systemd-networkd when ifupdown is absent, and removes its earlier files", async () => {
    const r = machine({ ...NETWORKD, "/etc/systemd/network/10-cloud-init-old0.network": "[Match]\nName=old0\n", "/etc/systemd/network/50-admin.network": "[Match]\nName=x\n" });
    const res = await applyNetworkConfig(r.host(), input());
    expect(res.status).toBe("written");
    expect(readdirSync(join(r.dir, "/etc/systemd/network")).sort()).toEqual(["10-cloud-init-eth0.link", "10-cloud-init-eth0.network", "50-admin.network"]);
    expect(read(r, "/etc/systemd/network/10-cloud-init-eth0.network")).toContain("[Address]\nAddress=10.0.0.5/24\n");
    expect(has(r, ENI_FILE)).toBe(false);
  });

  it("follows system_info.network.renderers", async () => {
    const r = machine({ ...IFUPDOWN, ...NETWORKD });
    const res = await applyNetworkConfig(r.host(), input({ system: { system_info: { network: { renderers: ["sysconfig", "netplan", "networkd", "eni"] } } } }));
    expect(res.files).toContain("/etc/systemd/network/10-cloud-init-eth0.network");
    expect(res.warnings.join()).toMatch(/"sysconfig", which sprout does not have/);
  });

  it("renders for netplan on an image with netplan and no ifupdown (Debian 12's cloud images), 0600, before networkd", async () => {
    const r = machine({ ...NETPLAN, ...NETWORKD });
    const res = await applyNetworkConfig(r.host(), input());
    expect(res).toMatchObject({ status: "written", errors: [], files: [NETPLAN_FILE] });
    expect(read(r, NETPLAN_FILE)).toContain("network:\n    version: 2\n    ethernets:\n        eth0:\n            addresses:\n            - 10.0.0.5/24\n            gateway4: 10.0.0.1\n");
    expect(statSync(join(r.dir, NETPLAN_FILE)).mode & 0o777).toBe(0o600);
    expect(has(r, "/etc/systemd/network/10-cloud-init-eth0.network")).toBe(false);
    // ifupdown, where the image has it, comes first, as in cloud-init
    const both = machine({ ...IFUPDOWN, ...NETPLAN });
    expect((await applyNetworkConfig(both.host(), input())).files).toEqual([ENI_FILE, UDEV_RULES_FILE]);
  });

  it("removes snapd's stock netplan config and what netplan generated from it, as cloud-init does, but never an edited one", async () => {
    const SNAPD = "/etc/netplan/00-snapd-config.yaml";
    const stock = `# This is the initial network config.\n# It can be overwritten by cloud-init or console-conf.\nnetwork:\n    version: 2\n    ethernets:\n        all-en:\n            match:\n                name: "en*"\n            dhcp4: true\n        all-eth:\n            match:\n                name: "eth*"\n            dhcp4: true\n`;
    const derived = { "/run/systemd/network/10-netplan-all-en.network": "[Match]\n", "/run/systemd/generator/netplan.stamp": "" };
    const r = machine({ ...NETPLAN, [SNAPD]: stock, ...derived });
    await applyNetworkConfig(r.host(), input());
    expect([has(r, SNAPD), has(r, "/run/systemd/network/10-netplan-all-en.network"), has(r, "/run/systemd/generator/netplan.stamp"), has(r, NETPLAN_FILE)]).toEqual([false, false, false, true]);
    const edited = machine({ ...NETPLAN, [SNAPD]: stock.replace("dhcp4: true\n", "dhcp4: false\n"), ...derived });
    await applyNetworkConfig(edited.host(), input());
    expect([has(edited, SNAPD), has(edited, "/run/systemd/generator/netplan.stamp")]).toEqual([true, true]);
  });

  it("warns about an image without a renderer (it manages its network otherwise) and writes nothing", async () => {
    const r = machine();
    const res = await applyNetworkConfig(r.host(), input());
    expect(res).toMatchObject({ status: "nothing", errors: [] });
    expect(res.warnings[0]).toMatch(/none of ifupdown .*, netplan and systemd-networkd is installed .* nothing was written; the network is left as the image had it/);
    expect(has(r, "/etc/network")).toBe(false);
  });

  it("a bad document: the entry named, nothing written, the earlier file kept", async () => {
    const r = machine({ ...IFUPDOWN, [ENI_FILE]: "# the image's own\n" });
    const res = await applyNetworkConfig(r.host(), input({ datasource: { id: "NoCloud", config: { version: 1, config: [{ type: "physical", name: "eth0", subnets: [{ type: "static", address: "10.0.0.300/24" }] }] } } }));
    expect(res.status).toBe("failed");
    expect(res.errors).toEqual([
      `[network] network-config from the datasource NoCloud's network-config: config[0] (physical eth0) subnets[0]: address "10.0.0.300/24" is not an IP address with an optional /prefix; nothing was written; the network is left as the image had it. Fix it, or set network: {config: disabled} in /etc/sprout/config.d/`,
    ]);
    expect(read(r, ENI_FILE)).toBe("# the image's own\n");
    expect(has(r, UDEV_RULES_FILE)).toBe(false);
  });

  describe("switched off", () => {
    const off = async (over: Partial<NetworkApplyInput>, files: Record<string, string> = {}) => {
      const r = machine({ ...IFUPDOWN, ...files });
      const res = await applyNetworkConfig(r.host(), input(over));
      expect(has(r, ENI_FILE)).toBe(false);
      return res;
    };
    it("by network: {config: disabled} in the system config", async () => expect((await off({ system: { network: { config: "disabled" } } })).detail).toBe("network configuration is disabled by the system config (network:)"));
    it("by network-config=disabled on the kernel command line", async () => expect((await off({ cmdline: parseCmdline("ro network-config=disabled") })).status).toBe("disabled"));
    it("by cloud-init's 99-disable-network-config.cfg", async () =>
      expect((await off({}, { "/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": "network: {config: disabled}\n" })).detail).toBe("network configuration is disabled by /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg"));
    it("by the datasource's own network-config", async () => expect((await off({ datasource: { id: "NoCloud", config: { network: { config: "disabled" } } } })).status).toBe("disabled"));
  });

  it("the kernel command line's network-config (gzip+base64) wins over the system config's and the datasource's", async () => {
    const yaml = "version: 2\nethernets:\n  ens3:\n    dhcp4: true\n";
    const r = machine(IFUPDOWN);
    const res = await applyNetworkConfig(r.host(), input({ cmdline: parseCmdline(`ro network-config=${gzipSync(yaml).toString("base64")}`), system: { network: { version: 2, ethernets: { sys0: { dhcp4: true } } } } }));
    expect(res.detail).toMatch(/from the kernel command line/);
    expect(read(r, ENI_FILE)).toContain("auto ens3\niface ens3 inet dhcp\n");
    const sys = machine(IFUPDOWN);
    await applyNetworkConfig(sys.host(), input({ system: { network: { version: 2, ethernets: { sys0: { dhcp4: true } } } } }));
    expect(read(sys, ENI_FILE)).toContain("auto sys0\niface sys0 inet dhcp\n");
  });

  it("reports a kernel command line network-config that is not base64", async () => {
    const res = await applyNetworkConfig(machine(IFUPDOWN).host(), input({ cmdline: parseCmdline("network-config=!!") }));
    expect(res.errors[0]).toMatch(/network-config= on the kernel command line is not base64/);
  });

  describe("no network-config: cloud-init's DHCP fallback", () => {
    it("DHCP on the NIC with a carrier, eth0 first among equals, matched by MAC; from the target root's /sys", async () => {
      const r = machine({ ...IFUPDOWN, ...nic("ens5", "52:54:00:00:00:05", "0"), ...nic("ens10", "52:54:00:00:00:10"), ...nic("ens4", "52:54:00:00:00:04"), "/sys/class/net/lo/address": "00:00:00:00:00:00\n" });
      const res = await applyNetworkConfig(r.host(), input({ datasource: { id: "NoCloud", config: null } }));
      expect(res.detail).toMatch(/from the fallback/);
      expect(read(r, ENI_FILE)).toContain("auto ens4\niface ens4 inet dhcp\n");
      expect(read(r, UDEV_RULES_FILE)).toContain('ATTR{address}=="52:54:00:00:00:04", NAME="ens4"');
      const eth0 = machine({ ...IFUPDOWN, ...nic("eth1", "52:54:00:00:00:01"), ...nic("eth0", "52:54:00:00:00:00") });
      await applyNetworkConfig(eth0.host(), input({ datasource: null }));
      expect(read(eth0, ENI_FILE)).toContain("auto eth0\n");
    });
    it("writes nothing when the root shows no NIC (a chroot never looks at the build host's)", async () => {
      const r = machine(IFUPDOWN);
      const res = await applyNetworkConfig(r.host(), input({ datasource: null }));
      expect(res.status).toBe("nothing");
      expect(res.detail).toContain(`${r.dir}/sys/class/net shows no NIC`);
      expect(has(r, ENI_FILE)).toBe(false);
    });
    it("skips bridges and NICs that are plainly unplugged", async () => {
      const r = machine({ ...IFUPDOWN, ...nic("br0", "52:54:00:00:00:09"), "/sys/class/net/br0/bridge/x": "", "/sys/class/net/ens3/address": "52:54:00:00:00:03\n", "/sys/class/net/ens3/carrier": "0\n", "/sys/class/net/ens3/operstate": "notpresent\n" });
      expect((await applyNetworkConfig(r.host(), input({ datasource: null }))).status).toBe("nothing");
    });
  });

  it("a later boot of the same instance leaves the files as they are", async () => {
    const r = machine({ ...IFUPDOWN, [ENI_FILE]: "# edited by the admin\n" });
    const res = await applyNetworkConfig(r.host(), input({ newInstance: false }));
    expect(res.status).toBe("unchanged");
    expect(read(r, ENI_FILE)).toBe("# edited by the admin\n");
  });

  it("removes the stock eth0.cfg of old images, keeps one an admin wrote", async () => {
    const r = machine({ ...IFUPDOWN, "/etc/network/interfaces.d/eth0.cfg": "# The primary network interface\nauto eth0\niface eth0 inet dhcp\n" });
    await applyNetworkConfig(r.host(), input());
    expect(has(r, "/etc/network/interfaces.d/eth0.cfg")).toBe(false);
    const mine = machine({ ...IFUPDOWN, "/etc/network/interfaces.d/eth0.cfg": "auto eth0\niface eth0 inet static\n  address 10.1.1.1/24\n" });
    await applyNetworkConfig(mine.host(), input());
    expect(has(mine, "/etc/network/interfaces.d/eth0.cfg")).toBe(true);
  });

  describe("renames", () => {
    const renamed = { version: 2, ethernets: { id0: { match: { macaddress: "52:54:00:00:00:07" }, "set-name": "lan0", dhcp4: true } } };

    it("plans a rename for each NIC whose MAC the machine has under another name", async () => {
      const r = machine({ ...nic("ens7", "52:54:00:00:00:07"), ...nic("lan1", "52:54:00:00:00:08") });
      const ns = parseNetworkConfig({ version: 1, config: [{ type: "physical", name: "lan0", mac_address: "52:54:00:00:00:07" }, { type: "physical", name: "lan1", mac_address: "52:54:00:00:00:08" }] });
      expect(plannedRenames(ns, readNics(r.host().root))).toEqual([["ens7", "lan0"]]);
    });

    it("renames with ip link, bounded; a failure is a warning (the files still take effect at the next boot)", async () => {
      const ok = recordingHost(machine().host());
      const warnings: string[] = [];
      await renameLive(ok.host.run, [["ens7", "lan0"]], warnings);
      expect(ok.runs.map((x) => x.argv.join(" "))).toEqual(["ip link set dev ens7 down", "ip link set dev ens7 name lan0"]);
      expect(ok.runs.every((x) => x.opts.timeoutMs > 0)).toBe(true);
      expect(warnings).toEqual([]);
      const busy = recordingHost(machine().host(), { run: () => ({ code: 2, stderr: Buffer.from("RTNETLINK answers: Device or resource busy") }) });
      await renameLive(busy.host.run, [["ens7", "lan0"]], warnings);
      expect(busy.runs).toHaveLength(1);
      expect(warnings.join()).toMatch(/could not rename ens7 to lan0 .*Device or resource busy.*after a reboot/);
    });

    it("brings the rendered interfaces up on the running system, bounded, as cloud-init's activators: ifup each, netplan apply, or restart networkd", async () => {
      const root = machine();
      const live = (answer?: Parameters<typeof recordingHost>[1]) => {
        // As on the running system with systemd (the recorded runner acts on nothing).
        return recordingRunningSystem(root.host(), ["systemctl"], answer, { exists: (p: string) => p === "/run/systemd/system" || root.host().root.exists(p) });
      };
      const warnings: string[] = [];
      const eni = live();
      await bringUpLive(eni.host, "eni", ["lo", "eth0", "eth1"], warnings);
      expect(eni.runs.map((x) => x.argv.join(" "))).toEqual(["ifup eth0", "ifup eth1"]);
      expect(eni.runs.every((x) => x.opts.timeoutMs > 0)).toBe(true);
      const networkd = live();
      await bringUpLive(networkd.host, "networkd", ["eth0"], warnings);
      expect(networkd.runs.map((x) => x.argv.join(" "))).toEqual(["systemctl restart systemd-networkd"]);
      const netplan = live();
      await bringUpLive(netplan.host, "netplan", ["eth0", "eth1"], warnings);
      expect(netplan.runs.map((x) => x.argv.join(" "))).toEqual(["netplan apply"]);
      expect(warnings).toEqual([]);
      // On the running system, netplan's networkd files are generated as soon as the YAML is written (cloud-init's postcmds).
      const gen = recordingHost(root.host(), { run: () => ({ code: 1, stderr: Buffer.from("/etc/netplan/50-cloud-init.yaml:3:5: Error in network definition") }) });
      const genWarnings: string[] = [];
      await netplanGenerate(gen.host.run, genWarnings);
      expect(gen.runs.map((x) => x.argv.join(" "))).toEqual(["netplan generate"]);
      expect(genWarnings).toEqual(["[network] netplan generate failed (exit 1: /etc/netplan/50-cloud-init.yaml:3:5: Error in network definition); /etc/netplan/50-cloud-init.yaml is written and netplan reads it at the next boot"]);
      const failing = live({ run: () => ({ code: 1, stderr: Buffer.from("No DHCPOFFERS received.") }) });
      await bringUpLive(failing.host, "eni", ["eth1"], warnings);
      expect(warnings).toEqual(["[network] ifup eth1 failed (exit 1: No DHCPOFFERS received.); the configuration is written and takes effect at the next boot"]);
      // ifupdown without a DHCP client (a minbase image): no boot would ever get an address, so the warning says what to install.
      const noClient = live({ run: () => ({ code: 1, stdout: Buffer.from("No DHCP client software found!\n"), stderr: Buffer.from("ifup: failed to bring up ens3\n") }) });
      const noClientWarnings: string[] = [];
      await bringUpLive(noClient.host, "eni", ["ens3"], noClientWarnings);
      expect(noClientWarnings).toEqual([expect.stringMatching(/^\[network\] ifup ens3 failed \(exit 1: ifup: failed to bring up ens3\); the image has no DHCP client for ifupdown: install isc-dhcp-client .*renderers: \[networkd\]\)$/)]);
    });

    it("never with --root elsewhere, new instance or not: the udev rule names it at the next boot, and nothing is brought up", async () => {
      const r = machine({ ...IFUPDOWN, ...nic("ens7", "52:54:00:00:00:07") });
      for (const newInstance of [true, false]) {
        const rec = recordingHost(r.host());
        // bringUp too: nothing is brought up in an image either.
        await applyNetworkConfig(rec.host, input({ datasource: { id: "NoCloud", config: renamed }, newInstance, bringUp: true }));
        expect(rec.runs).toEqual([]);
      }
      expect(read(r, UDEV_RULES_FILE)).toContain('NAME="lan0"');
    });
  });
});
