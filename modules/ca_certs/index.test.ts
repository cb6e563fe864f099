import * as crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { validateCloudConfig } from "../../agent/schema/validate";
import { moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { caCerts, certPath } from ".";
import { DESELECT_HEADER, deselectAll } from "./ca-certificates-conf";
import { certificateProblem } from "./pem";

const FIXTURES = join(__dirname, "../../test/fixtures/ca-certs");
const CA1 = readFileSync(join(FIXTURES, "ca1.pem"), "utf8");
const CA2 = readFileSync(join(FIXTURES, "ca2.pem"), "utf8");
const CONF = "# This file lists certificates that you wish to use or to ignore to be\n# installed in /etc/ssl/certs.\nmozilla/ACCVRAIZ1.crt\nmozilla/AC_RAIZ_FNMT-RCM.crt\n!mozilla/Old_CA.crt\n";

/** A Debian-like root with ca-certificates' files; commands recorded (they must never touch this machine). */
function debian(files: Record<string, string> = {}) {
  const root = tempRoot({ "etc/ca-certificates.conf": CONF, "usr/sbin/update-ca-certificates": "#!/bin/sh\n", "etc/ssl/certs/ca-certificates.crt": "old bundle\n", ...files });
  const rec = recordingHost(root.host());
  return { root, rec, ctx: moduleContext(root, { host: rec.host, stage: "network" }) };
}

let root: TempRoot | undefined;
afterEach(() => root?.cleanup());

describe("ca_certs: the pieces", () => {
  it("accepts PEM certificates (a chain too, text around the blocks too) and names what is wrong with the rest", () => {
    expect(certificateProblem(CA1, crypto)).toBeNull();
    expect(certificateProblem(`subject=CN = x\n${CA1}${CA2}`, crypto)).toBeNull();
    expect(certificateProblem("single_line_cert", crypto)).toMatch(/is not a PEM certificate \(no -----BEGIN CERTIFICATE----- line\)/);
    expect(certificateProblem("-----BEGIN CERTIFICATE-----\nYOUR-ORGS-TRUSTED-CA-CERT-HERE\n-----END CERTIFICATE-----\n", crypto)).toMatch(/its certificate does not parse/);
    expect(certificateProblem(CA1.replace(/\n[A-Za-z0-9+/]{64}\n/, "\n"), crypto)).toMatch(/does not parse .*copied whole/);
    expect(certificateProblem(`${CA1}-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n`, crypto)).toMatch(/contains a private key/);
    expect(certificateProblem(CA1.replace(/\n/g, "\r\n"), crypto)).toBeNull();
    expect(certificateProblem(`${CA1.trimEnd().replace(/\n/g, " ")}\n`, crypto)).toMatch(/has lost its line breaks .*literal block, \|/);
    expect(certificateProblem("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n", crypto)).toMatch(/has no -----BEGIN CERTIFICATE----- block/);
  });
  it("deselects every entry of ca-certificates.conf once, under cloud-init's header, keeping comments and ! entries", () => {
    const once = deselectAll(CONF);
    expect(once.text).toBe(`# This file lists certificates that you wish to use or to ignore to be\n# installed in /etc/ssl/certs.\n${DESELECT_HEADER}\n!mozilla/ACCVRAIZ1.crt\n!mozilla/AC_RAIZ_FNMT-RCM.crt\n!mozilla/Old_CA.crt\n`);
    expect(deselectAll(once.text)).toEqual({ text: once.text, changed: false });
    expect(deselectAll("")).toEqual({ text: "", changed: false });
  });
});

describe("ca_certs", () => {
  it("writes each certificate to its own file in /usr/local/share/ca-certificates and runs update-ca-certificates in the target", async () => {
    const m = debian();
    root = m.root;
    const res = await caCerts.run({ ca_certs: { trusted: [CA1, CA2.trimEnd()] } }, m.ctx);
    expect(res.errors ?? []).toEqual([]);
    expect(res.status).toBe("changed");
    const r = m.rec.host.root;
    expect(certPath(1)).toBe("/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt");
    expect(r.readText(certPath(1))).toBe(CA1);
    expect(r.readText(certPath(2))).toBe(CA2); // a missing final newline is added
    expect(r.stat(certPath(2))!.mode).toBe(0o644);
    expect(r.readText("/etc/ca-certificates.conf")).toBe(CONF);
    expect(r.readText("/etc/ssl/certs/ca-certificates.crt")).toBe("old bundle\n");
    expect(m.rec.runs.map((x) => x.argv)).toEqual([["chroot", m.root.dir, "update-ca-certificates"]]);
    expect(m.rec.runs[0]!.opts.timeoutMs).toBeGreaterThan(0);
  });

  it("cloud-init's example: remove_defaults and two entries that are not certificates: defaults deselected, each entry reported by its index", async () => {
    const m = debian();
    root = m.root;
    const res = await caCerts.run(
      { ca_certs: { remove_defaults: true, trusted: ["single_line_cert", "-----BEGIN CERTIFICATE-----\nYOUR-ORGS-TRUSTED-CA-CERT-HERE\n-----END CERTIFICATE-----\n"] } },
      m.ctx,
    );
    expect(res.errors).toEqual([
      expect.stringMatching(/^ca_certs\.trusted\[0\] is not a PEM certificate .*skipped, the other certificates were installed$/),
      expect.stringMatching(/^ca_certs\.trusted\[1\] its certificate does not parse/),
    ]);
    const r = m.rec.host.root;
    expect(r.exists(certPath(1)) || r.exists(certPath(2))).toBe(false);
    expect(r.readText("/etc/ca-certificates.conf")).toContain(`${DESELECT_HEADER}\n!mozilla/ACCVRAIZ1.crt\n`);
    // The old bundle goes: update-ca-certificates only rewrites it when something is left to trust.
    expect(r.exists("/etc/ssl/certs/ca-certificates.crt")).toBe(false);
    expect(m.rec.runs.map((x) => x.argv.slice(2))).toEqual([["debconf-set-selections", "-"], ["update-ca-certificates", "--fresh"]]);
    expect(String(m.rec.runs[0]!.opts.input)).toBe("ca-certificates ca-certificates/trust_new_crts select no\n");
  });

  it("one bad entry among good ones: the good ones are installed under their own numbers", async () => {
    const m = debian();
    root = m.root;
    const res = await caCerts.run({ ca_certs: { trusted: [CA1, "not a cert", CA2] } }, m.ctx);
    expect(res.errors).toEqual([expect.stringMatching(/^ca_certs\.trusted\[1\] is not a PEM certificate/)]);
    const r = m.rec.host.root;
    expect(r.readText(certPath(1))).toBe(CA1);
    expect(r.exists(certPath(2))).toBe(false);
    expect(r.readText(certPath(3))).toBe(CA2);
    expect(m.rec.runs.map((x) => x.argv.slice(2))).toEqual([["update-ca-certificates"]]);
  });

  it("the deprecated ca-certs and remove-defaults still work; ca_certs wins when both are given", async () => {
    let m = debian();
    const res = await caCerts.run({ "ca-certs": { "remove-defaults": true, trusted: [CA1] } }, m.ctx);
    expect(res.errors ?? []).toEqual([]);
    expect(res.detail).toMatch(/ca-certs is deprecated, write ca_certs/);
    expect(m.rec.host.root.readText("/etc/ca-certificates.conf")).toContain("!mozilla/ACCVRAIZ1.crt");
    expect(m.rec.host.root.readText(certPath(1))).toBe(CA1);
    m.root.cleanup();
    m = debian();
    root = m.root;
    await caCerts.run({ ca_certs: { trusted: [CA2] }, "ca-certs": { trusted: [CA1] } }, m.ctx);
    expect(m.rec.host.root.readText(certPath(1))).toBe(CA2);
  });

  it("does nothing without the key (no process, no file), and with an empty mapping", async () => {
    for (const cfg of [{}, { ca_certs: {} }, { ca_certs: null }]) {
      const m = debian();
      const res = await caCerts.run(cfg, m.ctx);
      expect(res.status).toBe("skipped");
      expect(m.rec.runs).toEqual([]);
      m.root.cleanup();
    }
  });

  it("shapes that are not cloud-init's are errors that say what to write; the default certificates stay trusted", async () => {
    for (const [cfg, msg] of [
      [{ ca_certs: `${CA1}` }, /ca_certs must be a mapping with trusted: .*, got "-----BEGIN CERTIFICATE-----\\nMIIBvjCCAWOgAwIBAgIUTfxXh76\.\.\.$/],
      [{ ca_certs: ["x"] }, /ca_certs must be a mapping with trusted: .* and\/or remove_defaults: true/],
      [{ ca_certs: { remove_defaults: "yes please" } }, /ca_certs\.remove_defaults must be true or false, got "yes please"; the default certificates were left trusted/],
      [{ ca_certs: { trusted: { a: 1 } } }, /ca_certs\.trusted must be a list of PEM certificates/],
      [{ ca_certs: { trusted: [42] } }, /ca_certs\.trusted\[0\] is not text/],
    ] as const) {
      const m = debian();
      const res = await caCerts.run(cfg, m.ctx);
      expect(res.errors).toEqual([expect.stringMatching(msg)]);
      expect(m.rec.host.root.readText("/etc/ca-certificates.conf")).toBe(CONF);
      m.root.cleanup();
    }
  });

  it("without ca-certificates: the certificates are written (trusted once it is installed) and the error says to install it", async () => {
    root = tempRoot({});
    const rec = recordingHost(root.host());
    const res = await caCerts.run({ ca_certs: { trusted: [CA1] } }, moduleContext(root, { host: rec.host }));
    expect(res.errors).toEqual([expect.stringMatching(/update-ca-certificates is missing .*install ca-certificates in the image/)]);
    expect(rec.runs).toEqual([]);
    expect(rec.host.root.readText(certPath(1))).toBe(CA1);
  });

  it("a failing or hanging update-ca-certificates or debconf-set-selections is reported with what to do", async () => {
    root = tempRoot({ "etc/ca-certificates.conf": CONF, "usr/sbin/update-ca-certificates": "" });
    const rec = recordingHost(root.host(), { run: (argv) => (argv.includes("update-ca-certificates") ? { code: null, timedOut: true } : { code: 1, stderr: Buffer.from("debconf: db locked\n") }) });
    const res = await caCerts.run({ ca_certs: { remove_defaults: true, trusted: [CA1] } }, moduleContext(root, { host: rec.host }));
    expect(res.errors).toEqual([
      expect.stringMatching(/debconf-set-selections failed \(exit 1: debconf: db locked\).*dpkg-reconfigure ca-certificates/),
      expect.stringMatching(/update-ca-certificates failed \(timed out after 120 s\); run it on the machine/),
    ]);
  });
});

describe("ca_certs in `sprout schema`", () => {
  const problems = (text: string) => validateCloudConfig(text, { file: "user-data", requireHeader: true }).map((p) => `${p.severity} ${p.path}: ${p.message}`);
  it("accepts cloud-init's keys, marks ca-certs and remove-defaults deprecated, and catches an entry that is not PEM", () => {
    const pem = CA1.trimEnd().replace(/\n/g, "\n      ");
    expect(problems(`#cloud-config\nca_certs:\n  remove_defaults: true\n  trusted:\n    - |\n      ${pem}\n`)).toEqual([]);
    expect(problems(`#cloud-config\nca-certs:\n  remove-defaults: true\n  trusted:\n    - |\n      ${pem}\n`)).toEqual([
      "deprecation ca-certs: ca-certs is deprecated; write ca_certs",
      "deprecation ca-certs.remove-defaults: remove-defaults is deprecated; write remove_defaults",
    ]);
    // cloud-init's documented example keeps its placeholders: sprout schema says which entry is no certificate.
    expect(problems("#cloud-config\nca_certs:\n  remove_defaults: true\n  trusted:\n    - single_line_cert\n")).toEqual(['error ca_certs.trusted[0]: must match pattern "-----BEGIN CERTIFICATE-----", got "single_line_cert"']);
    expect(problems("#cloud-config\nca_certs:\n  remove_defaults: 'yes'\n  trusted: []\n")).toEqual([
      'error ca_certs.remove_defaults: expected a boolean, got "yes" (a string)',
      "error ca_certs.trusted: must NOT have fewer than 1 items",
    ]);
  });
});
