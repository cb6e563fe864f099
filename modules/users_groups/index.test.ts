import { statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { docExamples, ETC_FILES, moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { sha512Crypt } from "../../agent/sha512-crypt";
import { defaultUserName, usersFromConfig, usersGroups } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

const haveUseradd = recordingHost(tempRoot().host()).host.run.which("useradd") !== null;
const passwd = () => root.host().root.readText("/etc/passwd");
const group = () => root.host().root.readText("/etc/group");

describe("users_groups", () => {
  it("names the default user after /etc/os-release, system_info.default_user, else cloud-user", () => {
    root = tempRoot(ETC_FILES);
    const h = root.host();
    expect(defaultUserName({}, h)).toBe("debian");
    expect(defaultUserName({ system_info: { default_user: { name: "admin" } } }, h)).toBe("admin");
    expect(defaultUserName({ user: "me" }, h)).toBe("me");
    root.write("etc/os-release", "ID=fedora\n");
    expect(defaultUserName({}, h)).toBe("cloud-user");
  });

  it("uses --prefix on a target root and adds what the users ask for", async () => {
    root = tempRoot(ETC_FILES);
    const rec = recordingHost(root.host());
    await usersGroups.run({ users: ["default", { name: "alice", groups: "docker, sudo", shell: "/bin/zsh", lock_passwd: false }] }, moduleContext(root, { host: rec.host }));
    const argvs = rec.runs.map((r) => r.argv);
    expect(argvs).toContainEqual(["groupadd", "--prefix", root.dir, "docker"]);
    expect(argvs).toContainEqual(["useradd", "--prefix", root.dir, "alice", "--shell", "/bin/zsh", "--user-group", "--groups", "docker,sudo", "--create-home"]);
    expect(argvs).toContainEqual(["useradd", "--prefix", root.dir, "debian", "--comment", "Debian", "--shell", "/bin/bash", "--user-group", "--groups", "adm,sudo", "--create-home"]);
    expect(argvs).toContainEqual(["usermod", "--prefix", root.dir, "--lock", "debian"]);
    expect(argvs).not.toContainEqual(["usermod", "--prefix", root.dir, "--lock", "alice"]);
  });

  it.skipIf(!haveUseradd)("creates users, groups, sudo rules and keys in a temp root; an existing user is updated", async () => {
    root = tempRoot(ETC_FILES);
    const ctx = moduleContext(root);
    const cfg = {
      groups: [{ devs: ["alice"] }, "ops"],
      users: ["default", { name: "alice", groups: ["sudo"], sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: ["ssh-ed25519 AAAA alice"] }],
    };
    const res = await usersGroups.run(cfg, ctx);
    expect(res.errors).toEqual([]);
    expect(passwd()).toMatch(/^alice:x:\d+:\d+::\/home\/alice:/m);
    expect(passwd()).toMatch(/^debian:x:/m);
    expect(group()).toMatch(/^devs:x:\d+:alice$/m);
    // The default user is made last, as cloud-init does, so alice joins sudo first.
    expect(group()).toMatch(/^sudo:x:27:alice,debian$/m);
    expect(root.host().root.readText("/etc/sudoers.d/90-cloud-init-users")).toContain("alice ALL=(ALL) NOPASSWD:ALL");
    expect(root.host().root.stat("/etc/sudoers.d/90-cloud-init-users")!.mode).toBe(0o440);
    const keys = `${root.dir}/home/alice/.ssh/authorized_keys`;
    expect(root.host().root.readText("/home/alice/.ssh/authorized_keys")).toBe("ssh-ed25519 AAAA alice\n");
    const st = statSync(keys);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(Number(/^alice:x:(\d+):/m.exec(passwd())![1]));
    expect(root.host().root.readText("/etc/shadow")).toMatch(/^debian:!/m);
    // A second run (a user that already exists) updates, and is not an error.
    const again = await usersGroups.run({ users: [{ name: "alice", groups: ["ops"], shell: "/bin/sh" }] }, ctx);
    expect(again.errors).toEqual([]);
    expect(again.detail).toMatch(/alice \(existed; updated\)/);
    expect(group()).toMatch(/^ops:x:\d+:alice$/m);
    expect(passwd()).toMatch(/^alice:.*:\/bin\/sh$/m);
  });

  it.skipIf(!haveUseradd)("locks a password with usermod only when /etc/shadow does not show it locked already", async () => {
    root = tempRoot(ETC_FILES);
    const h = root.host();
    const ran: string[][] = [];
    const spy = { ...h, run: { which: (n: string) => h.run.which(n), run: (argv: string[], o: Parameters<typeof h.run.run>[1]) => (ran.push(argv), h.run.run(argv, o)) } };
    const res = await usersGroups.run({ users: ["default", { name: "bob", passwd: "$6$abc$def" }] }, moduleContext(root, { host: spy }));
    expect(res.errors).toEqual([]);
    const shadow = root.host().root.readText("/etc/shadow");
    // useradd leaves a new user without a password at "!": usermod --lock would change nothing.
    expect(shadow).toMatch(/^debian:!:/m);
    expect(ran.filter((a) => a[0] === "usermod" && a.at(-1) === "debian")).toEqual([]);
    // A hash given in cloud-config is locked by usermod: "!" before it, as cloud-init leaves it.
    expect(shadow).toMatch(/^bob:!\$6\$abc\$def:/m);
    expect(ran).toContainEqual(["usermod", "--prefix", root.dir, "--lock", "bob"]);
  });

  it("orders and merges users as cloud-init 22.4.2 does, so uids come out the same", () => {
    root = tempRoot(ETC_FILES);
    const names = (cfg: Record<string, unknown>) => usersFromConfig(cfg, root.host()).users.map((u) => `${u.name}${u.isDefault ? "*" : ""}`);
    expect(names({ users: ["default", "alice"] })).toEqual(["alice", "debian*"]);
    expect(names({ users: "zed, default, amy, zed" })).toEqual(["amy", "zed", "debian*"]);
    expect(names({ users: { alice: true, bob: false, carol: { shell: "/bin/zsh" }, dan: "yes", eve: "no" } })).toEqual(["alice", "carol", "dan"]);
    expect(names({ user: "admin", users: ["alice"] })).toEqual(["alice", "admin*"]);
    expect(names({ user: { name: "admin" } })).toEqual(["admin*"]);
    const twice = usersFromConfig({ users: [{ name: "a", shell: "/bin/sh" }, "b", { name: "a", shell: "/bin/zsh", gecos: "A" }] }, root.host()).users;
    expect(twice.map((u) => [u.name, u.shell, u.gecos])).toEqual([["a", "/bin/sh", "A"], ["b", undefined, undefined]]);
    const merged = usersFromConfig({ users: ["default", { name: "debian", groups: ["docker"], shell: "/bin/zsh" }] }, root.host()).users;
    expect(merged).toHaveLength(1);
    expect(merged[0]!.isDefault).toBe(true);
    expect(merged[0]!.groups).toEqual(["docker"]);
    expect(merged[0]!.shell).toBe("/bin/bash");
  });

  it("takes an unquoted expiredate as its day and refuses sudo: true with the rule to write", () => {
    root = tempRoot(ETC_FILES);
    const read = usersFromConfig({ users: [{ name: "temp", expiredate: new Date("2032-09-01T00:00:00Z"), inactive: 5, sudo: true }] }, root.host());
    expect(read.users[0]!.expiredate).toBe("2032-09-01");
    expect(read.users[0]!.inactive).toBe("5");
    expect(read.users[0]!.sudo).toEqual([]);
    expect(read.errors).toEqual(['user temp: sudo: true is not a sudo rule, so none was written; write the rule, e.g. sudo: "ALL=(ALL) NOPASSWD:ALL"']);
  });

  it("passes no_user_group and no_log_init to useradd; with create_groups false a missing group stops only that user", async () => {
    root = tempRoot(ETC_FILES);
    const rec = recordingHost(root.host());
    const res = await usersGroups.run(
      { users: [{ name: "plain", no_user_group: true, no_log_init: true }, { name: "carol", create_groups: false, groups: ["sudo", "nosuchgroup"] }, { name: "dave", create_groups: false, groups: "sudo" }] },
      moduleContext(root, { host: rec.host }),
    );
    const argvs = rec.runs.map((r) => r.argv);
    expect(argvs).toContainEqual(["useradd", "--prefix", root.dir, "plain", "--no-user-group", "--no-log-init", "--create-home"]);
    expect(argvs.some((a) => a.includes("carol"))).toBe(false);
    expect(argvs).not.toContainEqual(["groupadd", "--prefix", root.dir, "nosuchgroup"]);
    expect(argvs).toContainEqual(["useradd", "--prefix", root.dir, "dave", "--user-group", "--groups", "sudo", "--create-home"]);
    expect(res.errors).toEqual(["user carol was not created: group nosuchgroup does not exist and create_groups is false; create it under groups: or drop create_groups"]);
  });

  it("reports entries it cannot use", async () => {
    root = tempRoot(ETC_FILES);
    expect(usersFromConfig({ users: [{ gecos: "no name" }, "bad name!"] }, root.host()).errors).toEqual([
      "users[0] has no name; write a user name or a mapping with name:",
      'user name "bad name!" is not a valid login name',
    ]);
  });

  describe.skipIf(!haveUseradd)("module-docs examples", () => {
    for (const ex of docExamples("cc_users_groups")) {
      it(ex.file.split("/").pop()!, async () => {
        root = tempRoot(ETC_FILES);
        const res = await usersGroups.run(ex.config, moduleContext(root));
        expect(res.errors ?? []).toEqual([]);
        const users = (ex.config.users as unknown[] | undefined) ?? ["default"];
        for (const u of users) {
          const name = u === "default" ? (ex.config.user as { name?: string } | undefined)?.name ?? "debian" : (u as { name: string }).name;
          expect(passwd()).toMatch(new RegExp(`^${name}:`, "m"));
        }
        if (Array.isArray(ex.config.users) && ex.config.users.length === 0) expect(res.status).toBe("skipped");
        if (ex.config.groups) expect(group()).toMatch(/^admingroup:x:\d+:root,sys$/m);
      });
    }
  });
});

describe("users_groups ssh_redirect_user", () => {
  const instance = { v1: { instance_id: "iid-test-1", public_ssh_keys: ["ssh-ed25519 AAAAcloud cloud-key"] }, ds: {} };
  // cloud-init (22.4.2 and later, distros.create_user with ssh_redirect_user): the
  // cloud's keys go to the user behind the message that names the default user.
  it.skipIf(!haveUseradd)("the instance's keys log in only to be sent to the default user", async () => {
    root = tempRoot(ETC_FILES);
    const res = await usersGroups.run({ users: ["default", { name: "nosshlogins", ssh_redirect_user: true }] }, moduleContext(root, { instance }));
    expect(res.errors).toEqual([]);
    expect(res.detail).toMatch(/ssh logins of nosshlogins redirected to debian/);
    expect(res.detail).not.toMatch(/not supported/);
    expect(root.host().root.readText("/home/nosshlogins/.ssh/authorized_keys")).toBe(
      `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Please login as the user \\"debian\\" rather than the user \\"nosshlogins\\".';echo;sleep 10;exit 142" ssh-ed25519 AAAAcloud cloud-key\n`,
    );
  });

  it.skipIf(!haveUseradd)("with ssh_authorized_keys it is an error, and without a default user it is skipped", async () => {
    root = tempRoot(ETC_FILES);
    const both = await usersGroups.run({ users: ["default", { name: "both", ssh_redirect_user: true, ssh_authorized_keys: ["ssh-ed25519 AAAAown own"] }] }, moduleContext(root, { instance }));
    expect(both.errors).toEqual(["user both: ssh_redirect_user cannot be given with ssh_authorized_keys; remove one of them"]);
    const alone = await usersGroups.run({ users: [{ name: "alone", ssh_redirect_user: true }] }, moduleContext(root, { instance }));
    expect(alone.errors).toEqual([]);
    expect(alone.detail).toMatch(/ssh_redirect_user of alone ignored: no default user/);
    expect(root.host().root.exists("/home/alone/.ssh/authorized_keys")).toBe(false);
  });
});

describe("users_groups passwords", () => {
  const shadowOf = (name: string) => root.host().root.readText("/etc/shadow").split("\n").find((l) => l.startsWith(`${name}:`))!.split(":");

  it.skipIf(!haveUseradd)("plain_text_passwd is stored as a SHA-512 hash of that password, for a new and an existing user, and never logged", async () => {
    root = tempRoot(ETC_FILES);
    const real = root.host();
    const argvs: string[][] = [];
    const host = { ...real, run: { ...real.run, run: (argv: string[], opts: Parameters<typeof real.run.run>[1]) => (argvs.push(argv), real.run.run(argv, opts)) } };
    const ctx = moduleContext(root, { host });
    const res = await usersGroups.run({ users: [{ name: "carol", plain_text_passwd: "s3cret pass", lock_passwd: false }, { name: "dave", plain_text_passwd: 123456, lock_passwd: false }] }, ctx);
    expect(res.errors).toEqual([]);
    const carol = shadowOf("carol")[1]!;
    expect(carol).toMatch(/^\$6\$[^$]+\$/);
    expect(sha512Crypt("s3cret pass", carol.split("$")[2])).toBe(carol);
    expect(sha512Crypt("123456", shadowOf("dave")[1]!.split("$")[2])).toBe(shadowOf("dave")[1]);
    // An existing user gets the new password too (cloud-init runs chpasswd for both).
    await usersGroups.run({ users: [{ name: "carol", plain_text_passwd: "another", lock_passwd: false }] }, ctx);
    expect(sha512Crypt("another", shadowOf("carol")[1]!.split("$")[2])).toBe(shadowOf("carol")[1]);
    expect(argvs.some((a) => a[0] === "usermod" && a.includes("--password"))).toBe(true);
    expect(JSON.stringify(argvs) + JSON.stringify(res)).not.toMatch(/s3cret|another|123456/);
    // The number is set as its digits, as cloud-init does, and the detail says to quote it (set_passwords' rule).
    expect(res.detail).toMatch(/user dave: plain_text_passwd was given as a number and set as its digits, as cloud-init does; quote it/);
  });

  it.skipIf(!haveUseradd)("a plain_text_passwd YAML read as a boolean or a fraction is refused, saying to quote it; the user is still made", async () => {
    root = tempRoot(ETC_FILES);
    const res = await usersGroups.run({ users: [{ name: "hank", plain_text_passwd: true, lock_passwd: false }, { name: "ida", plain_text_passwd: 12.5, lock_passwd: false }] }, moduleContext(root));
    expect(res.errors).toEqual([
      "user hank: plain_text_passwd is a YAML boolean (true), not text; quote it in the YAML (plain_text_passwd: \"...\") so it is set exactly as written; the password was not set",
      "user ida: plain_text_passwd is a number that is not a whole one, not text; quote it in the YAML (plain_text_passwd: \"...\") so it is set exactly as written; the password was not set",
    ]);
    expect(shadowOf("hank")[1]).not.toMatch(/^\$6\$/);
    expect(shadowOf("ida")[1]).not.toMatch(/^\$6\$/);
  });

  it.skipIf(!haveUseradd)("hashed_passwd wins over plain_text_passwd; lock_passwd (the default) locks either; an empty one sets nothing", async () => {
    root = tempRoot(ETC_FILES);
    const ctx = moduleContext(root);
    await usersGroups.run({ users: [{ name: "erin", plain_text_passwd: "x", hashed_passwd: "$6$salt$fromhash", lock_passwd: false }, { name: "fred", plain_text_passwd: "y" }, { name: "gina", plain_text_passwd: "", lock_passwd: false }] }, ctx);
    expect(shadowOf("erin")[1]).toBe("$6$salt$fromhash");
    expect(shadowOf("fred")[1]).toMatch(/^!\$6\$/);
    expect(shadowOf("gina")[1]).not.toBe("");
  });
});

