// OpenPGP public keys as apt wants them: ASCII armor decoded to the binary
// packets (what `gpg --dearmor` writes, byte for byte), checked well enough that a
// pasted key which is cut short, mistyped or private is refused with a reason
// instead of landing in /etc/apt/trusted.gpg.d where apt would fail on it later.
// Pure: no gpg is needed in the target (Debian images often lack it).
import type * as Crypto from "node:crypto";
import { lazyBuiltin } from "../../agent/lazy-builtin";

// Only a boot that installs a key pays for loading crypto.
const crypto = lazyBuiltin<typeof Crypto>("node:crypto");

export class KeyError extends Error {}

const BEGIN = /^-----BEGIN PGP ([A-Z ,0-9/]+)-----\s*$/;
const END = /^-----END PGP ([A-Z ,0-9/]+)-----\s*$/;

/** CRC-24 of RFC 4880 section 6.1 (the "=XXXX" line of an armored block). */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/**
 * The binary packets of every armored public key block in `text`, concatenated.
 * Text around the blocks is ignored (as gpg does); a missing checksum line is
 * accepted (RFC 9580 made it optional), a wrong one is not.
 */
export function dearmor(text: string): Buffer {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Buffer[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec(lines[i]!.trim());
    if (!begin) continue;
    const kind = begin[1]!;
    if (kind !== "PUBLIC KEY BLOCK") {
      throw new KeyError(
        kind.includes("PRIVATE")
          ? "this is a PRIVATE key block: apt needs the repository's public key (gpg --armor --export KEYID); never put a private key in user-data"
          : `this is a PGP ${kind.toLowerCase()}, not a public key block (gpg --armor --export KEYID gives one)`,
      );
    }
    // Armor headers (Version:, Comment:) run to the first empty line.
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() !== "" && /^[A-Za-z-]+: /.test(lines[j]!.trim())) j++;
    let b64 = "";
    let checksum: string | null = null;
    for (; j < lines.length; j++) {
      const line = lines[j]!.trim();
      if (END.test(line)) break;
      if (line.startsWith("=") && line.length === 5) checksum = line.slice(1);
      else if (line !== "") {
        if (!/^[A-Za-z0-9+/]+=*$/.test(line)) throw new KeyError(`line ${j + 1} of the key is not base64: ${JSON.stringify(line.slice(0, 40))}`);
        b64 += line;
      }
    }
    if (j >= lines.length) throw new KeyError("the key block has no -----END PGP PUBLIC KEY BLOCK----- line: it was cut short; paste the whole key");
    if (b64.length % 4 !== 0) throw new KeyError("the key's base64 is cut short or has a line missing; paste the whole key again");
    const data = Buffer.from(b64, "base64");
    if (checksum !== null) {
      const want = Buffer.from(checksum, "base64");
      if (want.length !== 3 || want.readUIntBE(0, 3) !== crc24(data)) throw new KeyError("the key's checksum (the =XXXX line) does not match its content: a character was changed; paste the key again");
    }
    blocks.push(data);
    i = j;
  }
  if (blocks.length === 0) {
    throw new KeyError("no -----BEGIN PGP PUBLIC KEY BLOCK----- found: give the ASCII-armored public key (gpg --armor --export KEYID), or keyid: to fetch it from a keyserver");
  }
  const all = Buffer.concat(blocks);
  publicKeys(all); // refuses what is not a key
  return all;
}

export interface PublicKey {
  version: number;
  /** Upper-case hex. */
  fingerprint: string;
  /** The 16 hex digits apt and gpg print as the long key id. */
  keyId: string;
}

interface Packet {
  tag: number;
  start: number;
  end: number;
  body: Buffer;
}

/** Every packet of binary OpenPGP data; checks each header and length. */
function packets(data: Uint8Array): Packet[] {
  const buf = Buffer.from(data);
  const out: Packet[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const head = buf[pos]!;
    if ((head & 0x80) === 0) throw new KeyError(`byte ${pos} of the key is not an OpenPGP packet header: the key is damaged`);
    let tag: number;
    let len: number;
    let hdr: number;
    if (head & 0x40) {
      tag = head & 0x3f;
      const l0 = buf[pos + 1];
      if (l0 === undefined) throw new KeyError("the key ends inside a packet header: it was cut short");
      if (l0 < 192) [len, hdr] = [l0, 2];
      else if (l0 < 224) [len, hdr] = [((l0 - 192) << 8) + (buf[pos + 2] ?? 0) + 192, 3];
      else if (l0 === 255) [len, hdr] = [buf.length >= pos + 6 ? buf.readUInt32BE(pos + 2) : Infinity, 6];
      else throw new KeyError("the key uses partial-length packets, which keys never do: it is not a public key");
    } else {
      tag = (head >> 2) & 0x0f;
      const lt = head & 3;
      if (lt === 3) throw new KeyError("the key has a packet of indeterminate length: it is not a public key");
      const n = 1 << lt;
      hdr = 1 + n;
      len = buf.length >= pos + hdr ? buf.readUIntBE(pos + 1, n) : Infinity;
    }
    if (pos + hdr + len > buf.length) throw new KeyError("the key ends inside a packet: it was cut short; paste the whole key");
    if (out.length === 0 && tag !== 6) throw new KeyError(`the data is an OpenPGP packet of type ${tag}, not a public key (type 6)`);
    out.push({ tag, start: pos, end: pos + hdr + len, body: buf.subarray(pos + hdr, pos + hdr + len) });
    pos += hdr + len;
  }
  if (out.length === 0) throw new KeyError("the key is empty");
  return out;
}

/**
 * The public keys and subkeys in binary OpenPGP data, which must start with a
 * public key. Fingerprints for version 4 (SHA-1) and 6 (SHA-256) keys.
 */
export function publicKeys(data: Uint8Array): PublicKey[] {
  return packets(data)
    .filter((p) => p.tag === 6 || p.tag === 14)
    .map((p) => describeKey(p.body));
}

/** Only the keys (a primary key with its packets up to the next one) that `keyid` names: a keyserver's extra keys are not trusted. */
export function selectKeys(data: Uint8Array, keyid: string): Buffer {
  const buf = Buffer.from(data);
  const kept: Buffer[] = [];
  let group: Packet[] = [];
  const flush = () => {
    const keys = group.filter((p) => p.tag === 6 || p.tag === 14).map((p) => describeKey(p.body));
    if (group.length && keyMatches(keys, keyid)) kept.push(buf.subarray(group[0]!.start, group[group.length - 1]!.end));
    group = [];
  };
  for (const p of packets(buf)) {
    if (p.tag === 6) flush();
    group.push(p);
  }
  flush();
  return Buffer.concat(kept);
}

function describeKey(body: Buffer): PublicKey {
  const version = body[0] ?? 0;
  if (version === 4) {
    const pre = Buffer.from([0x99, (body.length >> 8) & 0xff, body.length & 0xff]);
    const fingerprint = crypto().createHash("sha1").update(pre).update(body).digest("hex").toUpperCase();
    return { version, fingerprint, keyId: fingerprint.slice(-16) };
  }
  if (version === 6) {
    const pre = Buffer.alloc(5);
    pre[0] = 0x9b;
    pre.writeUInt32BE(body.length, 1);
    const fingerprint = crypto().createHash("sha256").update(pre).update(body).digest("hex").toUpperCase();
    return { version, fingerprint, keyId: fingerprint.slice(0, 16) };
  }
  throw new KeyError(`the key is an OpenPGP version ${version} key; apt's gpgv reads version 4 keys (and 6 in newer releases)`);
}

/** A keyid as people write it ("0x", spaces, lower case) in upper-case hex, or null when it is not one. */
export function normalizeKeyId(keyid: string): string | null {
  const hex = keyid.replace(/\s+/g, "").replace(/^0x/i, "").toUpperCase();
  return /^([0-9A-F]{8}|[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/.test(hex) ? hex : null;
}

/** Whether one of the keys is the one `keyid` (short, long or full fingerprint) names. */
export function keyMatches(keys: PublicKey[], keyid: string): boolean {
  return keys.some((k) => (keyid.length >= 40 ? k.fingerprint === keyid : k.fingerprint.endsWith(keyid) || k.keyId.endsWith(keyid)));
}
