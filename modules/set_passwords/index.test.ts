import { afterEach, describe, expect, it } from "vitest";
import type { FileStat, Host } from "../../agent/host/types";
import { sha512Crypt } from "../../agent/sha512-crypt";
import { sprout } from "../../test/helpers/cli";
import { ETC_FILES, moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { cryptMethod, randomPassword, randomPasswordsBlurb, setPasswords } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

const which = (n: string) => recordingHost(tempRoot().host()).host.run.which(n);
// chpasswd --root chroots: it needs root, as sprout has at boot.
const canChpasswd = process.getuid?.() === 0 && which("chpasswd") !== null;
const why = canChpasswd ? "" : " (skipped: needs root and chpasswd from the passwd package)";

const SHA512 = "$6$rounds=4096$5DJ8a9WMTEzIo5J4$Yms6imfeBvf3Yfu84mQBerh18l7OR1Wm1BJXZqFSpJ6BVas0AYJqIjP7czkOaAZHZi1kxQ5Y1IhgWN8K9NgxR1";
const OLD_DAY = "19000";

/** A target with the default user and two more, all with locked passwords set on day 19000. */
function machine(): TempRoot {
  const users = ["debian:x:1000:1000:Debian:/home/debian:/bin/bash", "alice:x:1001:1001::/home/alice:/bin/sh", "bob:x:1002:1002::/home/bob:/bin/sh"];
  return tempRoot({
    ...ETC_FILES,
    "etc/passwd": ETC_FILES["etc/passwd"] + users.join("\n") + "\n",
    "etc/shadow": ETC_FILES["etc/shadow"] + ["debian", "alice", "bob"].map((u) => `${u}:!:${OLD_DAY}:0:99999:7:::`).join("\n") + "\n",
  });
}

function shadow(user: string): string[] {
  const line = root.host().root.readText("/etc/shadow").split("\n").find((l) => l.startsWith(`${user}:`));
  return line!.split(":");
}

/** Whether the password field of `user` is the SHA-512 crypt of `plain` (no PAM in a temp root: chpasswd -c SHA512). */
function verifies(user: string, plain: string): boolean {
  const hash = shadow(user)[1]!;
  return hash.startsWith("$6$") && sha512Crypt(plain, hash.split("$")[2]) === hash;
}

/** The Host with a /dev/console that records what is written to it. */
function withConsole(h: Host): { host: Host; written: string[] } {
  const written: string[] = [];
  const consoleStat: FileStat = { kind: "char", size: 0, mode: 0o620, uid: 0, gid: 5, mtimeMs: 0 };
  const root = new Proxy(h.root, {
    get(target, prop) {
      if (prop === "stat") return (p: string) => (p === "/dev/console" ? consoleStat : target.stat(p));
      if (prop === "append") return (p: string, data: string, mode?: number) => (p === "/dev/console" ? void written.push(String(data)) : target.append(p, data, mode));
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { host: { ...h, root }, written };
}

describe("set_passwords", () => {
  it("does nothing, and runs nothing, without password or chpasswd", async () => {
    root = machine();
    const rec = recordingHost(root.host());
    const res = await setPasswords.run({ users: ["default"], ssh_pwauth: true }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(res.status).toBe("skipped");
    expect(rec.runs).toEqual([]);
  });

  it("on a target root: chpasswd --root with the image's hash method, hashes with --encrypted; passwords only on stdin", async () => {
    root = machine();
    root.write("etc/pam.d/common-password", "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n");
    const rec = recordingHost(root.host());
    const res = await setPasswords.run(
      { chpasswd: { expire: false, users: [{ name: "alice", password: "alice-secret", type: "text" }, { name: "bob", password: SHA512 }, { name: "debian", type: "RANDOM" }] } },
      moduleContext(root, { host: rec.host, stage: "config" }),
    );
    expect(res.errors).toEqual([]);
    expect(rec.runs.map((r) => r.argv)).toEqual([
      ["chpasswd", "--root", root.dir, "--crypt-method", "YESCRYPT"],
      ["chpasswd", "--root", root.dir, "--encrypted"],
    ]);
    expect(rec.runs[0]!.opts.input).toMatch(/^alice:alice-secret\ndebian:[A-Za-z2-9]{20}\n$/);
    expect(rec.runs[1]!.opts.input).toBe(`bob:${SHA512}\n`);
    for (const r of rec.runs) expect(r.argv.join(" ")).not.toMatch(/secret|\$6\$/);
    expect(res.detail).toMatch(/password set for alice \(text\), debian \(generated\), bob \(hash\)/);
  });

  it("takes the hash method from pam_unix, else login.defs, else SHA-512", () => {
    expect(cryptMethod("password [success=1 default=ignore] pam_unix.so obscure sha512\n", "ENCRYPT_METHOD YESCRYPT\n")).toBe("SHA512");
    expect(cryptMethod("# pam_unix.so yescrypt\npassword requisite pam_deny.so\n", "ENCRYPT_METHOD SHA256\n")).toBe("SHA256");
    expect(cryptMethod(null, null)).toBe("SHA512");
  });

  it("generates cloud-init's passwords (20 letters and digits, none easily misread) and prints them in its words", () => {
    const pws = Array.from({ length: 50 }, () => randomPassword());
    for (const p of pws) expect(p).toMatch(/^[a-km-zA-HJ-KM-NP-Z2-9]{20}$/);
    expect(new Set(pws).size).toBe(50);
    expect(randomPasswordsBlurb([{ user: "u3", password: "abc" }, { user: "u4", password: "def" }])).toBe("Set the following 'random' passwords\n\nu3:abc\nu4:def\n");
  });

  it.skipIf(!canChpasswd)(`password: sets the default user's password and expires it (cloud-init's default)${why}`, async () => {
    root = machine();
    const res = await setPasswords.run({ password: "passw0rd" }, moduleContext(root, "config"));
    expect(res.errors).toEqual([]);
    expect(verifies("debian", "passw0rd")).toBe(true);
    // passwd --expire: the last change on day 0, so login asks for a new password.
    expect(shadow("debian").slice(2)).toEqual(["0", "0", "99999", "7", "", "", ""]);
    expect(res.detail).toMatch(/expired \(a new password is asked at the next login\): debian/);
    expect(shadow("alice")[1]).toBe("!");
  });

  it.skipIf(!canChpasswd)(`the OVF environment's password (hashed in ds.default_user) is set for the default user, expiring unless chpasswd.expire is false${why}`, async () => {
    root = machine();
    const ovf = { instance: { v1: { instance_id: "iid-ovf" }, ds: { default_user: { hashed_passwd: SHA512 } } }, stage: "config" } as const;
    let res = await setPasswords.run({}, moduleContext(root, ovf));
    expect(res.errors).toEqual([]);
    expect(shadow("debian").slice(1, 3)).toEqual([SHA512, "0"]);
    root.cleanup();
    root = machine();
    res = await setPasswords.run({ chpasswd: { expire: false } }, moduleContext(root, ovf));
    expect(shadow("debian")[1]).toBe(SHA512);
    expect(Number(shadow("debian")[2])).toBeGreaterThan(Number(OLD_DAY));
  });

  it.skipIf(!canChpasswd)(`the OVF environment's password RANDOM: one is generated for the default user and shown on the console${why}`, async () => {
    root = machine();
    const { host, written } = withConsole(root.host());
    const res = await setPasswords.run({}, moduleContext(root, { host, instance: { v1: { instance_id: "iid-ovf" }, ds: { default_user: { random_passwd: true } } }, stage: "config" }));
    expect(res.errors).toEqual([]);
    const shown = /^debian:(\S+)$/m.exec(written.join(""))?.[1];
    expect(shown).toBeDefined();
    expect(verifies("debian", shown!)).toBe(true);
    expect(shadow("debian")[2]).toBe("0");
  });

  it.skipIf(!canChpasswd)(`chpasswd.expire false keeps the day chpasswd set; a locked default user is unlocked by its new password${why}`, async () => {
    root = machine();
    const res = await setPasswords.run({ password: "passw0rd", chpasswd: { expire: false } }, moduleContext(root, "config"));
    expect(res.errors).toEqual([]);
    expect(verifies("debian", "passw0rd")).toBe(true);
    const today = Math.floor(Date.now() / 86_400_000);
    expect(Number(shadow("debian")[2])).toBeGreaterThanOrEqual(today - 1);
    expect(res.detail).not.toMatch(/expired/);
  });

  it.skipIf(!canChpasswd)(`chpasswd users: text, hash and RANDOM, expired all; the generated one on the console only${why}`, async () => {
    root = machine();
    const { host, written } = withConsole(root.host());
    const res = await setPasswords.run(
      { chpasswd: { users: [{ name: "alice", password: "alice-pw", type: "text" }, { name: "bob", password: SHA512 }, { name: "debian", type: "RANDOM" }] } },
      moduleContext(root, { host, stage: "config" }),
    );
    expect(res.errors).toEqual([]);
    expect(verifies("alice", "alice-pw")).toBe(true);
    expect(shadow("bob")[1]).toBe(SHA512);
    expect(written).toHaveLength(1);
    const m = /^Set the following 'random' passwords\n\ndebian:([A-Za-z0-9]{20})\n$/.exec(written[0]!);
    expect(m).not.toBeNull();
    expect(verifies("debian", m![1]!)).toBe(true);
    // cloud-init 22.4.2 expires hashed passwords too (EXPIRE_APPLIES_TO_HASHED_USERS).
    for (const u of ["alice", "bob", "debian"]) expect(shadow(u)[2], u).toBe("0");
    expect(res.detail).toContain("shown on /dev/console");
    const log = root.host().root.readText("/var/log/sprout.log");
    for (const secret of ["alice-pw", m![1]!]) {
      expect(log).not.toContain(secret);
      expect(JSON.stringify(res)).not.toContain(secret);
    }
  });

  it.skipIf(!canChpasswd)(`the deprecated list form: lines of a string, R, hashes; a generated password without a console is set, not shown, never logged${why}`, async () => {
    root = machine();
    const res = await setPasswords.run({ chpasswd: { expire: false, list: `alice:list-pw\nbob:${SHA512}\ndebian:R\n` } }, moduleContext(root, "config"));
    expect(res.errors).toEqual([]);
    expect(verifies("alice", "list-pw")).toBe(true);
    expect(shadow("bob")[1]).toBe(SHA512);
    expect(shadow("debian")[1]).toMatch(/^\$6\$/);
    expect(res.detail).toMatch(/generated password of debian was set but cannot be shown: there is no \/dev\/console/);
    expect(res.detail).toMatch(/chpasswd\.list is deprecated/);
    expect(root.host().root.readText("/var/log/sprout.log")).toMatch(/chpasswd\.list is deprecated/);
  });

  it.skipIf(!canChpasswd)(`bad entries are reported with what to do; every other user still gets its password${why}`, async () => {
    root = machine();
    const res = await setPasswords.run(
      {
        chpasswd: {
          expire: false,
          users: [
            { name: "nosuchuser", password: "pw1", type: "text" },
            { name: "alice", password: "alice-pw", type: "text" },
            { name: "bob", password: 47.11, type: "text" },
            { name: "debian", password: "x", type: "plain" },
            { name: "ghost", password: SHA512 },
            { name: "bob", password: SHA512 },
          ],
        },
      },
      moduleContext(root, "config"),
    );
    expect(res.status).toBe("changed");
    expect(res.errors).toEqual([
      expect.stringMatching(/chpasswd\.users\[2\] \(bob\): password is a number that is not a whole one, not text; quote it/),
      expect.stringMatching(/chpasswd\.users\[3\] \(debian\): type "plain" is not one of text, hash or RANDOM/),
      expect.stringMatching(/^user nosuchuser does not exist, so its password was not set: create it with users:/),
      expect.stringMatching(/^user ghost does not exist/),
    ]);
    expect(verifies("alice", "alice-pw")).toBe(true);
    // chpasswd -e drops every line when one user is unknown: the unknown one never reaches it.
    expect(shadow("bob")[1]).toBe(SHA512);
    expect(shadow("debian")[1]).toBe("!");
  });

  it.skipIf(!canChpasswd)(`a malformed list line is reported by its position; the other lines are set${why}`, async () => {
    root = machine();
    const res = await setPasswords.run({ chpasswd: { list: ["alice:alice-pw", "bob secret", "debian:"] } }, moduleContext(root, "config"));
    expect(res.errors).toEqual([expect.stringMatching(/chpasswd\.list\[1\] is not "user:password" \(no colon\)/), expect.stringMatching(/chpasswd\.list\[2\] \(debian\): no password after the colon/)]);
    expect(res.errors!.join()).not.toContain("secret");
    expect(verifies("alice", "alice-pw")).toBe(true);
  });

  it("password: with no default user in users: is a warning, and nothing is set", async () => {
    root = machine();
    const rec = recordingHost(root.host());
    const res = await setPasswords.run({ users: [{ name: "alice" }], password: "pw" }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(res.errors).toEqual([]);
    expect(res.detail).toMatch(/users: leaves it out; nobody's password was set/);
    expect(rec.runs).toEqual([]);
  });

  it("chpasswd that cannot run is an error that says what to install; nothing is expired", async () => {
    root = machine();
    const rec = recordingHost(root.host(), { run: () => ({ code: null, spawnError: "spawn chpasswd ENOENT" }) });
    const res = await setPasswords.run({ password: "pw" }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(res.errors).toEqual([expect.stringMatching(/^chpasswd --root .* failed for debian: spawn chpasswd ENOENT \(install the passwd package\)$/)]);
    expect(shadow("debian")[2]).toBe(OLD_DAY);
  });

  it("a target without /etc/passwd: an error, nothing run", async () => {
    root = tempRoot({ "etc/os-release": "ID=debian\n" });
    const rec = recordingHost(root.host());
    const res = await setPasswords.run({ password: "pw" }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(res.errors).toEqual([expect.stringMatching(/no \/etc\/passwd: the passwords of debian were not set/)]);
    expect(rec.runs).toEqual([]);
  });
});

describe.skipIf(!canChpasswd || !which("useradd"))("a boot with the most common password seed", () => {
  it("password + chpasswd expire false + ssh_pwauth true: the default user logs in with that password; nothing secret in the log or status", () => {
    root = tempRoot({ ...ETC_FILES, "etc/ssh/sshd_config": "PasswordAuthentication no\n" });
    root.write("var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-pw-1\n");
    root.write("var/lib/cloud/seed/nocloud/user-data", "#cloud-config\npassword: Sprout-Login-1\nchpasswd: { expire: false }\nssh_pwauth: true\n");
    const r = sprout(["--root", root.dir, "boot"], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(verifies("debian", "Sprout-Login-1")).toBe(true);
    expect(shadow("debian")[2]).not.toBe("0");
    expect(root.host().root.readText("/etc/ssh/sshd_config")).toMatch(/^PasswordAuthentication yes$/m);
    for (const f of ["/var/log/sprout.log", "/run/sprout/status.json", "/run/sprout/instance-data.json"]) expect(root.host().root.readText(f), f).not.toContain("Sprout-Login-1");
  });
});
