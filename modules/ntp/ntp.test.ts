// The ntp module on temp roots. The expected files in fixtures/ are cloud-init 22.4.2's
// Debian templates (from Debian's cloud-init package) rendered by Python's Jinja2 the
// way cloud-init's templater does (trim_blocks, header line dropped, trailing newline
// kept); test/compat checks the same against a real cloud-init boot.
// apt-get and systemctl never run here: the Host records them (recordingHost).
import { lstatSync, readFileSync, readlinkSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { parseYaml } from "../../agent/yaml";
import { validateCloudConfig } from "../../agent/schema/validate";
import { ntp } from ".";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");
/** cc_ntp's two documented examples (cloud-init 22.4.2's module docs), as users paste them. */
const docExample = (name: string) => parseYaml(fixture(name)).value as Record<string, unknown>;
const EXE = "#!/bin/sh\n";
let root: TempRoot;
afterEach(() => root?.cleanup());

/** A temp root with these programs installed (executable files). */
function machine(programs: string[], files: Record<string, string> = {}): TempRoot {
  const r = tempRoot(files);
  for (const p of programs) r.write(p, EXE, 0o755);
  return r;
}

async function runNtp(r: TempRoot, cfg: Record<string, unknown>, answer?: (argv: string[]) => { code: number; stderr?: Buffer }) {
  const rec = recordingHost(r.host(), answer ? { run: answer } : {});
  const res = await ntp.run(cfg, moduleContext(r, { host: rec.host, stage: "config" }));
  return { res, runs: rec.runs.map((x) => x.argv) };
}

const read = (r: TempRoot, p: string) => r.host().root.tryReadText(p);

describe("ntp: cloud-init's documented examples", () => {
  it("module-docs example 1: ntp_client chrony (installed) writes /etc/chrony/chrony.conf with the Debian pools and keeps the package's file as .dist", async () => {
    root = machine(["usr/sbin/chronyd"], { "etc/chrony/chrony.conf": "# the package's file\npool 2.debian.pool.ntp.org iburst\n" });
    const { res, runs } = await runNtp(root, docExample("docs-example1.yaml"));
    expect(res.errors).toEqual([]);
    expect(res.status).toBe("changed");
    expect(read(root, "/etc/chrony/chrony.conf")).toBe(fixture("chrony-default.conf"));
    expect(read(root, "/etc/chrony/chrony.conf.dist")).toBe("# the package's file\npool 2.debian.pool.ntp.org iburst\n");
    expect(statSync(join(root.dir, "etc/chrony/chrony.conf")).mode & 0o777).toBe(0o644);
    // Not the running system: no apt-get, no systemctl.
    expect(runs).toEqual([]);
    expect(res.detail).toMatch(/chrony not restarted \(no running systemd here\)/);
  });

  it("module-docs example 2: a client of your own with its inline template, pools and servers (cloud-init's '# poolspool' included)", async () => {
    root = machine(["usr/sbin/myntpclientd"]);
    const { res } = await runNtp(root, docExample("docs-example2.yaml"));
    expect(res.errors).toEqual([]);
    expect(read(root, "/etc/myntpclient/myntpclient.conf")).toBe(fixture("custom-example2.conf"));
  });
});

describe("ntp: choosing the client (Debian's preference: chrony, systemd-timesyncd, ntp, ntpdate)", () => {
  it("auto with systemd-timesyncd installed writes its drop-in, nothing installed", async () => {
    root = machine(["lib/systemd/systemd-timesyncd"]);
    const { res, runs } = await runNtp(root, { ntp: null });
    expect(res.errors).toEqual([]);
    expect(read(root, "/etc/systemd/timesyncd.conf.d/cloud-init.conf")).toBe(fixture("timesyncd-default.conf"));
    expect(runs).toEqual([]);
  });

  it('ntp_client "" and null mean auto, as in cloud-init', async () => {
    root = machine(["lib/systemd/systemd-timesyncd"]);
    for (const ntp_client of ["", null, "auto"]) {
      const { res } = await runNtp(root, { ntp: { ntp_client } });
      expect(res.errors).toEqual([]);
      expect(res.detail).toMatch(/^systemd-timesyncd: wrote/);
    }
  });

  it("auto prefers chrony over systemd-timesyncd when both are installed", async () => {
    root = machine(["lib/systemd/systemd-timesyncd", "usr/sbin/chronyd"]);
    const { res } = await runNtp(root, { ntp: { servers: ["ntp.server.local", "192.168.23.2"], pools: ["0.int.pool.ntp.org"] } });
    expect(res.errors).toEqual([]);
    expect(read(root, "/etc/chrony/chrony.conf")).toBe(fixture("chrony-servers-pools.conf"));
    expect(read(root, "/etc/systemd/timesyncd.conf.d/cloud-init.conf")).toBeNull();
  });

  it("ntp_client systemd-timesyncd with servers and pools: one NTP= line, servers first", async () => {
    root = machine(["lib/systemd/systemd-timesyncd", "usr/sbin/chronyd"]);
    const { res } = await runNtp(root, { ntp: { ntp_client: "systemd-timesyncd", servers: ["ntp.example.com"], pools: ["pool.example.com"] } });
    expect(res.errors).toEqual([]);
    expect(read(root, "/etc/systemd/timesyncd.conf.d/cloud-init.conf")).toBe(fixture("timesyncd-servers.conf"));
  });

  it("ntp_client ntp writes /etc/ntp.conf from the Debian template", async () => {
    root = machine(["usr/sbin/ntpd"]);
    const { res } = await runNtp(root, { ntp: { ntp_client: "ntp", servers: ["ntp.example.com"] } });
    expect(res.errors).toEqual([]);
    expect(read(root, "/etc/ntp.conf")).toBe(fixture("ntp-servers.conf"));
  });

  it("ntp on Debian 12 (ntpsec): /etc/ntp.conf as cloud-init writes it, and a note that ntpsec reads /etc/ntpsec/ntp.conf; confpath moves it there", async () => {
    root = machine(["usr/sbin/ntpd"], { "etc/ntpsec/ntp.conf": "# ntpsec's file\n" });
    let { res } = await runNtp(root, { ntp: { ntp_client: "ntp", servers: ["ntp.example.com"] } });
    expect(res.detail).toContain("this is ntpsec, which reads /etc/ntpsec/ntp.conf, not /etc/ntp.conf: set ntp.config.confpath: /etc/ntpsec/ntp.conf");
    ({ res } = await runNtp(root, { ntp: { ntp_client: "ntp", servers: ["ntp.example.com"], config: { confpath: "/etc/ntpsec/ntp.conf" } } }));
    expect(res.errors).toEqual([]);
    expect(res.detail).not.toContain("ntpsec, which reads");
    expect(read(root, "/etc/ntpsec/ntp.conf")).toBe(fixture("ntp-servers.conf"));
    expect(read(root, "/etc/ntpsec/ntp.conf.dist")).toBe("# ntpsec's file\n");
  });

  it("a program without the executable bit does not count as installed", async () => {
    root = tempRoot({ "usr/sbin/chronyd": "not a program" });
    root.write("lib/systemd/systemd-timesyncd", EXE, 0o755);
    const { res } = await runNtp(root, { ntp: {} });
    expect(res.detail).toMatch(/^systemd-timesyncd: wrote/);
  });

  it("peers and allow go into chrony's file; other clients say they are not used", async () => {
    root = machine(["usr/sbin/chronyd", "lib/systemd/systemd-timesyncd"]);
    let { res } = await runNtp(root, { ntp: { servers: ["ntp.example.com"], peers: ["peer1.example.com"], allow: ["192.0.2.0/24", "2001:db8::/32"] } });
    expect(res.errors).toEqual([]);
    expect(read(root, "/etc/chrony/chrony.conf")).toContain("# servers\nserver ntp.example.com iburst\npeer peer1.example.com\nallow 192.0.2.0/24\nallow 2001:db8::/32\n\n# This directive");
    ({ res } = await runNtp(root, { ntp: { ntp_client: "systemd-timesyncd", servers: ["ntp.example.com"], peers: ["peer1.example.com"] } }));
    expect(res.errors).toEqual([]);
    expect(res.detail).toContain("peers not used");
  });
});

describe("ntp: installing a missing client goes through package_update_upgrade_install's apt path", () => {
  it("no client installed: chrony is installed (apt-get update, install chrony, in the target) after its file is written", async () => {
    root = tempRoot();
    const { res, runs } = await runNtp(root, { ntp: {} });
    expect(res.errors).toEqual([]);
    expect(runs.map((a) => a.slice(0, 3).concat(a.slice(-2)))).toEqual([
      ["chroot", root.dir, "apt-get", "--quiet", "update"],
      ["chroot", root.dir, "apt-get", "install", "chrony"],
    ]);
    expect(read(root, "/etc/chrony/chrony.conf")).toBe(fixture("chrony-default.conf"));
    expect(res.detail).toContain("installed chrony");
  });

  it("apt-get fails: an error saying which package to preinstall; the file is written, no restart, the module returns", async () => {
    root = tempRoot();
    const { res, runs } = await runNtp(root, { ntp: { ntp_client: "chrony", servers: ["ntp.example.com"] } }, (argv) =>
      argv.includes("update") ? { code: 100, stderr: Buffer.from("E: Failed to fetch http://deb.debian.org/...  Temporary failure resolving\n") } : { code: 0 },
    );
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatch(/^the ntp client chrony is not installed and installing it failed \(apt-get update failed: E: Failed to fetch.*\); preinstall chrony in the image/);
    expect(runs).toHaveLength(1);
    expect(read(root, "/etc/chrony/chrony.conf")).toContain("server ntp.example.com iburst\n");
  });

  it("apt_get_command from the cloud-config is used, as the package module does", async () => {
    root = tempRoot();
    const { runs } = await runNtp(root, { ntp: { ntp_client: "ntp" }, apt_get_command: ["apt-get", "-y"] });
    expect(runs[1]).toEqual(["chroot", root.dir, "apt-get", "-y", "install", "ntp"]);
  });
});

describe("ntp: off, absent, and bad input (an error naming the entry, nothing written)", () => {
  it("no ntp key: skipped, nothing read or written", async () => {
    root = tempRoot();
    const { res, runs } = await runNtp(root, { timezone: "UTC" });
    expect(res.status).toBe("skipped");
    expect(runs).toEqual([]);
  });

  it("enabled: false (and the strings cloud-init takes as false) leave everything alone", async () => {
    for (const enabled of [false, "false", "no", "off", "0"]) {
      root = machine(["usr/sbin/chronyd"]);
      const { res } = await runNtp(root, { ntp: { enabled, servers: ["ntp.example.com"] } });
      expect(res.status).toBe("skipped");
      expect(read(root, "/etc/chrony/chrony.conf")).toBeNull();
      root.cleanup();
    }
  });

  const ORIGINAL = "# the package's file\n";
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an unknown ntp_client", { ntp_client: "chronyy" }, /^ntp\.ntp_client "chronyy" is not one of auto, chrony, ntp, ntpdate, openntpd, systemd-timesyncd: pick one of those, or describe your own client with ntp\.config/],
    ["servers not a list", { servers: "ntp.example.com" }, /^ntp\.servers must be a list of host names or addresses, e\.g\. \[ntp\.example\.com\], not "ntp\.example\.com"/],
    ["a server with a newline (config injection)", { servers: ["ntp.example.com\nallow all"] }, /^ntp\.servers\[0\] "ntp\.example\.com\\nallow all" is not a host name or address/],
    ["a pool with a space", { pools: ["ok.example.com", "0.pool.ntp.org maxsources 9"] }, /^ntp\.pools\[1\] "0\.pool\.ntp\.org maxsources 9" is not a host name/],
    ["a server that is a number", { servers: [123] }, /^ntp\.servers\[0\] 123 is not a host name/],
    ["an allow entry with a #", { allow: ["10.0.0.0/8 # lab"] }, /^ntp\.allow\[0\] "10\.0\.0\.0\/8 # lab" is not a network/],
    ["a template given as a path", { config: { template: "/etc/cloud/templates/chrony.conf.mine.tmpl" } }, /^ntp\.config\.template is the template's text, not a path: "\/etc\/cloud\/templates\/chrony\.conf\.mine\.tmpl" \(and there is no such file\)/],
    ["openntpd, which has no Debian template", { ntp_client: "openntpd" }, /^ntp\.ntp_client "openntpd" has no Debian template \(cloud-init has none either\): give its configuration as ntp\.config\.template/],
    ["a setting ntp.config does not have", { config: { conf_path: "/etc/x" } }, /^ntp\.config\.conf_path is not a setting of ntp\.config/],
    ["a relative confpath", { config: { confpath: "chrony.conf" } }, /^ntp\.config\.confpath must be an absolute path/],
    ["a package name with a space", { config: { packages: ["chrony ntp"] } }, /^ntp\.config\.packages must be a list of Debian package names/],
    ["a template with a statement sprout does not know", { config: { template: "## template:jinja\n{% include 'x' %}\n" } }, /^ntp\.config\.template: line 1: the statement "\{% include 'x' %\}" is not supported/],
    ["a template naming a variable cloud-init does not pass", { config: { template: "## template:jinja\nserver {{ server }}\n" } }, /^ntp\.config\.template: line 1: the template uses "server", but only servers, pools, peers, allow are defined/],
    ["a template with an unclosed if", { config: { template: "## template:jinja\n{% if servers %}\nx\n" } }, /^ntp\.config\.template: line 1: the "if" is never closed/],
  ];
  for (const [what, cfg, message] of bad) {
    it(`${what}: error, the existing file untouched, no .dist, nothing run`, async () => {
      root = machine(["usr/sbin/chronyd"], { "etc/chrony/chrony.conf": ORIGINAL });
      const { res, runs } = await runNtp(root, { ntp: cfg });
      expect(res.status).toBe("unchanged");
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatch(message);
      expect(res.errors![0]).toMatch(/; nothing written$/);
      expect(read(root, "/etc/chrony/chrony.conf")).toBe(ORIGINAL);
      expect(read(root, "/etc/chrony/chrony.conf.dist")).toBeNull();
      expect(runs).toEqual([]);
    });
  }

  it("every bad entry is named at once", async () => {
    root = machine(["usr/sbin/chronyd"]);
    const { res } = await runNtp(root, { ntp: { servers: ["a b", "ok"], pools: ["c\nd"] } });
    expect(res.errors!.map((e) => e.slice(0, 15))).toEqual(["ntp.servers[0] ", "ntp.pools[0] \"c"]);
  });

  it("ntp that is not a mapping is an error", async () => {
    root = tempRoot();
    const { res } = await runNtp(root, { ntp: ["ntp.example.com"] });
    expect(res.errors![0]).toMatch(/^ntp must be a mapping/);
  });

  it("a confpath that is a directory is an error, nothing written", async () => {
    root = machine(["usr/sbin/chronyd"]);
    root.write("etc/chrony/chrony.conf/keep", "x");
    const { res } = await runNtp(root, { ntp: {} });
    expect(res.errors![0]).toMatch(/^ntp\.config\.confpath \/etc\/chrony\/chrony\.conf is a dir, not a file; nothing written$/);
    expect(read(root, "/etc/chrony/chrony.conf/keep")).toBe("x");
  });
});

describe("ntp: sprout schema", () => {
  const problems = (text: string) => validateCloudConfig(text, { file: "user-data", requireHeader: true }).map((p) => `${p.path}: ${p.message}`);
  it("accepts both documented examples and every key", () => {
    expect(problems(fixture("docs-example1.yaml"))).toEqual([]);
    expect(problems(fixture("docs-example2.yaml"))).toEqual([]);
    expect(problems("#cloud-config\nntp:\n  servers: [ntp.example.com]\n  pools: [p.example.com]\n  peers: [peer.example.com]\n  allow: [192.0.2.0/24]\n")).toEqual([]);
    expect(problems("#cloud-config\nntp:\n")).toEqual([]);
  });
  it("names servers given as a string and a misspelt key", () => {
    const p = problems("#cloud-config\nntp:\n  servers: ntp.example.com\n  server: [x]\n  config: {conf_path: /x}\n");
    expect(p.join("\n")).toMatch(/ntp\.servers/);
    expect(p.join("\n")).toMatch(/server/);
    expect(p.join("\n")).toMatch(/conf_path/);
    expect(p.length).toBe(3);
  });
});

describe("ntp: the file it replaces, and the restart", () => {
  it("a confpath that is a symlink: .dist is the same link, the file is written in its place, the link's target untouched", async () => {
    root = machine(["usr/sbin/ntpd"], { "etc/ntpsec/ntp.conf": "# ntpsec's file\n" });
    symlinkSync("ntpsec/ntp.conf", join(root.dir, "etc/ntp.conf"));
    const { res } = await runNtp(root, { ntp: { ntp_client: "ntp", servers: ["ntp.example.com"] } });
    expect(res.errors).toEqual([]);
    expect(readlinkSync(join(root.dir, "etc/ntp.conf.dist"))).toBe("ntpsec/ntp.conf");
    expect(lstatSync(join(root.dir, "etc/ntp.conf")).isFile()).toBe(true);
    expect(read(root, "/etc/ntp.conf")).toBe(fixture("ntp-servers.conf"));
    expect(read(root, "/etc/ntpsec/ntp.conf")).toBe("# ntpsec's file\n");
  });

  /** The temp root, seen as the running system under systemd (the Runner still only records). */
  function underSystemd(r: TempRoot, answer: (argv: string[]) => { code: number; stderr?: Buffer }) {
    r.write("run/systemd/system/.keep", "");
    const base = r.host();
    // Claims to be the system root, but every method runs on the temp root itself (bound),
    // so paths still resolve under the temp folder, never on this machine's /.
    const systemRoot = new Proxy(base.root, {
      get: (t, p) => (p === "isSystemRoot" ? true : typeof Reflect.get(t, p) === "function" ? (Reflect.get(t, p) as (...a: unknown[]) => unknown).bind(t) : Reflect.get(t, p)),
    });
    const rec = recordingHost({ ...base, root: systemRoot, run: { ...base.run, which: (n: string) => (n === "systemctl" ? "/usr/bin/systemctl" : null) } }, { run: answer });
    return rec;
  }

  it("under systemd: systemctl reload-or-restart the client's service (as cloud-init's manage_service reload), after apt-get installed it", async () => {
    root = tempRoot();
    const rec = underSystemd(root, () => ({ code: 0 }));
    const res = await ntp.run({ ntp: { servers: ["ntp.example.com"] } }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(res.errors).toEqual([]);
    expect(rec.runs.map((x) => x.argv.filter((a) => !a.startsWith("-")))).toEqual([
      ["apt-get", "update"],
      ["apt-get", "install", "chrony"],
      ["systemctl", "reload-or-restart", "chrony"],
    ]);
    expect(res.detail).toMatch(/chrony restarted$/);
    expect(readFileSync(join(root.dir, "etc/chrony/chrony.conf"), "utf8")).toContain("server ntp.example.com iburst\n");
  });

  it("a restart that fails is an error saying the file is written; installed clients are not reinstalled", async () => {
    root = machine(["lib/systemd/systemd-timesyncd"]);
    const rec = underSystemd(root, (argv) => (argv[0] === "systemctl" ? { code: 1, stderr: Buffer.from("Job for systemd-timesyncd.service failed.\n") } : { code: 0 }));
    const res = await ntp.run({ ntp: {} }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(rec.runs.map((x) => x.argv)).toEqual([["systemctl", "reload-or-restart", "systemd-timesyncd"]]);
    expect(res.errors).toEqual(["`systemctl reload-or-restart systemd-timesyncd` failed (exit 1: Job for systemd-timesyncd.service failed.); the configuration is written, restart systemd-timesyncd by hand"]);
    expect(readFileSync(join(root.dir, "etc/systemd/timesyncd.conf.d/cloud-init.conf"), "utf8")).toBe(fixture("timesyncd-default.conf"));
  });
});
