// `keyid:` keys, fetched from an OpenPGP keyserver over HKP (what `gpg
// --recv-keys` speaks): GET /pks/lookup?op=get&options=mr&search=0x<KEYID>.
// The answer is only used when one of its keys is the one asked for: a keyserver
// (or anyone between) cannot slip in a different key. Bounded in time and size.
import type { Fetcher } from "../../agent/host/types";
import { dearmor, KeyError, normalizeKeyId, selectKeys } from "./openpgp";

/** cloud-init's default keyserver. */
export const DEFAULT_KEYSERVER = "keyserver.ubuntu.com";
const FETCH_TIMEOUT_MS = 15_000;
const MAX_KEY_BYTES = 1024 * 1024;

/** The lookup URL for a keyserver as people write it: a host name, host:port, hkp://, hkps://, http:// or https://. */
export function lookupUrl(keyserver: string, keyid: string): string {
  const given = keyserver.trim().replace(/\/+$/, "");
  const m = /^([a-z]+):\/\/(.+)$/i.exec(given);
  const scheme = m ? m[1]!.toLowerCase() : "hkp";
  const rest = m ? m[2]! : given;
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d+)?(\/.*)?$/i.test(rest)) throw new KeyError(`keyserver ${JSON.stringify(keyserver)} is not a host name or URL (e.g. keyserver.ubuntu.com or hkps://keys.openpgp.org)`);
  const hasPort = /^(\[[^\]]+\]|[^/:]+):\d+/.test(rest);
  const base =
    scheme === "hkp" ? `http://${rest}${hasPort ? "" : ":11371"}`
    : scheme === "hkps" ? `https://${rest}`
    : scheme === "http" || scheme === "https" ? `${scheme}://${rest}`
    : null;
  if (base === null) throw new KeyError(`keyserver ${JSON.stringify(keyserver)}: sprout speaks hkp://, hkps://, http:// and https:// to keyservers, not ${scheme}://`);
  return `${base}/pks/lookup?op=get&options=mr&search=0x${keyid}`;
}

/** The binary key `keyid` names, from `keyserver`. Throws KeyError with what went wrong and what to do. */
export async function fetchKey(fetcher: Fetcher, keyserver: string, keyid: string, deadline?: number): Promise<Buffer> {
  const id = normalizeKeyId(keyid);
  if (!id) throw new KeyError(`keyid ${JSON.stringify(keyid)} is not a key id: give 8, 16 or 40 hex digits (the fingerprint: gpg --fingerprint)`);
  const url = lookupUrl(keyserver, id);
  let body: Buffer;
  try {
    const res = await fetcher.fetch(url, { timeoutMs: FETCH_TIMEOUT_MS, retries: 1, retryDelayMs: 1000, maxBytes: MAX_KEY_BYTES, deadline });
    if (res.status === 404) throw new KeyError(`keyserver ${keyserver} has no key ${id}: check the keyid, or give the key itself with key:`);
    if (res.status !== 200) throw new KeyError(`keyserver ${keyserver} answered ${res.status} for key ${id}; try again, or give the key itself with key:`);
    body = res.body;
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(`could not fetch key ${id} from keyserver ${keyserver} (${(err as Error).message}); the machine needs to reach it, or give the key itself with key:`);
  }
  let key: Buffer;
  try {
    key = dearmor(body.toString("utf8"));
  } catch (err) {
    throw new KeyError(`keyserver ${keyserver} did not answer with a key for ${id}: ${(err as Error).message}`);
  }
  const wanted = selectKeys(key, id);
  if (wanted.length === 0) throw new KeyError(`keyserver ${keyserver} answered with a key that is not ${id}; it was not installed`);
  return wanted;
}
