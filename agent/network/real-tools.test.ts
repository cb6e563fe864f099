// The rendered files read by the real programs a machine hands them to: ifupdown's
// ifquery and `ifup --no-act` for ENI, netplan's generator for netplan, systemd-networkd itself (started in a private
// network and mount namespace, so it sees only the rendered files and configures
// nothing of this machine) for the networkd files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ENI_FILE, renderEni } from "./eni";
import { fixture, fixtureNames } from "../../test/helpers/network-fixtures";
import { NETPLAN_FILE, renderNetplan } from "./netplan";
import { renderNetworkd } from "./networkd";
import { unpackedDeb } from "../../test/helpers/unpacked-deb";
import { parseNetworkConfig } from "./state";

const FIXTURES = fixtureNames(".yaml");
const work = mkdtempSync(join(tmpdir(), "sprout-net-tools-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ifupdown from the machine, or from the compat suite's cached ifupdown layer (test/compat/ifupdown-layer.mjs).
const CACHE = process.env.SPROUT_TEST_CACHE || "/var/cache/sprout-test";
const cachedLayers = existsSync(CACHE) ? readdirSync(CACHE).filter((d) => d.endsWith(".ifupdown")).map((d) => join(CACHE, d, "usr/sbin")) : [];
const IFUPDOWN_DIRS = ["/usr/sbin", "/sbin", ...cachedLayers];
const ifupdownDir = IFUPDOWN_DIRS.find((d) => existsSync(join(d, "ifquery")) && existsSync(join(d, "ifup")));
const NETWORKD = ["/lib/systemd/systemd-networkd", "/usr/lib/systemd/systemd-networkd"].find(existsSync);
const isRoot = process.getuid?.() === 0;

describe.skipIf(!ifupdownDir)(`ifupdown reads the ENI files${ifupdownDir ? "" : " (skipped: no ifquery/ifup; install ifupdown or run test/compat/ifupdown-layer.mjs)"}`, () => {
  const ifupdown = (tool: string, args: string[]) => spawnSync(join(ifupdownDir!, tool), args, { encoding: "utf8", timeout: 30_000 });
  for (const name of FIXTURES) {
    it(name, () => {
      const { doc, nicsByMac } = fixture(name);
      const ns = parseNetworkConfig(doc, { nicsByMac });
      const file = join(work, `${name}.eni`);
      writeFileSync(file, renderEni(ns).get(ENI_FILE)!);
      const list = ifupdown("ifquery", ["-i", file, "--list", "-a"]);
      expect(list.status, list.stderr).toBe(0);
      const autos = [...ns.interfaces.values()].filter((i) => i.subnets.length > 0 || "bond-master" in i.options || "bond-slaves" in i.options).map((i) => i.name);
      expect(list.stdout.trim().split("\n").sort()).toEqual(["lo", ...autos].sort());
      const state = join(work, `${name}.state`);
      mkdirSync(state, { recursive: true });
      const dry = ifupdown("ifup", ["--no-act", "-i", file, `--state-dir=${state}`, "-a"]);
      expect(dry.stderr.split("\n").filter((l) => l.startsWith("ifup:"))).toEqual([]);
      expect(dry.status).toBe(0);
    });
  }

  it("would catch a broken stanza (the check can fail)", () => {
    const file = join(work, "broken.eni");
    writeFileSync(file, "auto eth0\niface eth0 inet static\n    netmask 255.255.255.0\n");
    const dry = ifupdown("ifup", ["--no-act", "-i", file, `--state-dir=${join(work, "broken.state")}`, "-a"]);
    expect(dry.stderr).toMatch(/missing required variable: address/);
  });
});

describe.skipIf(!NETWORKD || !isRoot)(`systemd-networkd reads the networkd files${NETWORKD && isRoot ? "" : " (skipped: needs root and systemd-networkd)"}`, () => {
  /** networkd's complaints about the files in `dir`, from its own start-up in a private namespace. */
  function networkdComplaints(dir: string): string[] {
    const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/netif && chown systemd-network:systemd-network /run/systemd/netif 2>/dev/null; mount --bind "$1" /etc/systemd/network && SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info timeout 5 ${NETWORKD} 2>&1; true`;
    const r = spawnSync("unshare", ["--mount", "--net", "--propagation", "private", "sh", "-c", script, "sh", dir], { encoding: "utf8", timeout: 30_000 });
    return r.stdout.split("\n").filter((l) => l.startsWith("/etc/systemd/network/"));
  }

  it("every fixture's files, with no unknown key, section or value", () => {
    const dir = join(work, "networkd");
    mkdirSync(dir, { recursive: true });
    for (const name of FIXTURES) {
      const { doc, nicsByMac } = fixture(name);
      for (const [path, content] of renderNetworkd(parseNetworkConfig(doc, { nicsByMac }))) writeFileSync(join(dir, basename(path).replace("10-cloud-init-", `10-${name}-`)), content);
    }
    expect(readdirSync(dir).length).toBeGreaterThan(20);
    expect(networkdComplaints(dir)).toEqual([]);
  });

  it("would catch a bad key (the check can fail)", () => {
    const dir = join(work, "networkd-bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "10-bad.network"), "[Match]\nName=eth0\n\n[Network]\nDHCP=maybe\nAdress=10.0.0.1/24\n");
    expect(networkdComplaints(dir).join("\n")).toMatch(/Adress/);
  });
});

// Debian's netplan generator (netplan.io and libnetplan0, unpacked, never installed: no
// maintainer script runs) reads the netplan files under a root of their own and writes
// its networkd files there; it refuses a document it cannot use.
const netplanDebs = [unpackedDeb("netplan.io"), unpackedDeb("libnetplan0")];
const netplanMissing = netplanDebs.map((d) => ("unavailable" in d ? d.unavailable : null)).find((w) => w !== null) ?? null;

describe.skipIf(netplanMissing !== null)(`netplan generate reads the netplan files${netplanMissing ? ` (skipped: ${netplanMissing})` : ""}`, () => {
  const [netplan, lib] = netplanDebs as Array<{ tree: string }>;
  const generate = (root: string) =>
    spawnSync(join(netplan!.tree, "usr/libexec/netplan/generate"), ["--root-dir", root], { encoding: "utf8", timeout: 30_000, env: { ...process.env, LD_LIBRARY_PATH: join(lib!.tree, "usr/lib/x86_64-linux-gnu") } });
  const withFile = (name: string, text: string) => {
    const root = join(work, `netplan-${name}`);
    mkdirSync(join(root, "etc/netplan"), { recursive: true });
    writeFileSync(join(root, NETPLAN_FILE), text, { mode: 0o600 });
    return root;
  };
  for (const name of FIXTURES) {
    it(name, () => {
      const { doc, nicsByMac } = fixture(name);
      const ns = parseNetworkConfig(doc, { nicsByMac });
      const root = withFile(name, renderNetplan(ns, doc).get(NETPLAN_FILE)!);
      const r = generate(root);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/Error|Permissions .* too open/);
      const made = readdirSync(join(root, "run/systemd/network"));
      // netplan names its files by the document's ids (v2), which v1 documents take from the interface names.
      const v2 = (doc as { network?: Record<string, unknown> }).network ?? (doc as Record<string, unknown>);
      const ids = ns.version === 2 ? ["ethernets", "bonds", "bridges", "vlans"].flatMap((k) => Object.keys((v2[k] as object | undefined) ?? {})) : [...ns.interfaces.keys()];
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(made, id).toContain(`10-netplan-${id}.network`);
    });
  }

  it("would catch a file netplan cannot use (the check can fail)", () => {
    const r = generate(withFile("broken", "network:\n    version: 2\n    ethernets:\n        eth0:\n            addresses: [not-an-address]\n"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not-an-address/);
  });
});
