import { describe, expect, it } from "vitest";
import { validateCloudConfig } from "../../agent/schema/validate";
import { looksHashed, planPasswords } from "./plan";

const SHA512 = "$6$rounds=4096$5DJ8a9WMTEzIo5J4$Yms6imfeBvf3Yfu84mQBerh18l7OR1Wm1BJXZqFSpJ6BVas0AYJqIjP7czkOaAZHZi1kxQ5Y1IhgWN8K9NgxR1";
const YESCRYPT = "$y$j9T$09eFz5bheVieHlgrhT/o50$Go4AknwNTx6VeUmtj732e7/hHusMXpJ5AUOL1r1LTQ/";

describe("set_passwords plan (what cloud-config asks for)", () => {
  it("password: goes to the default user, expiring by default (cloud-init's default)", () => {
    expect(planPasswords({ password: "passw0rd" }, "debian")).toEqual({ changes: [{ user: "debian", kind: "text", value: "passw0rd" }], expire: true, errors: [], warnings: [], deprecations: [] });
    expect(planPasswords({ password: SHA512, chpasswd: { expire: false } }, "debian").changes).toEqual([{ user: "debian", kind: "hash", value: SHA512 }]);
    expect(planPasswords({ password: "x", chpasswd: { expire: false } }, "debian").expire).toBe(false);
  });

  it("password: RANDOM (or R) asks for a generated password, as in chpasswd's list: never the word itself as the password", () => {
    for (const word of ["RANDOM", "R"]) expect(planPasswords({ password: word }, "debian").changes, word).toEqual([{ user: "debian", kind: "random" }]);
    // Only the exact words, as cloud-init compares them.
    expect(planPasswords({ password: "random" }, "debian").changes).toEqual([{ user: "debian", kind: "text", value: "random" }]);
  });

  it("expire reads booleans as cloud-init does (strings true/yes/on/1, anything else false)", () => {
    for (const [v, want] of [[false, false], [true, true], ["no", false], ["false", false], ["yes", true], ["On", true], [0, false], [null, false]] as const) {
      expect(planPasswords({ chpasswd: { expire: v } }, "debian").expire, String(v)).toBe(want);
    }
  });

  it("password: without a default user is a warning (as cloud-init logs it), not a change", () => {
    const p = planPasswords({ password: "x" }, null);
    expect(p.changes).toEqual([]);
    expect(p.errors).toEqual([]);
    expect(p.warnings[0]).toMatch(/add "default" to users:/);
    expect(JSON.stringify(p)).not.toContain('"x"');
  });

  it("the datasource's password (OVF's) is cloud-init's lowest password: the default user's, under cloud-config's password: and chpasswd", () => {
    const ovfHash = { kind: "hash", value: SHA512 } as const;
    expect(planPasswords({}, "debian", ovfHash)).toEqual({ changes: [{ user: "debian", kind: "hash", value: SHA512 }], expire: true, errors: [], warnings: [], deprecations: [] });
    expect(planPasswords({}, "debian", { kind: "random" }).changes).toEqual([{ user: "debian", kind: "random" }]);
    // chpasswd.expire applies to it, as to password:.
    expect(planPasswords({ chpasswd: { expire: false } }, "debian", ovfHash).expire).toBe(false);
    expect(planPasswords({ password: "from-user-data" }, "debian", ovfHash).changes).toEqual([{ user: "debian", kind: "text", value: "from-user-data" }]);
    expect(planPasswords({ chpasswd: { users: [{ name: "alice", password: "a", type: "text" }] } }, "debian", ovfHash).changes).toEqual([{ user: "alice", kind: "text", value: "a" }]);
    expect(planPasswords({}, null, ovfHash).changes).toEqual([]);
  });

  it("password: is ignored when chpasswd gives users or list", () => {
    const p = planPasswords({ password: "ignored", chpasswd: { users: [{ name: "alice", password: "a", type: "text" }] } }, "debian");
    expect(p.changes).toEqual([{ user: "alice", kind: "text", value: "a" }]);
    expect(p.warnings[0]).toMatch(/password: is ignored/);
    expect(planPasswords({ password: "ignored", chpasswd: { list: ["bob:b"] } }, "debian").changes).toEqual([{ user: "bob", kind: "text", value: "b" }]);
  });

  it("chpasswd.users: type defaults to hash; text and RANDOM; RANDOM needs no password", () => {
    const p = planPasswords(
      { chpasswd: { users: [{ name: "u1", password: "password1", type: "text" }, { name: "u2", password: SHA512 }, { name: "u3", type: "RANDOM" }, { name: "u4", password: "!" }] } },
      null,
    );
    expect(p.changes).toEqual([
      { user: "u1", kind: "text", value: "password1" },
      { user: "u2", kind: "hash", value: SHA512 },
      { user: "u3", kind: "random" },
      { user: "u4", kind: "hash", value: "!" },
    ]);
    expect(p.errors).toEqual([]);
    expect(p.deprecations).toEqual([]);
  });

  it("chpasswd.list: a list or the lines of a string (both deprecated), R/RANDOM, hashes detected", () => {
    const fromList = planPasswords({ chpasswd: { list: ["a:plain", `b:${SHA512}`, "c:R", "d:RANDOM", `e:${YESCRYPT}`, "f:pass:with:colons"] } }, null);
    expect(fromList.changes).toEqual([
      { user: "a", kind: "text", value: "plain" },
      { user: "b", kind: "hash", value: SHA512 },
      { user: "c", kind: "random" },
      { user: "d", kind: "random" },
      { user: "e", kind: "hash", value: YESCRYPT },
      { user: "f", kind: "text", value: "pass:with:colons" },
    ]);
    expect(fromList.deprecations).toHaveLength(1);
    const fromString = planPasswords({ chpasswd: { list: "a:plain\r\n\nc:R\n" } }, null);
    expect(fromString.changes).toEqual([{ user: "a", kind: "text", value: "plain" }, { user: "c", kind: "random" }]);
    expect(fromString.deprecations).toHaveLength(2);
  });

  it("detects hashes as cloud-init's list does, plus yescrypt and the other schemes Debian makes", () => {
    for (const h of [SHA512, YESCRYPT, "$1$salt$hash", "$5$salt$hash", "$2b$10$abcdefghijklmnopqrstuu", "$gy$j9T$s$h"]) expect(looksHashed(h), h).toBe(true);
    for (const p of ["password", "$6$onlyone", "$6$a$b:c", "$x$a$b", "6$a$b"]) expect(looksHashed(p), p).toBe(false);
  });

  describe("bad input: each entry reported with what to do, never with its password; the others kept", () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["a malformed list line (no colon)", { list: ["good:pw", "nocolonsecret"] }, /chpasswd\.list\[1\] is not "user:password" \(no colon\)/],
      ["a list line without a password", { list: ["good:pw", "bad:"] }, /chpasswd\.list\[1\] \(bad\): no password after the colon; write bad:PASSWORD/],
      ["a list line YAML read as a mapping", { list: ["good:pw", { bad: "secretvalue" }] }, /with a space after the colon.*write bad:PASSWORD without the space/],
      ["a string line whose user is not a login name", { list: "good:pw\nmy secret:x\n" }, /line 2: the text before the first colon is not a login name/],
      ["a password that YAML read as a fraction", { users: [{ name: "good", password: "pw", type: "text" }, { name: "bad", password: 1.5, type: "text" }] }, /users\[1\] \(bad\): password is a number that is not a whole one, not text; quote it/],
      ["a password that YAML read as a boolean", { users: [{ name: "good", password: "pw", type: "text" }, { name: "bad", password: true, type: "text" }] }, /users\[1\] \(bad\): password is a YAML boolean \(true\), not text; quote it/],
      ["an unknown type", { users: [{ name: "good", password: "pw", type: "text" }, { name: "bad", password: "secretvalue", type: "random" }] }, /type "random" is not one of text, hash or RANDOM/],
      ["a plain password with the default type (hash)", { users: [{ name: "good", password: "pw", type: "text" }, { name: "bad", password: "secretvalue" }] }, /not a crypt hash, and type defaults to hash; add type: text/],
      ["a user entry without a name", { users: [{ name: "good", password: "pw", type: "text" }, { password: "secretvalue", type: "text" }] }, /users\[1\] has no name; add name: USER/],
      ["a user entry that is a string", { users: [{ name: "good", password: "pw", type: "text" }, "bad:secretvalue"] }, /users\[1\] is a string, not a mapping/],
      ["a password with a line break", { users: [{ name: "good", password: "pw", type: "text" }, { name: "bad", password: "secretvalue\nroot:owned", type: "text" }] }, /line break.*another user's line/],
    ];
    for (const [what, chpasswd, message] of cases) {
      it(what, () => {
        const p = planPasswords({ chpasswd }, null);
        expect(p.errors).toHaveLength(1);
        expect(p.errors[0]).toMatch(message);
        expect(p.errors[0]).not.toMatch(/secret/);
        expect(p.changes).toEqual([{ user: "good", kind: "text", value: "pw" }]);
      });
    }

    it("a boolean password: and a chpasswd that is not a mapping", () => {
      const p = planPasswords({ password: false, chpasswd: ["x"] }, "debian");
      expect(p.errors).toEqual([expect.stringMatching(/^chpasswd must be a mapping/), expect.stringMatching(/^password \(the default user's\): password is a YAML boolean \(false\), not text; quote it/)]);
      expect(p.changes).toEqual([]);
    });

    // cloud-init sets str(value): `password: 123456` sets "123456". So does sprout, and it says to quote it.
    it("a whole number is set as its digits, as cloud-init does, with a hint to quote it (never the password itself)", () => {
      const p = planPasswords({ password: 123456, chpasswd: { expire: false } }, "debian");
      expect(p.errors).toEqual([]);
      expect(p.changes).toEqual([{ user: "debian", kind: "text", value: "123456" }]);
      expect(p.warnings).toEqual([expect.stringMatching(/^password \(the default user's\): password was given as a number and set as its digits, as cloud-init does; quote it/)]);
      const q = planPasswords({ chpasswd: { users: [{ name: "alice", password: 4711, type: "text" }] } }, null);
      expect(q.changes).toEqual([{ user: "alice", kind: "text", value: "4711" }]);
      expect(q.warnings.join("\n")).toMatch(/chpasswd\.users\[0\] \(alice\): password was given as a number/);
      expect(q.warnings.join("\n")).not.toMatch(/4711/);
    });
  });
});

describe("sprout schema on set_passwords' keys", () => {
  const check = (text: string) => validateCloudConfig(text, { file: "user-data", requireHeader: true }).map((p) => `${p.severity} ${p.line}:${p.path}: ${p.message}`);

  it("accepts cloud-init's documented examples and the most common seed", () => {
    expect(check("#cloud-config\nssh_pwauth: true\npassword: password1\n")).toEqual([]);
    expect(check("#cloud-config\npassword: passw0rd\nchpasswd: { expire: False }\nssh_pwauth: True\n")).toEqual([]);
    expect(check(`#cloud-config\nssh_pwauth: false\nchpasswd:\n  expire: false\n  users:\n    - name: user1\n      password: password1\n      type: text\n    - name: user2\n      password: ${SHA512}\n    - name: user3\n      type: RANDOM\n`)).toEqual([]);
  });

  it("reports chpasswd.list as deprecated (and its multi-line string form), as cloud-init's schema marks them", () => {
    expect(check("#cloud-config\nchpasswd:\n  list:\n    - alice:pw\n")).toEqual(["deprecation 3:chpasswd.list: chpasswd.list is deprecated; write chpasswd.users: [{name: USER, password: PASSWORD, type: text}]"]);
    expect(check("#cloud-config\nchpasswd:\n  list: |\n    alice:pw\n")).toEqual([
      "deprecation 3:chpasswd.list: chpasswd.list is deprecated; write chpasswd.users: [{name: USER, password: PASSWORD, type: text}]",
      "deprecation 3:chpasswd.list: chpasswd.list as one multi-line string is deprecated; write a list (better: chpasswd.users)",
    ]);
  });

  it("names what is wrong: a lower-case random, an unknown key, a number as the password", () => {
    expect(check("#cloud-config\nchpasswd:\n  users:\n    - {name: a, type: random}\n")).toEqual(['error 4:chpasswd.users[0].type: expected one of "hash", "text", "RANDOM", got "random"']);
    expect(check("#cloud-config\nchpasswd:\n  expires: false\n")[0]).toMatch(/^error 3:chpasswd\.expires: unknown key "expires" \(did you mean "expire"\?\)/);
    expect(check("#cloud-config\npassword: 123456\n")).toEqual(["error 2:password: expected a string, got 123456 (a number)"]);
  });
});
