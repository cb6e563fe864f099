import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Host } from "../../agent/host/types";
import { moduleContext, recordingHost } from "../../test/helpers/module-context";
import { asRunningSystem, tempRoot, type TempRoot } from "../../test/helpers/target";
import { updateHostname } from "../update_hostname";
import { hostsWithLoopbackName, setHostname } from ".";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));
function root(files: Record<string, string> = {}): TempRoot {
  const r = tempRoot({ "/etc/hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost\n", ...files });
  roots.push(r);
  return r;
}
const read = (r: TempRoot, p: string) => readFileSync(join(r.dir, p), "utf8");

describe("set_hostname", () => {
  it("uses meta-data local-hostname when cloud-config names none", async () => {
    const r = root();
    const res = await setHostname.run({}, moduleContext(r, { v1: { local_hostname: "web1" } }));
    expect(res.status).toBe("changed");
    expect(read(r, "/etc/hostname")).toBe("web1\n");
    expect(read(r, "/etc/hosts")).toBe("127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.1.1 web1\n");
  });

  it("uses the whole local-hostname (sprout.local_fqdn), where instance data's v1.local_hostname is the short name as in cloud-init", async () => {
    const r = root();
    await setHostname.run({}, moduleContext(r, { v1: { local_hostname: "web1" }, localFqdn: "web1.example.com" }));
    expect(read(r, "/etc/hostname")).toBe("web1\n");
    expect(read(r, "/etc/hosts")).toBe("127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.1.1 web1.example.com web1\n");
  });

  it("prefers cloud-config fqdn and hostname (cloud-init's documented example)", async () => {
    const r = root();
    await setHostname.run({ hostname: "myhost", fqdn: "myhost.example.com" }, moduleContext(r, { v1: { local_hostname: "ignored" } }));
    expect(read(r, "/etc/hostname")).toBe("myhost\n");
    expect(read(r, "/etc/hosts")).toContain("127.0.1.1 myhost.example.com myhost");
    await setHostname.run({ fqdn: "a.example.org", prefer_fqdn_over_hostname: true }, moduleContext(r, { v1: { local_hostname: null } }));
    expect(read(r, "/etc/hostname")).toBe("a.example.org\n");
  });

  it("replaces only the 127.0.1.1 line and keeps the rest of /etc/hosts", () => {
    const hosts = "# mine\n127.0.0.1 localhost\n127.0.1.1 old old.example\n10.0.0.5 db\n";
    expect(hostsWithLoopbackName(hosts, { short: "new", fqdn: "new", written: "new", source: "" })).toBe("# mine\n127.0.0.1 localhost\n127.0.1.1 new\n10.0.0.5 db\n");
  });

  it("skips with preserve_hostname or without a name, and refuses an invalid name", async () => {
    const r = root({ "/etc/hostname": "keep\n" });
    expect((await setHostname.run({ preserve_hostname: true, hostname: "x" }, moduleContext(r))).status).toBe("skipped");
    expect((await setHostname.run({}, moduleContext(r, { v1: { local_hostname: null } }))).status).toBe("skipped");
    // With no meta-data name to fall back on, nothing is written.
    await expect(setHostname.run({ hostname: "bad_name!" }, moduleContext(r, { v1: { local_hostname: null } }))).rejects.toThrow(/not a valid host name/);
    expect(read(r, "/etc/hostname")).toBe("keep\n");
  });

  it("a cloud-config name that cannot be a host name is reported, and the machine takes the meta-data's name instead", async () => {
    for (const [hostname, message] of [
      ["Web_01", 'hostname "Web_01" (from cloud-config hostname) is not a valid host name, so the meta-data\'s name web1 is used: use letters'],
      ["a".repeat(70), "is not a valid host name, so the meta-data's name web1 is used"],
      [12345, 'hostname: 12345 is not text (YAML reads it as a number); quote it: hostname: "12345"; the name used is web1'],
    ] as const) {
      const r = root();
      const ctx = moduleContext(r, { v1: { local_hostname: "web1" } });
      const res = await setHostname.run({ hostname }, ctx);
      expect(res.errors).toEqual([expect.stringContaining(message)]);
      expect(read(r, "/etc/hostname")).toBe("web1\n");
      expect(read(r, "/etc/hosts")).toContain("127.0.1.1 web1\n");
      // update_hostname applies the same name on later boots; the error is set_hostname's to report.
      expect((await updateHostname.run({ hostname }, ctx)).errors ?? []).toEqual([]);
    }
    const alone = root();
    await expect(setHostname.run({ hostname: 12345 }, moduleContext(alone, { v1: { local_hostname: null } }))).rejects.toThrow(/not text .* quote it/);
  });

  // cloud-init (util.get_hostname_fqdn, 22.4.2 and later; cc_set_hostname docs: "a
  // hostname can be specified using the hostname key, and the FQDN of the cloud will
  // be used"): a short hostname alone takes its FQDN from meta-data local-hostname.
  it("a short hostname alone takes the cloud's FQDN from meta-data (cloud-init's get_hostname_fqdn)", async () => {
    const r = root({ "/etc/hosts": "127.0.0.1 localhost\n" });
    await setHostname.run({ hostname: "web02" }, moduleContext(r, { v1: { local_hostname: "ip-10-0-0-7" }, localFqdn: "ip-10-0-0-7.ec2.internal" }));
    expect(read(r, "/etc/hostname")).toBe("web02\n");
    expect(read(r, "/etc/hosts")).toBe("127.0.0.1 localhost\n127.0.1.1 ip-10-0-0-7.ec2.internal web02\n");
    await setHostname.run({ hostname: "web03", prefer_fqdn_over_hostname: true }, moduleContext(r, { v1: { local_hostname: "md-name" }, localFqdn: "md-name.example.org" }));
    expect(read(r, "/etc/hostname")).toBe("md-name.example.org\n");
    // A meta-data name that is not a valid host name is not used; the user's name is.
    await setHostname.run({ hostname: "web04" }, moduleContext(r, { v1: { local_hostname: "bad_name" } }));
    expect(read(r, "/etc/hostname")).toBe("web04\n");
    expect(read(r, "/etc/hosts")).toBe("127.0.0.1 localhost\n127.0.1.1 web04\n");
  });

  it("does not create /etc/hostname when create_hostname_file is false", async () => {
    const r = root();
    await setHostname.run({ hostname: "h", create_hostname_file: false }, moduleContext(r));
    expect(() => read(r, "/etc/hostname")).toThrow();
  });
});

/**
 * A host on a temp root that says it is the running system, so the module sets the
 * "running" hostname: the temp root's /proc/sys/kernel/hostname, never this machine's.
 * Commands are recorded, not run.
 */
function liveHost(r: TempRoot): { host: Host; inPlace: string[]; runs: string[][] } {
  const base = r.host();
  const inPlace: string[] = [];
  const root = asRunningSystem(base.root, { writeInPlace: (p: string, data: string | Uint8Array) => (inPlace.push(p), base.root.writeInPlace(p, data)) });
  const rec = recordingHost({ ...base, root });
  return { host: rec.host, inPlace, runs: rec.runs.map((x) => x.argv) };
}

describe("the running hostname (the target is the running system)", () => {
  it("is set through the kernel's setting, without a process, and only when it differs", async () => {
    const r = root({ "/proc/sys/kernel/hostname": "localhost\n" });
    const live = liveHost(r);
    const res = await setHostname.run({ hostname: "web7" }, moduleContext(r, { host: live.host }));
    expect(res).toMatchObject({ status: "changed" });
    expect(res.errors).toBeUndefined();
    expect(read(r, "/proc/sys/kernel/hostname")).toBe("web7");
    expect(live.runs).toEqual([]);
    // update_hostname on the same boot finds the kernel's name right: no second write.
    expect((await updateHostname.run({ hostname: "web7" }, moduleContext(r, { host: live.host }))).errors).toBeUndefined();
    expect(live.inPlace).toEqual(["/proc/sys/kernel/hostname"]);
  });

  it("a refused write leaves /etc/hostname written and says why, and the boot goes on", async () => {
    const r = root();
    // A directory where the kernel's file is: the write fails as a refused one would.
    mkdirSync(join(r.dir, "proc/sys/kernel/hostname"), { recursive: true });
    const res = await setHostname.run({ hostname: "web8" }, moduleContext(r, { host: liveHost(r).host }));
    expect(res.status).toBe("changed");
    expect(res.errors).toEqual([expect.stringMatching(/^the running hostname could not be set to web8: EISDIR.*\/etc\/hostname is written, so the name takes effect at the next boot$/)]);
    expect(read(r, "/etc/hostname")).toBe("web8\n");
  });

  it("refuses a name longer than the kernel's 64 bytes instead of letting the kernel cut it", async () => {
    const r = root({ "/proc/sys/kernel/hostname": "localhost\n" });
    const fqdn = `${"a".repeat(40)}.${"b".repeat(30)}.example`;
    const res = await setHostname.run({ fqdn, prefer_fqdn_over_hostname: true }, moduleContext(r, { host: liveHost(r).host }));
    expect(res.errors).toEqual([expect.stringMatching(/kernel allows 64 bytes and it has 79; set a shorter hostname/)]);
    expect(read(r, "/proc/sys/kernel/hostname")).toBe("localhost\n");
    expect(read(r, "/etc/hostname")).toBe(`${fqdn}\n`);
  });
});

describe("update_hostname", () => {
  it("follows meta-data on later boots but leaves a hand-made change alone", async () => {
    const r = root();
    await setHostname.run({}, moduleContext(r, { v1: { local_hostname: "first" } }));
    await updateHostname.run({}, moduleContext(r, { v1: { local_hostname: "second" } }));
    expect(read(r, "/etc/hostname")).toBe("second\n");
    writeFileSync(join(r.dir, "etc/hostname"), "byhand\n");
    const res = await updateHostname.run({}, moduleContext(r, { v1: { local_hostname: "third" } }));
    expect(res.detail).toMatch(/changed by hand/);
    expect(read(r, "/etc/hostname")).toBe("byhand\n");
  });
});
