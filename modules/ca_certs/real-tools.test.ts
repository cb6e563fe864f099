// ca_certs with Debian's real update-ca-certificates, debconf and openssl, in a
// throwaway bookworm root (test/helpers/debian-root.ts), the way `--root` runs it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { debianRoot, debianRootUnavailable, type DebianRoot } from "../../test/helpers/debian-root";
import { moduleContext } from "../../test/helpers/module-context";
import { caCerts, certPath } from ".";

const why = debianRootUnavailable();
if (why) console.warn(`skipping ca_certs with the real tools: ${why}`);
const FIXTURES = join(__dirname, "../../test/fixtures/ca-certs");
const CA1 = readFileSync(join(FIXTURES, "ca1.pem"), "utf8");
const CA2 = readFileSync(join(FIXTURES, "ca2.pem"), "utf8");
const BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const certsIn = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;

let deb: DebianRoot | undefined;
afterEach(() => deb?.cleanup());

describe.skipIf(why !== null)("ca_certs with the real update-ca-certificates", () => {
  it("trusted: the certificates join the distribution's in the bundle and get hash links openssl finds", async () => {
    deb = debianRoot();
    const h = deb.host();
    const before = certsIn(h.root.readText(BUNDLE));
    const res = await caCerts.run({ ca_certs: { trusted: [CA1, CA2] } }, moduleContext(h, "network"));
    expect(res.errors ?? []).toEqual([]);
    const bundle = h.root.readText(BUNDLE);
    expect(certsIn(bundle)).toBe(before + 2);
    expect(bundle).toContain(CA1);
    for (const n of [1, 2]) {
      const hash = deb.inside(["openssl", "x509", "-hash", "-noout", "-in", certPath(n)]).stdout.trim();
      expect(h.root.readlink(`/etc/ssl/certs/cloud-init-ca-cert-${n}.pem`)).toBe(certPath(n));
      expect(h.root.readlink(`/etc/ssl/certs/${hash}.0`)).toBe(`cloud-init-ca-cert-${n}.pem`);
    }
    // openssl in the machine now trusts a chain ending in them.
    expect(deb.inside(["openssl", "verify", "-CApath", "/etc/ssl/certs", certPath(1)]).stdout).toMatch(/: OK/);
  });

  it("remove_defaults with trusted: the bundle holds only the user's certificate; the package's files are kept", async () => {
    deb = debianRoot();
    const h = deb.host();
    const res = await caCerts.run({ ca_certs: { remove_defaults: true, trusted: [CA1] } }, moduleContext(h, "network"));
    expect(res.errors ?? []).toEqual([]);
    expect(h.root.readText(BUNDLE)).toBe(CA1);
    expect(h.root.readdir("/etc/ssl/certs").filter((f) => f.endsWith(".pem"))).toEqual(["cloud-init-ca-cert-1.pem"]);
    expect(h.root.readdir("/usr/share/ca-certificates/mozilla").length).toBeGreaterThan(100);
    expect(deb.inside(["debconf-show", "ca-certificates"]).stdout).toMatch(/trust_new_crts: no/);
  });

  it("remove_defaults alone: nothing is trusted any more (no bundle, no links)", async () => {
    deb = debianRoot();
    const h = deb.host();
    const res = await caCerts.run({ ca_certs: { remove_defaults: true } }, moduleContext(h, "network"));
    expect(res.errors ?? []).toEqual([]);
    expect(h.root.exists(BUNDLE)).toBe(false);
    expect(h.root.readdir("/etc/ssl/certs").filter((f) => /\.(pem|0)$/.test(f))).toEqual([]);
  });

  it("an entry that is not a certificate is reported and the real tools still trust the good one", async () => {
    deb = debianRoot();
    const h = deb.host();
    const res = await caCerts.run({ ca_certs: { trusted: ["-----BEGIN CERTIFICATE-----\nYOUR-ORGS-TRUSTED-CA-CERT-HERE\n-----END CERTIFICATE-----\n", CA2] } }, moduleContext(h, "network"));
    expect(res.errors).toEqual([expect.stringMatching(/^ca_certs\.trusted\[0\] its certificate does not parse/)]);
    expect(h.root.exists(certPath(1))).toBe(false);
    expect(h.root.readText(BUNDLE)).toContain(CA2);
  });
});
