// gzip-compressed user-data (whole or per MIME part). The decompressed size is
// capped: a small gzip that inflates to gigabytes must not take the boot with it.
import type * as Zlib from "node:zlib";
import { lazyBuiltin } from "../lazy-builtin";

/** Default cap on decompressed user-data; cloud-init's own limit on user-data is far below it. */
export const MAX_DECOMPRESSED = 32 * 1024 * 1024;

// Loaded only when user-data is compressed.
const zlib = lazyBuiltin<typeof Zlib>("node:zlib");

export function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The decompressed bytes; throws an Error whose message says what is wrong and what to do. */
export function gunzipCapped(bytes: Buffer, cap = MAX_DECOMPRESSED): Buffer {
  try {
    return zlib().gunzipSync(bytes, { maxOutputLength: cap });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
      throw new Error(`gzip data inflates to more than ${cap} bytes; refused (a gzip bomb?) — send it uncompressed or split it`);
    }
    if (e.code === "Z_BUF_ERROR" || /unexpected end/i.test(e.message)) throw new Error("gzip data is truncated (unexpected end of file); send the complete file");
    throw new Error(`gzip data is corrupt (${e.message}); recompress it with gzip`);
  }
}
