// ca_certs: trust the user's CA certificates, and optionally stop trusting the
// distribution's, as newer cloud-init (23.1 and later) does on Debian: each
// certificate in its own /usr/local/share/ca-certificates/cloud-init-ca-cert-N.crt
// (the administrator's folder, which update-ca-certificates always reads),
// remove_defaults deselects every entry of /etc/ca-certificates.conf ("!name") and
// tells debconf not to trust new ones, then update-ca-certificates.
// cloud-init 22.4.2 instead wrote all certificates into one file under
// /usr/share/ca-certificates and deleted the package's files for remove_defaults.
// An entry that is not a certificate is reported and skipped; the others are installed.
import { isPlainObject } from "../../agent/merge";
import { runInTarget } from "../../agent/target-command";
import type { Module, ModuleContext, ModuleResult } from "../../agent/types";
import { deselectAll } from "./ca-certificates-conf";
import { certificateProblem } from "./pem";

const LOCAL_CERTS_DIR = "/usr/local/share/ca-certificates";
const CERTS_CONF = "/etc/ca-certificates.conf";
const BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const UPDATE_PROGRAM = "/usr/sbin/update-ca-certificates";
const DEBCONF_SELECTION = "ca-certificates ca-certificates/trust_new_crts select no\n";
// update-ca-certificates links and rehashes a few hundred files: seconds; a hang must not hold the boot.
const UPDATE_TIMEOUT_MS = 2 * 60_000;
const DEBCONF_TIMEOUT_MS = 60_000;

/** The file of the n-th (1-based) `trusted:` entry: newer cloud-init's name, so a seed's files land where cloud-init's do. */
export function certPath(n: number): string {
  return `${LOCAL_CERTS_DIR}/cloud-init-ca-cert-${n}.crt`;
}

const CA_CERTS_PROPERTIES = {
  trusted: {
    type: "array",
    items: { type: "string", pattern: "-----BEGIN CERTIFICATE-----" },
    minItems: 1,
    description: `CA certificates to trust, each a PEM block (a YAML block with |). Written to ${LOCAL_CERTS_DIR}/cloud-init-ca-cert-<n>.crt, then update-ca-certificates adds them to ${BUNDLE}. An entry that is not a certificate is reported and skipped.`,
    examples: [["-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"]],
  },
  remove_defaults: {
    type: "boolean",
    default: false,
    description: `Stop trusting the distribution's CA certificates: every entry of ${CERTS_CONF} is deselected (!name) and debconf told not to trust new ones. Certificates in ${LOCAL_CERTS_DIR} (trusted: included) stay trusted.`,
    examples: [true],
  },
  "remove-defaults": { type: "boolean", deprecated: true, description: "Deprecated: use remove_defaults.", examples: [true] },
};

const CA_CERTS_OBJECT = { type: "object", additionalProperties: false, minProperties: 1, properties: CA_CERTS_PROPERTIES };

export const CA_CERTS_SCHEMA = {
  ca_certs: {
    ...CA_CERTS_OBJECT,
    description: "Add trusted CA certificates, and optionally remove the distribution's (Debian: update-ca-certificates).",
    examples: [{ remove_defaults: false, trusted: ["-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"] }],
  },
  "ca-certs": { ...CA_CERTS_OBJECT, deprecated: true, description: "Deprecated: use ca_certs (ignored when ca_certs is given too).", examples: [{ trusted: ["-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"] }] },
} as const;

/** A value of the user's, short enough for an error message (a misplaced certificate is long). */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Writes the valid entries; an error for each one that is not a certificate. */
async function writeTrusted(ctx: ModuleContext, entries: unknown[], where: string, errors: string[]): Promise<{ written: number; changed: boolean }> {
  const crypto = await import("node:crypto");
  const root = ctx.host.root;
  let written = 0;
  let changed = false;
  entries.forEach((entry, i) => {
    const name = `${where}.trusted[${i}]`;
    if (typeof entry !== "string") {
      errors.push(`${name} is not text (got ${shown(entry)}); write the certificate as a YAML block (|); the other certificates were installed`);
      return;
    }
    const problem = certificateProblem(entry, crypto);
    if (problem) {
      errors.push(`${name} ${problem}; it was skipped, the other certificates were installed`);
      return;
    }
    const text = entry.endsWith("\n") ? entry : `${entry}\n`;
    const path = certPath(i + 1);
    if (root.tryReadText(path) !== text) changed = true;
    root.writeAtomic(path, text, { mode: 0o644 });
    written += 1;
  });
  return { written, changed };
}

export const caCerts: Module = {
  id: "ca_certs",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Add trusted CA certificates and optionally remove the distribution's, then run update-ca-certificates.", properties: CA_CERTS_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const key = "ca_certs" in cfg ? "ca_certs" : "ca-certs" in cfg ? "ca-certs" : null;
    if (key === null) return { status: "skipped", detail: "no ca_certs" };
    const spec = cfg[key];
    if (spec === null || (isPlainObject(spec) && Object.keys(spec).length === 0)) return { status: "skipped", detail: `${key} is empty` };
    if (!isPlainObject(spec)) return { status: "unchanged", errors: [`${key} must be a mapping with trusted: (a list of PEM certificates) and/or remove_defaults: true, got ${shown(spec)}`] };
    const notes = key === "ca-certs" ? ["ca-certs is deprecated, write ca_certs"] : "ca-certs" in cfg ? ["ca-certs ignored: ca_certs is given"] : [];
    const errors: string[] = [];
    const root = ctx.host.root;
    let changed = false;

    const removeRaw = "remove_defaults" in spec ? spec.remove_defaults : spec["remove-defaults"];
    const removeKey = "remove_defaults" in spec ? "remove_defaults" : "remove-defaults";
    if (removeRaw !== undefined && removeRaw !== null && typeof removeRaw !== "boolean") {
      errors.push(`${key}.${removeKey} must be true or false, got ${shown(removeRaw)}; the default certificates were left trusted`);
    }
    if (removeRaw === true) {
      const conf = root.tryReadText(CERTS_CONF);
      const deselected = conf === null ? null : deselectAll(conf);
      if (deselected?.changed) {
        root.writeAtomic(CERTS_CONF, deselected.text, { mode: root.stat(CERTS_CONF)?.mode ?? 0o644 });
        changed = true;
      }
      // update-ca-certificates rewrites the bundle only when it adds a certificate: with
      // nothing left to trust the old bundle, defaults and all, would stay.
      if (root.exists(BUNDLE)) root.remove(BUNDLE);
      const { failure: failed } = await runInTarget(ctx.host, ["debconf-set-selections", "-"], { timeoutMs: DEBCONF_TIMEOUT_MS, input: DEBCONF_SELECTION });
      if (failed) errors.push(`${key}.${removeKey}: debconf-set-selections failed (${failed}): a ca-certificates upgrade may trust new default certificates; run dpkg-reconfigure ca-certificates to choose`);
    }

    const trusted = spec.trusted;
    let written = 0;
    if (trusted !== undefined && trusted !== null) {
      const list = typeof trusted === "string" ? [trusted] : Array.isArray(trusted) ? trusted : null;
      if (list === null) errors.push(`${key}.trusted must be a list of PEM certificates, got ${shown(trusted)}`);
      else {
        const w = await writeTrusted(ctx, list, key, errors);
        written = w.written;
        changed ||= w.changed;
      }
    }

    if (!root.exists(UPDATE_PROGRAM)) {
      errors.push(`update-ca-certificates is missing (${UPDATE_PROGRAM}: the ca-certificates package is not installed), so nothing changed in the trust store; install ca-certificates in the image (its installation trusts the certificates in ${LOCAL_CERTS_DIR})`);
    } else {
      const { failure: failed } = await runInTarget(ctx.host, ["update-ca-certificates", ...(removeRaw === true ? ["--fresh"] : [])], { timeoutMs: UPDATE_TIMEOUT_MS });
      if (failed) errors.push(`update-ca-certificates failed (${failed}); run it on the machine to see which file it cannot use`);
      else changed = true;
    }
    const detail = [`${written} certificate(s) in ${LOCAL_CERTS_DIR}`, ...(removeRaw === true ? ["defaults deselected"] : []), ...notes].join("; ");
    return { status: changed ? "changed" : "unchanged", detail, ...(errors.length ? { errors } : {}) };
  },
};
