// SHA-512 crypt ("$6$salt$hash", Ulrich Drepper's SHA-crypt), the format /etc/shadow,
// `usermod -p` and `chpasswd -e` take. A password a datasource hands over (OVF's
// `password` property) is hashed with it before it is stored anywhere.
import type * as Crypto from "node:crypto";
import { lazyBuiltin } from "./lazy-builtin";

const crypto = lazyBuiltin<typeof Crypto>("node:crypto");

const ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ROUNDS = 5000;

export function randomSalt(length = 16): string {
  return [...crypto().randomBytes(length)].map((b) => ALPHABET[b & 63]).join("");
}

export function sha512Crypt(password: string, salt: string = randomSalt()): string {
  const { createHash } = crypto();
  const P = Buffer.from(password, "utf8");
  const S = Buffer.from(salt.slice(0, 16), "utf8");
  const sha = (...parts: Buffer[]) => {
    const h = createHash("sha512");
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const repeat = (src: Buffer, n: number) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = src[i % src.length]!;
    return out;
  };

  const B = sha(P, S, P);
  const a = createHash("sha512").update(P).update(S).update(repeat(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();

  const dp = createHash("sha512");
  for (let i = 0; i < P.length; i++) dp.update(P);
  const DP = repeat(dp.digest(), P.length);
  const ds = createHash("sha512");
  for (let i = 0; i < 16 + A[0]!; i++) ds.update(S);
  const DS = repeat(ds.digest(), S.length);

  let C = A;
  for (let i = 0; i < ROUNDS; i++) {
    const c = createHash("sha512");
    c.update(i & 1 ? DP : C);
    if (i % 3) c.update(DS);
    if (i % 7) c.update(DP);
    c.update(i & 1 ? C : DP);
    C = c.digest();
  }

  // The 64 bytes in the algorithm's own order, 3 at a time, in its base64 alphabet.
  const order = [
    [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
    [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
  ];
  let out = "";
  const emit = (v: number, n: number) => {
    for (let i = 0; i < n; i++, v >>= 6) out += ALPHABET[v & 63];
  };
  for (const [x, y, z] of order) emit((C[x!]! << 16) | (C[y!]! << 8) | C[z!]!, 4);
  emit(C[63]!, 2);
  return `$6$${S.toString("utf8")}$${out}`;
}
