import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { keysToConsole } from ".";
import { fingerprint } from "./fingerprint";

let root: TempRoot;
afterEach(() => root?.cleanup());

const haveKeygen = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
    return true;
  } catch (err) {
    return (err as { status?: number }).status !== undefined && (err as { code?: string }).code !== "ENOENT";
  }
})();

/** Real keys from the real ssh-keygen, with what `ssh-keygen -l` says of each. */
function realKeys(types: Array<[string, string[]]>): Array<{ type: string; pub: string; listed: string }> {
  const dir = mkdtempSync(join(tmpdir(), "sprout-k2c-"));
  try {
    return types.map(([name, args], i) => {
      const f = join(dir, `ssh_host_${name}_key`);
      execFileSync("ssh-keygen", ["-q", "-N", "", "-C", i === 0 ? "" : `root@host${i}`, "-f", f, ...args]);
      return { type: name, pub: readFileSync(`${f}.pub`, "utf8").trim(), listed: execFileSync("ssh-keygen", ["-l", "-f", `${f}.pub`], { encoding: "utf8" }).trim() };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("keys_to_console", () => {
  it.skipIf(!haveKeygen)("computes exactly what ssh-keygen -l prints, for every key type and size", () => {
    const keys = realKeys([
      ["ed25519", ["-t", "ed25519"]],
      ["rsa", ["-t", "rsa", "-b", "2048"]],
      ["rsa3", ["-t", "rsa", "-b", "3071"]],
      ["ecdsa", ["-t", "ecdsa", "-b", "256"]],
      ["ecdsa384", ["-t", "ecdsa", "-b", "384"]],
      ["ecdsa521", ["-t", "ecdsa", "-b", "521"]],
    ]);
    for (const k of keys) expect(fingerprint(k.pub).line).toBe(k.listed);
  });

  it("rejects what is not a public key line, naming why", () => {
    expect(() => fingerprint("not a key")).toThrow(/not an OpenSSH public key line/);
    expect(() => fingerprint(`ssh-rsa ${Buffer.from("\0\0\0\x0bssh-ed25519").toString("base64")}`)).toThrow(/not a ssh-rsa key/);
    expect(() => fingerprint(`ssh-rsa ${Buffer.from("\0\0\0\x09ssh-").toString("base64")}`)).toThrow(/runs past the end/);
  });

  it.skipIf(!haveKeygen)("prints the fingerprints and keys between cloud-init's markers, minus the blacklisted types", async () => {
    const [ed, rsa] = realKeys([
      ["ed25519", ["-t", "ed25519"]],
      ["rsa", ["-t", "rsa", "-b", "2048"]],
    ]);
    root = tempRoot({ "etc/ssh/ssh_host_ed25519_key.pub": `${ed!.pub}\n`, "etc/ssh/ssh_host_rsa_key.pub": `${rsa!.pub}\n`, "etc/ssh/ssh_host_rsa_key": "private\n", "etc/ssh/sshd_config": "" });
    let printed = "";
    const ctx = { ...moduleContext(root), console: (t: string) => void (printed += t) };
    const res = await keysToConsole.run({}, ctx);
    expect(res.errors ?? []).toEqual([]);
    expect(printed).toBe(
      [
        "#############################################################",
        "-----BEGIN SSH HOST KEY FINGERPRINTS-----",
        ed!.listed,
        rsa!.listed,
        "-----END SSH HOST KEY FINGERPRINTS-----",
        "#############################################################",
        "-----BEGIN SSH HOST KEY KEYS-----",
        ed!.pub,
        rsa!.pub,
        "-----END SSH HOST KEY KEYS-----",
        "",
      ].join("\n"),
    );
    printed = "";
    await keysToConsole.run({ ssh_fp_console_blacklist: ["ssh-ed25519"], ssh_key_console_blacklist: ["ssh-rsa"] }, ctx);
    expect(printed).toContain(rsa!.listed);
    expect(printed).not.toContain(ed!.listed);
    expect(printed).toContain(ed!.pub);
    expect(printed).not.toContain(rsa!.pub);
    printed = "";
    expect((await keysToConsole.run({ ssh: { emit_keys_to_console: false } }, ctx)).status).toBe("skipped");
    expect(printed).toBe("");
  });

  it("a key file that is not a key (a placeholder) is named with what to do, without degrading the boot; the good keys are still printed; no keys, nothing printed", async () => {
    const good = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHhDq4vJ1oWd4Vdo0ZqgQ0CUq1nI0m2bRk2Jm4QrSx7 root@h";
    root = tempRoot({ "etc/ssh/ssh_host_ed25519_key.pub": `${good}\n`, "etc/ssh/ssh_host_rsa_key.pub": "garbage\n" });
    let printed = "";
    const ctx = { ...moduleContext(root), console: (t: string) => void (printed += t) };
    const res = await keysToConsole.run({}, ctx);
    expect(res.errors ?? []).toEqual([]);
    expect(res.detail).toMatch(/not listed: \/etc\/ssh\/ssh_host_rsa_key\.pub: not an OpenSSH public key line.*ssh-keygen -A/);
    expect(printed).toContain(`${good}\n`);
    expect(printed).toContain(fingerprint(good).line);
    root.cleanup();
    root = tempRoot({ "etc/hostname": "h\n" });
    printed = "";
    expect((await keysToConsole.run({}, { ...moduleContext(root), console: (t: string) => void (printed += t) })).status).toBe("skipped");
    expect(printed).toBe("");
  });
});
