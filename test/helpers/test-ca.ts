// A throwaway certificate authority and a server certificate for 127.0.0.1, made with
// the openssl command, for https servers in tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  /** The CA certificate (PEM), to put in a trust store. */
  caPem: string;
  /** Certificate and key for a server at 127.0.0.1 and localhost, signed by the CA. */
  certPem: string;
  keyPem: string;
}

export function openSslMissing(): string | null {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return null;
  } catch {
    return "needs the openssl command (apt-get install openssl)";
  }
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "sprout-ca-"));
  try {
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=sprout test CA", "-keyout", "ca.key", "-out", "ca.pem");
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem");
    return { caPem: readFileSync(join(dir, "ca.pem"), "utf8"), certPem: readFileSync(join(dir, "server.pem"), "utf8"), keyPem: readFileSync(join(dir, "server.key"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
