import type { IncomingMessage } from "node:http";
import { FetchError } from "../errors";
import type { Http1Call, Http1Request, Http1Response } from "./http1";
import type { Clock, FetchOptions, FetchResponse, Fetcher, TargetRoot } from "./types";

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** http1.ts once loaded: a boot's ~45 requests to a metadata service need not each wait on import(). */
let http1: typeof import("./http1") | undefined;
/** Where Debian/Ubuntu and RHEL-likes keep the system's CA bundle. */
const SYSTEM_CA_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];
/** OpenSSL's answers when the server's certificate chain is not trusted or does not fit. */
const UNTRUSTED = new Set(["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_UNTRUSTED", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERR_TLS_CERT_ALTNAME_INVALID"]);

/**
 * HTTP(S) and file:// with a bound on everything: each request has a timeout,
 * retries are counted, and an overall deadline stops both. file:// URLs are
 * read under the target root, like every other file sprout reads.
 */
export class BoundedFetcher implements Fetcher {
  constructor(
    private root: TargetRoot,
    private clock: Clock,
  ) {}

  async fetch(url: string, opts: FetchOptions): Promise<FetchResponse> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new FetchError("scheme", url, "not a valid URL", { hint: "write it as http://host/path, https://host/path or file:///path" });
    }
    if (parsed.protocol === "file:") return this.readFileUrl(url, decodeURIComponent(parsed.pathname), opts);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new FetchError("scheme", url, `unsupported scheme ${parsed.protocol.replace(/:$/, "")}`, { hint: "use http, https or file" });
    }
    const retries = opts.retries ?? 0;
    const retryDelay = opts.retryDelayMs ?? 500;
    const isAnswer = opts.retryStatus ? (s: number) => !opts.retryStatus!(s) : (s: number) => s < 500;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        const wait = opts.deadline === undefined ? retryDelay : Math.min(retryDelay, opts.deadline - this.clock.monoMs());
        if (wait > 0) await this.clock.sleep(wait, opts.cancel);
      }
      if (opts.cancel?.cancelled) throw cancelledError(url);
      if (opts.deadline !== undefined && this.clock.monoMs() >= opts.deadline) {
        throw new FetchError("deadline", url, `gave up: the overall deadline passed after ${attempt} attempt(s)`, {
          cause: lastError,
          hint: "raise the datasource's max_wait or check that the server is reachable",
        });
      }
      try {
        const res = await this.once(url, opts, opts.maxRedirects ?? 5, parsed);
        if (isAnswer(res.status) || attempt === retries) return res;
        lastError = new FetchError("io", url, `server answered ${res.status}`);
      } catch (err) {
        lastError = err;
        // An answer retrying cannot change: too large, a scheme or redirect refused, an untrusted certificate.
        if (err instanceof FetchError && (err.kind === "too-large" || err.kind === "scheme" || err.kind === "redirect" || err.kind === "tls" || err.kind === "cancelled")) throw err;
        if (attempt === retries) throw err;
      }
    }
    throw lastError;
  }

  private readFileUrl(url: string, p: string, opts: FetchOptions): FetchResponse {
    const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    let body: Buffer | null;
    try {
      body = this.root.tryReadFile(p, max);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EFBIG") throw new FetchError("too-large", url, `larger than ${max} bytes`);
      throw new FetchError("io", url, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    if (body === null) return { url, status: 404, headers: {}, body: Buffer.alloc(0) };
    return { url, status: 200, headers: {}, body };
  }

  private cas: Promise<string[] | undefined> | undefined;

  /**
   * The CAs an https seed or metadata URL is checked against: Node's own list plus the
   * target system's bundle, so a private CA added the Debian way (a file in
   * /usr/local/share/ca-certificates, then update-ca-certificates) is trusted, as
   * cloud-init trusts it. Read at the first https request only.
   */
  private trustedCas(): Promise<string[] | undefined> {
    this.cas ??= (async () => {
      let bundle: string | null = null;
      for (const f of SYSTEM_CA_BUNDLES) {
        try {
          bundle = this.root.tryReadText(f, 8 * 1024 * 1024);
        } catch {
          bundle = null;
        }
        if (bundle) break;
      }
      if (!bundle) return undefined;
      const tls = await import("node:tls");
      return [...tls.rootCertificates, bundle];
    })();
    return this.cas;
  }

  /** The last request queued for each server (scheme, host and port): see turn(). */
  private readonly servers = new Map<string, Promise<void>>();

  /**
   * Waits until the requests to the same server asked before this one are done, and
   * returns what ends this one's turn. One request at a time per server, on the
   * connection the last one kept: a metadata service or seed server reached through one
   * forwarded stream (qemu's guestfwd to a chardev, a serial console) gets each answer
   * back to the request that asked, where requests side by side would get each other's.
   * A metadata service answers in well under a millisecond, so little is lost; each
   * request waits at most for its predecessors, and each of them is bounded.
   */
  private async turn(server: string): Promise<() => void> {
    const before = this.servers.get(server) ?? Promise.resolve();
    let end!: () => void;
    const mine = before.then(() => new Promise<void>((resolve) => (end = resolve)));
    this.servers.set(server, mine);
    await before;
    return () => {
      end();
      if (this.servers.get(server) === mine) this.servers.delete(server);
    };
  }

  private async once(url: string, opts: FetchOptions, redirectsLeft: number, u = new URL(url)): Promise<FetchResponse> {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const req = { method: opts.method ?? "GET", headers: opts.headers ?? {}, body: opts.body === undefined ? undefined : Buffer.from(opts.body), maxBytes };
    const endTurn = await this.turn(u.origin);
    let answer: Http1Response;
    try {
      if (opts.cancel?.cancelled) throw cancelledError(url);
      // The time waited for the turn counts against the deadline, not against this request's own timeout.
      const remaining = opts.deadline === undefined ? Infinity : opts.deadline - this.clock.monoMs();
      if (remaining <= 0) throw new FetchError("deadline", url, "no time left before the deadline", { hint: "check that the server is up and reachable; the timeout is configurable" });
      const timeoutMs = Math.max(1, Math.min(opts.timeoutMs, remaining));
      // Plain http (the metadata services, most seeds) goes through sprout's own small client; see http1.ts.
      const call = u.protocol === "https:" ? httpsRequest(await import("node:https"), url, req, await this.trustedCas()) : (http1 ??= await import("./http1")).http1Request(u, req);
      const timer = setTimeout(() => {
        const kind = timeoutMs < opts.timeoutMs ? "deadline" : "timeout";
        call.abort(new FetchError(kind, url, `no complete answer within ${Math.round(timeoutMs)} ms`, { hint: "check that the server is up and reachable; the timeout is configurable" }));
      }, timeoutMs);
      const stopListening = opts.cancel?.onCancel(() => call.abort(cancelledError(url)));
      try {
        answer = await call.response;
      } finally {
        clearTimeout(timer);
        stopListening?.();
      }
    } finally {
      endTurn();
    }
    const res: FetchResponse = { url, ...answer };
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      if (redirectsLeft <= 0) throw new FetchError("redirect", url, "too many redirects");
      const next = new URL(res.headers.location, url).toString();
      if (!/^https?:/.test(next)) throw new FetchError("redirect", url, `refusing redirect to ${next}`);
      return this.once(next, opts, redirectsLeft - 1);
    }
    return res;
  }
}

function cancelledError(url: string): FetchError {
  return new FetchError("cancelled", url, "called off: no longer needed");
}

/** An https request through node:https, with the same bounds and errors as http1Request. */
function httpsRequest(https: typeof import("node:https"), url: string, r: Http1Request, ca: string[] | undefined): Http1Call {
  let fail: (e: FetchError) => void = () => {};
  const response = new Promise<Http1Response>((resolve, reject) => {
    let done = false;
    fail = (e: FetchError) => {
      if (done) return;
      done = true;
      req.destroy();
      reject(e);
    };
    const headers: Record<string, string> = { "user-agent": "sprout", ...r.headers };
    if (r.body !== undefined) headers["content-length"] = String(r.body.length);
    const req = https.request(url, { method: r.method, headers, ...(ca ? { ca } : {}) }, (msg: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const declared = Number(msg.headers["content-length"]);
      if (Number.isFinite(declared) && declared > r.maxBytes) {
        fail(new FetchError("too-large", url, `answer of ${declared} bytes is larger than the limit of ${r.maxBytes}`));
        return;
      }
      msg.on("data", (chunk: Buffer) => {
        total += chunk.length;
        if (total > r.maxBytes) {
          fail(new FetchError("too-large", url, `answer is larger than the limit of ${r.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      msg.on("aborted", () => fail(new FetchError("truncated", url, "the server closed the connection before the end of the answer")));
      msg.on("error", (e) => fail(new FetchError("truncated", url, `answer broken off: ${e.message}`, { cause: e })));
      msg.on("end", () => {
        if (done) return;
        if (Number.isFinite(declared) && total < declared && !msg.complete) {
          fail(new FetchError("truncated", url, `answer cut short: ${total} of ${declared} bytes`));
          return;
        }
        done = true;
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(msg.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
        resolve({ status: msg.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks, total) });
      });
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code && UNTRUSTED.has(e.code)) {
        fail(
          new FetchError("tls", url, `the server's certificate is not accepted (${e.code}: ${e.message})`, {
            cause: e,
            hint: "give the server a certificate for this name from a CA the machine trusts, or add its CA: copy it to /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates (sprout reads /etc/ssl/certs/ca-certificates.crt)",
          }),
        );
      } else fail(new FetchError("connect", url, `cannot connect: ${e.code ?? e.message}`, { cause: e }));
    });
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
  return { response, abort: (e) => fail(e) };
}
