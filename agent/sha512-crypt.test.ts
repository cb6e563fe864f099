import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { randomSalt, sha512Crypt } from "./sha512-crypt";

describe("sha512Crypt", () => {
  it("matches the reference vectors of the SHA-crypt specification", () => {
    expect(sha512Crypt("Hello world!", "saltstring")).toBe("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1");
  });

  it("agrees with openssl passwd -6 on long and non-ASCII passwords", () => {
    for (const pw of ["passw0rd", "x".repeat(200), "pässwörd €"]) {
      const salt = randomSalt();
      expect(sha512Crypt(pw, salt)).toBe(execFileSync("openssl", ["passwd", "-6", "-salt", salt, pw], { encoding: "utf8" }).trim());
    }
  });

  it("makes a fresh salt each time", () => {
    expect(sha512Crypt("a")).not.toBe(sha512Crypt("a"));
  });
});
