// Is a `trusted:` entry a certificate update-ca-certificates can use? One or more
// PEM blocks, each a certificate node:crypto can parse; no private key (the file
// is world-readable). Text around the blocks (openssl's "subject=" lines) is allowed,
// as update-ca-certificates and OpenSSL skip it.
import type * as Crypto from "node:crypto";

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** What is wrong with the entry, or null when every block is a certificate. */
export function certificateProblem(text: string, crypto: typeof Crypto): string | null {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return "contains a private key; put only the CA's certificate here (and keep the key off the machine)";
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length === 0) {
    return /-----BEGIN /.test(text)
      ? "has no -----BEGIN CERTIFICATE----- block (only certificates can be trusted; convert others with openssl x509)"
      : "is not a PEM certificate (no -----BEGIN CERTIFICATE----- line); paste the whole block, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----, as a YAML block (|)";
  }
  for (const [i, block] of blocks.entries()) {
    if (!/-----BEGIN CERTIFICATE-----\r?\n/.test(block)) {
      return "has lost its line breaks (a folded YAML block, >, or a quoted string joins the lines); write it as a literal block, |, one base64 line per line";
    }
    try {
      new crypto.X509Certificate(block);
    } catch (err) {
      const where = blocks.length > 1 ? `its certificate ${i + 1} of ${blocks.length}` : "its certificate";
      return `${where} does not parse (${(err as Error).message}); check that the base64 lines were copied whole, with their line breaks (a YAML block, |)`;
    }
  }
  return null;
}
