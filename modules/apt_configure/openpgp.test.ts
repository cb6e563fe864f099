import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lookupUrl } from "./keyserver";
import { dearmor, KeyError, normalizeKeyId, publicKeys, selectKeys } from "./openpgp";

// Keys made with gpg for these tests (fixtures/); repo-key.gpg is `gpg --dearmor` of repo-key.asc.
const FIX = join(__dirname, "fixtures");
const REPO_ASC = readFileSync(join(FIX, "repo-key.asc"), "utf8");
const REPO_GPG = readFileSync(join(FIX, "repo-key.gpg"));
const OTHER_ASC = readFileSync(join(FIX, "other-key.asc"), "utf8");
const REPO_FPR = "9E53B191DBCA9C76902472304369E73EE2F47536";
const OTHER_FPR = "0DBAF27D230FACBE6584B939AB1B226B09705ADD";

describe("apt_configure OpenPGP keys", () => {
  it("dearmors to exactly what gpg --dearmor writes (cloud-init's key files)", () => {
    expect(dearmor(REPO_ASC).equals(REPO_GPG)).toBe(true);
    // With text around it and CRLF line ends, as keys pasted from a web page come.
    expect(dearmor(`Here is our key:\r\n${REPO_ASC.replace(/\n/g, "\r\n")}\r\nThanks`).equals(REPO_GPG)).toBe(true);
  });

  it("matches gpg --dearmor on the machine, when gpg is installed", () => {
    const gpg = spawnSync("gpg", ["--dearmor"], { input: OTHER_ASC });
    if (gpg.error) return void console.warn("gpg is not installed: compared with the fixture only");
    expect(dearmor(OTHER_ASC).equals(gpg.stdout)).toBe(true);
  });

  it("computes the fingerprint gpg shows (v4 ed25519 and RSA keys, and their subkeys)", () => {
    expect(publicKeys(REPO_GPG)[0]).toEqual({ version: 4, fingerprint: REPO_FPR, keyId: REPO_FPR.slice(-16) });
    expect(publicKeys(dearmor(OTHER_ASC))[0]!.fingerprint).toBe(OTHER_FPR);
  });

  it("a missing checksum line is accepted; a wrong one, a cut key, a private key, and text are refused with what to do", () => {
    expect(dearmor(REPO_ASC.replace(/^=.{4}\n/m, "")).equals(REPO_GPG)).toBe(true);
    const refuse = (text: string) => {
      try {
        dearmor(text);
      } catch (err) {
        expect(err).toBeInstanceOf(KeyError);
        return (err as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refuse(REPO_ASC.replace(/^=x1Xc$/m, "=x1Xd"))).toMatch(/checksum .* does not match/);
    const lines = REPO_ASC.split("\n");
    expect(refuse(lines.filter((_, i) => i !== 4).join("\n"))).toMatch(/cut short|checksum/);
    expect(refuse(lines.slice(0, 6).join("\n"))).toMatch(/no -----END PGP PUBLIC KEY BLOCK-----/);
    expect(refuse("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQWGBF\n-----END PGP PRIVATE KEY BLOCK-----\n")).toMatch(/PRIVATE key block: apt needs the repository's public key/);
    expect(refuse("ssh-ed25519 AAAAC3Nza alice@laptop")).toMatch(/no -----BEGIN PGP PUBLIC KEY BLOCK----- found/);
    // cloud-init's documentation placeholder
    expect(refuse("------BEGIN PGP PUBLIC KEY BLOCK-------\n<key data>\n------END PGP PUBLIC KEY BLOCK-------\n")).toMatch(/no -----BEGIN/);
    // Valid base64 that is not a key: a signature packet alone.
    expect(refuse("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\niQEzBAABCAAdFiEE\n-----END PGP PUBLIC KEY BLOCK-----\n")).toMatch(/not a public key|cut short/);
  });

  it("keeps only the key a keyid names from an answer with several", () => {
    const both = Buffer.concat([dearmor(OTHER_ASC), REPO_GPG]);
    expect(selectKeys(both, REPO_FPR).equals(REPO_GPG)).toBe(true);
    expect(selectKeys(both, REPO_FPR.slice(-16)).equals(REPO_GPG)).toBe(true);
    expect(selectKeys(both, "DEADBEEF").length).toBe(0);
  });

  it("reads key ids as people write them", () => {
    expect(normalizeKeyId("9E53 B191 DBCA 9C76 9024  7230 4369 E73E E2F4 7536")).toBe(REPO_FPR);
    expect(normalizeKeyId("0x4369e73ee2f47536")).toBe("4369E73EE2F47536");
    expect(normalizeKeyId("keyid")).toBeNull();
  });

  it("turns keyserver spellings into HKP lookup URLs", () => {
    expect(lookupUrl("keyserver.ubuntu.com", "ABCD1234")).toBe("http://keyserver.ubuntu.com:11371/pks/lookup?op=get&options=mr&search=0xABCD1234");
    expect(lookupUrl("hkps://keys.openpgp.org", "ABCD1234")).toBe("https://keys.openpgp.org/pks/lookup?op=get&options=mr&search=0xABCD1234");
    expect(lookupUrl("hkp://127.0.0.1:8080/", "ABCD1234")).toBe("http://127.0.0.1:8080/pks/lookup?op=get&options=mr&search=0xABCD1234");
    expect(lookupUrl("http://[::1]:99", "ABCD1234")).toBe("http://[::1]:99/pks/lookup?op=get&options=mr&search=0xABCD1234");
    expect(() => lookupUrl("ldap://keys.example", "ABCD1234")).toThrow(/not ldap:\/\//);
    expect(() => lookupUrl("keyserverurl with space", "ABCD1234")).toThrow(/not a host name or URL/);
  });
});
