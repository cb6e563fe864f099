// The compat suite's normaliser and differ (pure): what counts as the same effect.
import { describe, expect, it } from "vitest";
import { sha512Crypt } from "../../agent/sha512-crypt";
import { diffEffects, effectsOf, explain, hashScheme, hostsLines, keyLines, lastChange, hostKeyFile, passwordState, sshdHostCertificates, sshdPasswordAuthentication, statusClass, sudoRules, unexplained, type BootOutcome, type RawEntry, type RawSnapshot, type SeedPasswords } from "./effects";

const PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP = "root:x:0:\nsudo:x:27:\nnogroup:x:65534:\n";
const SHADOW = "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const file = (path: string, content: string, extra: Partial<RawEntry> = {}): RawEntry => ({ path, kind: "file", mode: 0o644, uid: 0, gid: 0, existedBefore: false, size: content.length, b64: b64(content), ...extra });
const outcome = (agent: BootOutcome["agent"], statusCode: number, statusOutput = ""): BootOutcome => ({ agent, statusCode, statusOutput, visudoCode: 0, kernelHostname: "h" });

function snapshot(changed: RawEntry[], after: Partial<Record<string, string>> = {}): RawSnapshot {
  return {
    changed,
    before: { "/etc/passwd": PASSWD, "/etc/group": GROUP, "/etc/shadow": SHADOW },
    after: { "/etc/passwd": PASSWD, "/etc/group": GROUP, "/etc/shadow": SHADOW, ...after },
  };
}

describe("compat effects", () => {
  it("describes a new user by shell, home, groups and password state, with owners by name", () => {
    const fx = effectsOf(
      snapshot([file("/home/alice/.ssh/authorized_keys", "ssh-ed25519 B b\n\nssh-ed25519 A a\n", { mode: 0o600, uid: 1000, gid: 1000 }), file("/etc/app.conf", "x=1\n", { uid: 1000, gid: 27 })], {
        "/etc/passwd": PASSWD + "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n",
        "/etc/group": GROUP.replace("sudo:x:27:", "sudo:x:27:alice") + "alice:x:1000:\n",
        "/etc/shadow": SHADOW + "alice:!$6$salt$hash:19000:0:99999:7:::\n",
      }),
      outcome("sprout", 0),
    );
    expect(fx["user.alice.exists"]).toBe("yes (created)");
    expect(fx["user.alice.shell"]).toBe("/bin/bash");
    expect(fx["user.alice.groups"]).toBe("sudo");
    expect(fx["user.alice.primary-group"]).toBe("alice");
    expect(fx["user.alice.password"]).toBe("locked, hash $6$salt$hash");
    expect(fx["group.alice"]).toBe("created; members: ");
    expect(fx["group.sudo"]).toBe("existed; members: alice");
    expect(fx["user.root.exists"]).toBeUndefined();
    // Key order does not matter to sshd; blank lines are dropped.
    expect(fx["authorized_keys:/home/alice/.ssh/authorized_keys"]).toBe("ssh-ed25519 A a\nssh-ed25519 B b");
    expect(fx["authorized_keys:/home/alice/.ssh/authorized_keys.mode"]).toBe("0600 alice:alice");
    expect(fx["file:/etc/app.conf"]).toBe('file 0644 alice:sudo "x=1\\n"');
  });

  it("leaves out the agents' own state, logs, caches and the shadow tools' backups", () => {
    const fx = effectsOf(
      snapshot([file("/var/lib/cloud/instance/x", "1"), file("/var/lib/sprout/data/instance-id", "i"), file("/var/log/sprout.log", "{}"), file("/etc/passwd-", PASSWD), file("/var/cache/debconf/config.dat", "c"), file("/etc/.pwd.lock", ""), file("/var/tmp/out", "ran\n")]),
      outcome("cloud-init", 0, "status: done\n"),
    );
    expect(Object.keys(fx).filter((k) => k.startsWith("file:"))).toEqual(["file:/var/tmp/out"]);
  });

  it("compares sudo rules whatever the file and comments, and hosts without comments or repeated names", () => {
    expect(sudoRules(["# Created by cloud-init v. 22.4.2 on a date\n\n# User rules for debian\ndebian ALL=(ALL) NOPASSWD:ALL\n", "#includedir /x\nalice  ALL=(ALL)   ALL\n"])).toEqual(["#includedir /x", "alice ALL=(ALL) ALL", "debian ALL=(ALL) NOPASSWD:ALL"]);
    expect(hostsLines("# managed\n127.0.1.1 web web\n127.0.0.1\tlocalhost # loopback\n")).toBe("127.0.1.1 web\n127.0.0.1 localhost");
    expect(keyLines("# comment\nssh-rsa B\n ssh-rsa A \n")).toBe("ssh-rsa A\nssh-rsa B");
  });

  it("reads PasswordAuthentication as sshd does: the first value, drop-ins where the Include is", () => {
    const main = "Include /etc/ssh/sshd_config.d/*.conf\n#PasswordAuthentication yes\nPasswordAuthentication yes\n";
    expect(sshdPasswordAuthentication(main, [])).toBe("yes");
    expect(sshdPasswordAuthentication(main, ["PasswordAuthentication no\n"])).toBe("no");
    expect(sshdPasswordAuthentication("#PasswordAuthentication yes\n", [])).toMatch(/^\(unset/);
    expect(sshdPasswordAuthentication(null, [])).toBe("(no sshd_config)");
  });

  it("reads every HostCertificate line, main file and drop-ins", () => {
    expect(sshdHostCertificates("Port 22\nHostCertificate /etc/ssh/a-cert.pub\n", ["  hostcertificate /etc/ssh/b-cert.pub\n"])).toBe("/etc/ssh/a-cert.pub,/etc/ssh/b-cert.pub");
    expect(sshdHostCertificates(null, [])).toBe("(none)");
    expect(sshdHostCertificates("#HostCertificate /x\n", [])).toBe("(none)");
  });

  it("tells host keys the seed gives from generated ones, whatever YAML did to the line breaks", () => {
    const priv = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACC\n-----END OPENSSH PRIVATE KEY-----\n";
    const seed = `ssh_keys:\n  ed25519_private: |\n    ${priv.trimEnd().split("\n").join("\n    ")}\n  ed25519_public: ssh-ed25519 AAAAPUB host\n`;
    expect(hostKeyFile("/etc/ssh/ssh_host_ed25519_key", priv, null, seed)).toBe("given in the seed");
    expect(hostKeyFile("/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAAPUB host", priv, seed)).toBe("given in the seed (no final newline)");
    expect(hostKeyFile("/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAAOTHER root@localhost\n", priv, seed)).toBe("derived from the given private key: ssh-ed25519 AAAAOTHER root@localhost");
    expect(hostKeyFile("/etc/ssh/ssh_host_rsa_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nrandom\n", null, seed)).toBe("generated");
    expect(hostKeyFile("/etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa AAAAR root@x\n", "-----BEGIN OPENSSH PRIVATE KEY-----\nrandom\n", seed)).toBe("generated");
    expect(hostKeyFile("/etc/ssh/ssh_host_rsa_key", "", null, seed)).toBe("generated");
  });

  it("names password states", () => {
    expect(passwordState("!")).toBe("locked, no password");
    expect(passwordState("*")).toBe("locked, no password");
    expect(passwordState("")).toBe("empty password");
    expect(passwordState("$6$s$h")).toBe("hash $6$s$h");
    expect(passwordState(undefined)).toBe("(no shadow entry)");
  });

  describe("passwords: which one is set, not its salted hash", () => {
    // crypt(3) for $6$ hashes, as the suite's perl check does for every scheme.
    const verify = (plain: string, hash: string) => hash.startsWith("$6$") && sha512Crypt(plain, hash.split("$")[2]) === hash;
    const seedHash = sha512Crypt("from-the-seed", "seedsalt");
    const known: SeedPasswords = { plaintexts: ["password1", "other"], seedText: `#cloud-config\npassword: password1\nchpasswd: {users: [{name: u2, password: '${seedHash}'}]}\n`, verify };

    it("two hashes of the same password with different salts read the same, with their scheme", () => {
      const a = passwordState(sha512Crypt("password1", "saltA"), known);
      expect(a).toBe('password "password1" (sha512crypt)');
      expect(passwordState(sha512Crypt("password1", "saltB"), known)).toBe(a);
      expect(passwordState(`!${sha512Crypt("other", "s")}`, known)).toBe('locked, password "other" (sha512crypt)');
    });

    it("a wrong password, or a generated one, is one the seed does not give; a hash the seed writes stays that hash", () => {
      expect(passwordState(sha512Crypt("password2", "saltA"), known)).toBe("a password the seed does not give, e.g. a generated one (sha512crypt)");
      expect(passwordState(sha512Crypt("password1", "saltA"), known)).not.toBe(passwordState(sha512Crypt("password2", "saltA"), known));
      expect(passwordState(seedHash, known)).toBe(`hash ${seedHash}`);
      expect(passwordState("$y$j9T$salt$hash", known)).toBe("a password the seed does not give, e.g. a generated one (yescrypt)");
      // Without what the case declares, hashes are compared as they are.
      expect(passwordState(sha512Crypt("password1", "saltA"))).toMatch(/^hash \$6\$saltA\$/);
    });

    it("names hash schemes", () => {
      expect(["$y$j9T$a$b", "$6$a$b", "$5$a$b", "$1$a$b", "$2b$10$x", "$gy$a$b$c", "abcdefghijklm", "plain text"].map(hashScheme)).toEqual(["yescrypt", "sha512crypt", "sha256crypt", "md5crypt", "bcrypt", "gost-yescrypt", "des", "not a crypt hash"]);
    });

    it("the last change: expired (0), the day of the boot, unchanged, or the day written", () => {
      expect(lastChange("0", "19000", 20784)).toMatch(/^0: expired/);
      expect(lastChange("20784", "19000", 20784)).toBe("the day of the boot");
      expect(lastChange("20783", undefined, 20784)).toBe("the day of the boot");
      expect(lastChange("19000", "19000", 20784)).toBe("19000 (unchanged)");
      expect(lastChange("12345", "19000", 20784)).toBe("12345");
      expect(lastChange("", "19000", 20784)).toMatch(/^\(empty/);
    });

    it("a user whose password the boot set shows the password, its last change and its ageing", () => {
      const raw = snapshot([], {
        "/etc/passwd": PASSWD + "debian:x:1000:1000:Debian:/home/debian:/bin/bash\n",
        "/etc/shadow": SHADOW + `debian:${sha512Crypt("password1", "x")}:0:0:99999:7:::\n`,
      });
      raw.before["/etc/passwd"] = raw.after["/etc/passwd"]!;
      raw.before["/etc/shadow"] = SHADOW + "debian:!:19000:0:99999:7:::\n";
      raw.today = 20784;
      const fx = effectsOf(raw, outcome("sprout", 0), known);
      expect(fx["user.debian.exists"]).toBe("yes (before the boot)");
      expect(fx["user.debian.password"]).toBe('password "password1" (sha512crypt)');
      expect(fx["user.debian.password-changed"]).toMatch(/^0: expired/);
      expect(fx["user.debian.password-ageing"]).toBe("0:99999:7::");
    });
  });

  it("maps both agents' status to done or errors reported", () => {
    expect(statusClass(outcome("cloud-init", 0, "status: done\n"))).toBe("done");
    expect(statusClass(outcome("cloud-init", 1, "status: error\n"))).toBe("errors reported");
    expect(statusClass(outcome("sprout", 0))).toBe("done");
    expect(statusClass(outcome("sprout", 2))).toBe("errors reported");
    expect(statusClass(outcome("sprout", 1))).toBe("errors reported");
  });

  it("host keys by type, deleted files, links and new folders", () => {
    const fx = effectsOf(
      snapshot([
        file("/etc/ssh/ssh_host_ed25519_key", "k", { mode: 0o600 }),
        file("/etc/ssh/ssh_host_ed25519_key.pub", "p"),
        { path: "/etc/old", kind: "deleted", existedBefore: true },
        { path: "/etc/localtime", kind: "link", target: "/usr/share/zoneinfo/Europe/Berlin", existedBefore: true, mode: 0o777, uid: 0, gid: 0 },
        { path: "/opt/app", kind: "dir", mode: 0o755, uid: 0, gid: 0, existedBefore: false, unchanged: false },
        { path: "/etc", kind: "dir", mode: 0o755, uid: 0, gid: 0, existedBefore: true, unchanged: true },
      ]),
      outcome("sprout", 0),
    );
    expect(fx["ssh.host-keys"]).toBe("ed25519");
    expect(fx["file:/etc/old"]).toBe("deleted");
    expect(fx["timezone.localtime"]).toBe("-> /usr/share/zoneinfo/Europe/Berlin");
    expect(fx["file:/opt/app"]).toBe("dir 0755 root:root");
    expect(fx["file:/etc"]).toBeUndefined();
  });

  it("diffs key by key and explains only what an intentional rule matches", () => {
    const ds = diffEffects({ a: "1", b: "same", c: "x" }, { a: "2", b: "same", d: "y" });
    expect(ds).toEqual([
      { key: "a", cloudInit: "1", sprout: "2" },
      { key: "c", cloudInit: "x", sprout: undefined },
      { key: "d", cloudInit: undefined, sprout: "y" },
    ]);
    const rules = [
      { key: /^a$/, cloudInit: /^1$/, sprout: /^2$/, reason: "a differs on purpose" },
      { cases: /^other case$/, key: /^c$/, reason: "only elsewhere" },
      { key: /^d$/, cloudInit: /^\(absent\)$/, reason: "sprout adds d" },
    ];
    expect(explain("case", ds[0]!, rules)?.reason).toBe("a differs on purpose");
    expect(unexplained("case", ds, rules).map((d) => d.key)).toEqual(["c"]);
    expect(unexplained("other case", ds, rules)).toEqual([]);
  });
});
