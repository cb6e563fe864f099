// What `ssh-keygen -l -f key.pub` prints for an OpenSSH public key line, computed
// here: a boot has no reason to start a process per host key to hash a few bytes.
import type * as Crypto from "node:crypto";
import { lazyBuiltin } from "../../agent/lazy-builtin";

// Loaded when there is a key to list, not by every boot that loads the module registry.
const crypto = lazyBuiltin<typeof Crypto>("node:crypto");

export interface KeyFingerprint {
  type: string;
  /** "256 SHA256:... comment (ED25519)", as ssh-keygen -l writes it. */
  line: string;
}

const FIXED_BITS: Record<string, [number, string]> = {
  "ssh-ed25519": [256, "ED25519"],
  "sk-ssh-ed25519@openssh.com": [256, "ED25519-SK"],
  "ecdsa-sha2-nistp256": [256, "ECDSA"],
  "ecdsa-sha2-nistp384": [384, "ECDSA"],
  "ecdsa-sha2-nistp521": [521, "ECDSA"],
  "sk-ecdsa-sha2-nistp256@openssh.com": [256, "ECDSA-SK"],
};

/** The SSH wire format's length-prefixed fields of a key blob. */
function fields(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 4 <= blob.length) {
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) throw new Error("a field runs past the end of the key");
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== blob.length) throw new Error("trailing bytes after the key's fields");
  return out;
}

/** Bits of an SSH mpint (big-endian, a leading zero byte when the top bit is set). */
function mpintBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

/** Parses one public key line ("type base64 [comment]"); throws on anything else. */
export function fingerprint(keyLine: string): KeyFingerprint {
  const m = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*?))?\s*$/.exec(keyLine);
  // Key data is padded base64 of at least the type's own length field.
  if (!m || m[2]!.length < 8 || m[2]!.length % 4 !== 0) throw new Error("not an OpenSSH public key line (type, base64 key, comment)");
  const [, type, b64, comment] = m as unknown as [string, string, string, string | undefined];
  const blob = Buffer.from(b64, "base64");
  const parts = fields(blob);
  if (parts[0]?.toString("latin1") !== type) throw new Error(`the key data is not a ${type} key`);
  let bits: number;
  let label: string;
  if (type === "ssh-rsa") [bits, label] = [mpintBits(parts[2] ?? Buffer.alloc(0)), "RSA"];
  else if (type === "ssh-dss") [bits, label] = [mpintBits(parts[1] ?? Buffer.alloc(0)), "DSA"];
  else if (FIXED_BITS[type]) [bits, label] = FIXED_BITS[type]!;
  else throw new Error(`unknown key type ${type}`);
  const sha = crypto().createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
  return { type, line: `${bits} SHA256:${sha} ${comment || "no comment"} (${label})` };
}
