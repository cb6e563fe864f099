// The parser on its own: what it keeps that cloud-init 22.4.2 drops, and every bad
// input refused with the entry named (the ENI fixtures cover the good documents).
import { describe, expect, it } from "vitest";
import { parseYaml } from "../yaml";
import { renderEniInterfaces } from "./eni";
import { NetworkConfigError, parseNetworkConfig } from "./state";

const parse = (yaml: string, nics: Record<string, string> = {}) => parseNetworkConfig(parseYaml(yaml).value, { nicsByMac: new Map(Object.entries(nics).map(([n, m]) => [m, n])) });
const refuse = (yaml: string) => {
  try {
    parse(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(NetworkConfigError);
    return (err as Error).message;
  }
  throw new Error("parsed without an error");
};

describe("parseNetworkConfig", () => {
  it("reads v1 static with netmask, prefix or /prefix alike", () => {
    for (const subnet of ["address: 10.1.2.3\n        netmask: 255.255.255.0", "address: 10.1.2.3\n        prefix: 24", "address: 10.1.2.3/24"]) {
      const ns = parse(`version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets:\n      - type: static\n        ${subnet}\n`);
      expect(ns.interfaces.get("eth0")!.subnets[0]).toMatchObject({ type: "static", address: "10.1.2.3", prefix: 24, netmask: "255.255.255.0" });
    }
  });

  it("v2: set-name wins, else the machine's name for the MAC, else the key; nameservers are global and the interface's", () => {
    const ns = parse(
      `version: 2\nethernets:\n  a:\n    match: {macaddress: "52:54:00:00:00:01"}\n    set-name: wan\n    dhcp4: true\n  b:\n    match: {macaddress: "52:54:00:00:00:02"}\n    addresses: [10.0.0.2/24]\n    nameservers: {addresses: [10.0.0.1], search: [lan]}\n  c:\n    dhcp6: yes\n`,
      { ens4: "52:54:00:00:00:02" },
    );
    expect([...ns.interfaces.keys()]).toEqual(["wan", "ens4", "c"]);
    expect(ns.dns).toEqual({ nameservers: ["10.0.0.1"], search: ["lan"] });
    expect(ns.interfaces.get("ens4")!.dns).toEqual({ nameservers: ["10.0.0.1"], search: ["lan"] });
    expect(ns.interfaces.get("c")!.subnets).toEqual([{ type: "dhcp6", routes: [] }]);
  });

  it("keeps a v2 route's metric (cloud-init 22.4.2 drops it)", () => {
    const ns = parse(`version: 2\nethernets:\n  eth0:\n    addresses: [10.0.0.2/24]\n    routes: [{to: 10.9.0.0/16, via: 10.0.0.1, metric: 50}]\n`);
    expect(renderEniInterfaces(ns)).toContain("post-up route add -net 10.9.0.0/16 gw 10.0.0.1 metric 50 || true");
  });

  it("accepts the network: wrapper and a v2 bond of defined NICs", () => {
    const ns = parse(`network:\n  version: 2\n  ethernets: {eth0: {}, eth1: {}}\n  bonds:\n    bond0: {interfaces: [eth0, eth1], parameters: {mode: active-backup}, dhcp4: true}\n`);
    expect(ns.interfaces.get("eth0")!.options["bond-master"]).toBe("bond0");
    expect(ns.interfaces.get("bond0")!.options["bond-mode"]).toBe("active-backup");
  });

  it("warns (as cloud-init ignores them) about routes without addresses and wifis", () => {
    const ns = parse(`version: 2\nethernets:\n  eth0:\n    routes: [{to: 10.9.0.0/16, via: 10.0.0.1}]\nwifis: {wlan0: {dhcp4: true}}\n`);
    expect(ns.warnings.join("\n")).toMatch(/ethernets\.eth0: routes are ignored/);
    expect(ns.warnings.join("\n")).toMatch(/wifis are written only for netplan/);
  });

  describe("refuses bad documents, naming the entry", () => {
    it("an unknown version", () => expect(refuse("version: 3\nconfig: []\n")).toMatch(/version 3 is not supported; write version: 1 or version: 2/));
    it("no version", () => expect(refuse("ethernets: {}\n")).toMatch(/version null is not supported/));
    it("not a mapping", () => expect(refuse("- eth0\n")).toMatch(/not a mapping/));
    it("an address that is not an IP", () =>
      expect(refuse("version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: static, address: 10.0.0.300/24}]\n")).toBe(
        'config[0] (physical eth0) subnets[0]: address "10.0.0.300/24" is not an IP address with an optional /prefix',
      ));
    it("a prefix out of range", () => expect(refuse("version: 2\nethernets:\n  eth0: {addresses: [10.0.0.1/33]}\n")).toMatch(/ethernets\.eth0.*10\.0\.0\.1\/33/));
    it("a netmask that is not one", () => expect(refuse("version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: static, address: 10.0.0.1, netmask: 255.0.255.0}]\n")).toMatch(/netmask "255.0.255.0" is not a netmask/));
    it("a static subnet without address", () => expect(refuse("version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: static}]\n")).toMatch(/a static subnet needs an address/));
    it("a gateway that is not an IP", () => expect(refuse("version: 2\nethernets:\n  eth0: {addresses: [10.0.0.2/24], gateway4: router}\n")).toMatch(/gateway "router" is not an IP address/));
    it("a nameserver that is not an IP", () => expect(refuse("version: 1\nconfig:\n  - {type: nameserver, address: [dns.example]}\n")).toMatch(/config\[0\] \(nameserver\): address: "dns.example" is not an IP address/));
    it("a bond naming an interface that does not exist", () =>
      expect(refuse("version: 1\nconfig:\n  - {type: physical, name: eth0}\n  - {type: bond, name: bond0, bond_interfaces: [eth0, eth9], params: {bond-mode: active-backup}}\n")).toMatch(
        /config\[1\] \(bond bond0\): bond_interfaces names eth9, which the network-config does not define/,
      ));
    it("a v2 bond naming an interface that does not exist", () => expect(refuse("version: 2\nethernets: {eth0: {}}\nbonds:\n  bond0: {interfaces: [eth0, eth1]}\n")).toMatch(/bonds\.bond0: bond_interfaces names eth1/));
    it("a vlan on an interface that does not exist", () => expect(refuse("version: 2\nvlans:\n  v10: {id: 10, link: eth0}\n")).toMatch(/vlans\.v10: vlan_link names eth0/));
    it("a mac that is not a mac", () => expect(refuse("version: 1\nconfig:\n  - {type: physical, name: eth0, mac_address: '52:54:00:12:34'}\n")).toMatch(/config\[0\] \(physical eth0\) mac_address: "52:54:00:12:34" is not a MAC address/));
    it("a v2 match.macaddress that is not a mac", () => expect(refuse("version: 2\nethernets:\n  e: {match: {macaddress: zz:54:00:12:34:56}}\n")).toMatch(/ethernets\.e match\.macaddress/));
    it("an unknown v1 type", () => expect(refuse("version: 1\nconfig:\n  - {type: tunnel, name: t0}\n")).toMatch(/config\[0\] \(tunnel t0\): type "tunnel" is not one of/));
    it("an unknown v2 section", () => expect(refuse("version: 2\ntunnels: {}\n")).toMatch(/network-config tunnels: unknown section/));
    it("a v2 bond parameter sprout does not know", () => expect(refuse("version: 2\nethernets: {eth0: {}}\nbonds:\n  bond0: {interfaces: [eth0], parameters: {speed: 10}}\n")).toMatch(/bonds\.bond0\.parameters: speed is not a bond parameter/));
    it("a route without gateway or destination", () => {
      expect(refuse("version: 1\nconfig:\n  - {type: route, destination: 10.0.0.0/8}\n")).toMatch(/the route to 10\.0\.0\.0\/8 has no gateway/);
      expect(refuse("version: 1\nconfig:\n  - {type: route, network: 10.0.0.0, gateway: 10.0.0.1}\n")).toMatch(/a route entry needs destination/);
    });
    it("nameservers for an interface that is not there", () => expect(refuse("version: 1\nconfig:\n  - {type: nameserver, interface: eth3, address: 1.1.1.1}\n")).toMatch(/interface eth3, which the network-config does not define/));
    it("a vlan id out of range", () => expect(refuse("version: 2\nethernets: {eth0: {}}\nvlans:\n  v: {id: 5000, link: eth0}\n")).toMatch(/vlan_id 5000 is not between 1 and 4094/));
    it("an interface name the kernel refuses", () => expect(refuse("version: 1\nconfig:\n  - {type: physical, name: a-very-long-interface-name}\n")).toMatch(/is not an interface name/));
  });
});
