// A whole boot (runStages) on a temp root with a NoCloud seed that carries
// network-config: rendered in the local stage, once per instance; a bad one is
// reported, nothing is written, and the rest of the boot goes on.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSeedServer, type SeedServer } from "../../test/helpers/seed-server";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { runStages } from "../boot";
import { bootState, exitCodeFor } from "../status";
import { STAGES } from "../types";
import { ENI_FILE, UDEV_RULES_FILE } from "./eni";

const roots: TempRoot[] = [];
let server: SeedServer | null = null;
afterEach(async () => {
  roots.splice(0).forEach((r) => r.cleanup());
  await server?.close();
  server = null;
});

const SEED = "/var/lib/cloud/seed/nocloud";
const IFUPDOWN = { "/usr/sbin/ifup": "", "/usr/sbin/ifdown": "", "/usr/sbin/ifquery": "", "/etc/network/interfaces": "source /etc/network/interfaces.d/*\n" };
// Proxmox VE's network-config (static IPv4 and IPv6, a nameserver entry), the ENI fixture's.
const PROXMOX = readFileSync(join(__dirname, "fixtures/v1-proxmox-static.yaml"), "utf8");

function machine(iid: string, networkConfig: string | null, extra: Record<string, string> = {}): TempRoot {
  const r = tempRoot({
    "/proc/cmdline": "root=/dev/vda1 ro\n",
    "/etc/hosts": "127.0.0.1 localhost\n",
    ...IFUPDOWN,
    [`${SEED}/meta-data`]: `instance-id: ${iid}\n`,
    [`${SEED}/user-data`]: "#cloud-config\nwrite_files:\n  - {path: /etc/marker, content: booted}\n",
    ...(networkConfig === null ? {} : { [`${SEED}/network-config`]: networkConfig }),
    ...extra,
  });
  roots.push(r);
  return r;
}
const read = (r: TempRoot, p: string) => readFileSync(join(r.dir, p), "utf8");
const boot = (r: TempRoot) => runStages(r.host(), [...STAGES]);
const networkLog = (r: TempRoot) =>
  read(r, "/var/log/sprout.log")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((l) => l.evt === "network");

describe("network-config at boot", () => {
  it("a Proxmox-style seed: ENI and udev rules written in the local stage, the boot clean", async () => {
    const r = machine("iid-net-1", PROXMOX);
    const st = await boot(r);
    expect(st.v1.errors).toEqual([]);
    expect(exitCodeFor(bootState(st))).toBe(0);
    expect(read(r, ENI_FILE)).toContain("auto lo\niface lo inet loopback\n    dns-nameservers 192.168.1.1 9.9.9.9\n    dns-search lab.example\n\nauto eth0\niface eth0 inet static\n    address 192.168.1.50/24\n    gateway 192.168.1.1\n");
    expect(read(r, UDEV_RULES_FILE)).toContain('ATTR{address}=="bc:24:11:5e:0a:01", NAME="eth0"');
    expect(networkLog(r)).toEqual([expect.objectContaining({ stage: "local", result: "written", files: [ENI_FILE, UDEV_RULES_FILE] })]);
  });

  it("renders once per instance: a reboot keeps the admin's edit, a new instance renders again", async () => {
    const r = machine("iid-net-2", PROXMOX);
    await boot(r);
    writeFileSync(join(r.dir, ENI_FILE), "# edited\n");
    await boot(r);
    expect(read(r, ENI_FILE)).toBe("# edited\n");
    expect(networkLog(r).map((l) => l.result)).toEqual(["written", "unchanged"]);
    writeFileSync(join(r.dir, SEED, "meta-data"), "instance-id: iid-net-3\n");
    await boot(r);
    expect(read(r, ENI_FILE)).toContain("iface eth0 inet static");
  });

  it("a bad network-config: reported (the boot is degraded), nothing written, the other modules ran", async () => {
    const r = machine("iid-net-4", "version: 2\nethernets:\n  eth0:\n    addresses: [192.168.1.500/24]\n");
    const st = await boot(r);
    expect(exitCodeFor(bootState(st))).toBe(2);
    expect(st.v1.errors).toEqual([
      expect.objectContaining({ source: "network", stage: "local", message: expect.stringMatching(/ethernets\.eth0.*"192\.168\.1\.500\/24" is not an IP address.*the network is left as the image had it/) }),
    ]);
    expect(existsSync(join(r.dir, ENI_FILE))).toBe(false);
    expect(read(r, "/etc/marker")).toBe("booted");
  });

  it("network: {config: disabled} in /etc/sprout/config.d: nothing written, the boot clean", async () => {
    const r = machine("iid-net-5", PROXMOX, { "/etc/sprout/config.d/99-disable-network-config.yaml": "network: {config: disabled}\n" });
    const st = await boot(r);
    expect(st.v1.errors).toEqual([]);
    expect(existsSync(join(r.dir, ENI_FILE))).toBe(false);
    expect(networkLog(r)[0]).toMatchObject({ result: "disabled" });
  });

  it("no network-config: DHCP on the root's NIC, or nothing when the root has none", async () => {
    const withNic = machine("iid-net-6", null, { "/sys/class/net/ens3/address": "52:54:00:12:34:56\n", "/sys/class/net/ens3/carrier": "1\n" });
    expect((await boot(withNic)).v1.errors).toEqual([]);
    expect(read(withNic, ENI_FILE)).toContain("auto ens3\niface ens3 inet dhcp\n");
    const none = machine("iid-net-7", null);
    expect((await boot(none)).v1.errors).toEqual([]);
    expect(existsSync(join(none.dir, ENI_FILE))).toBe(false);
    expect(networkLog(none)[0]).toMatchObject({ result: "nothing" });
  });

  it("a seed URL (network stage): the DHCP fallback in the local stage, then the seed's network-config", async () => {
    server = await startSeedServer({ "/seed/meta-data": "instance-id: iid-net-url\n", "/seed/network-config": "version: 2\nethernets:\n  ens3:\n    addresses: [10.9.8.7/24]\n" });
    const r = tempRoot({ "/proc/cmdline": `root=/dev/vda1 ds=nocloud-net;s=${server.url}/seed/ ro\n`, ...IFUPDOWN, "/sys/class/net/ens3/address": "52:54:00:12:34:56\n", "/sys/class/net/ens3/carrier": "1\n" });
    roots.push(r);
    const st = await boot(r);
    expect(st.v1.errors).toEqual([]);
    expect(networkLog(r).map((l) => [l.stage, l.result])).toEqual([
      ["local", "written"],
      ["network", "written"],
    ]);
    expect(networkLog(r)[0].msg).toMatch(/from the fallback/);
    expect(read(r, ENI_FILE)).toContain("auto ens3\niface ens3 inet static\n    address 10.9.8.7/24\n");
  });
});
