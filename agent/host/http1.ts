// A small HTTP/1.1 client over node:net, for plain http:// URLs. Why not node:http:
// a boot makes few requests, each on code V8 has not compiled yet, and node:http's
// layers (ClientRequest, Agent, IncomingMessage, streams, the llhttp callbacks) cost
// about 1 ms of CPU per request there; reading the EC2 metadata service is ~45 of
// them. This client writes one request, parses one answer, and keeps the connection
// for the next request to the same host (an idle connection is unref'd, so it never
// keeps the process alive, and is closed after a few seconds).
// Per request it does as little as it can: a connection's listeners are attached
// once, when it is made, and hand each event to the request in flight; bytes arrive
// through net's `onread` (one buffer shared by every connection, copied out at once)
// rather than through a Readable stream's machinery; idle connections are closed by
// one timer for all of them, not one timer each.
// What it understands: Content-Length, chunked and close-delimited bodies, 1xx
// interim answers, HEAD/204/304 without a body, "Connection: close", HTTP/1.0.
// Timeouts, retries, redirects and the deadline stay in the Fetcher.
import { connect, type Socket } from "node:net";
import { FetchError } from "../errors";

export interface Http1Request {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  maxBytes: number;
}

export interface Http1Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** An answer on the way; `abort` ends it (the Fetcher's timeout) and closes its connection. */
export interface Http1Call {
  response: Promise<Http1Response>;
  abort(err: FetchError): void;
}

const MAX_HEAD_BYTES = 64 * 1024;
const IDLE_MS = 4000;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// As node:http: later copies of these headers are dropped rather than joined.
const SINGLE = new Set(["age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host", "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization", "referer", "retry-after", "server", "user-agent"]);
// Methods node:http sends without a Content-Length when there is no body.
const NO_BODY_METHODS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);
const EMPTY = Buffer.alloc(0);

function serialize(url: URL, req: Http1Request): Buffer {
  // Names are case-insensitive: a caller's Host, User-Agent or Authorization replaces sprout's, as with node:http.
  const headers = new Map<string, string>();
  const set = (name: string, value: string) => {
    headers.delete(name.toLowerCase());
    headers.set(name.toLowerCase(), `${name}: ${value}`);
  };
  set("Host", url.host);
  set("User-Agent", "sprout");
  if (url.username || url.password) set("Authorization", `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`);
  for (const [k, v] of Object.entries(req.headers)) {
    if (!TOKEN.test(k) || /[\r\n\0]/.test(v)) throw new FetchError("io", url.toString(), `the request header ${JSON.stringify(k)} has a character HTTP does not allow`, { hint: "remove line breaks and control characters from the header" });
    set(k, v);
  }
  if (!headers.has("content-length") && (req.body !== undefined || !NO_BODY_METHODS.has(req.method))) set("Content-Length", String(req.body?.length ?? 0));
  const head = Buffer.from(`${req.method} ${url.pathname || "/"}${url.search} HTTP/1.1\r\n${[...headers.values()].join("\r\n")}\r\n\r\n`, "latin1");
  return req.body && req.body.length > 0 ? Buffer.concat([head, req.body]) : head;
}

type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" } | { kind: "close" };

/**
 * The answer parser for one request: bytes in, an answer or an error out. It never
 * sees the socket; `feed` returns the bytes that belong to a later answer (there
 * should be none) once the answer is complete.
 */
class AnswerParser {
  status = 0;
  headers: Record<string, string> = {};
  keepAlive = true;
  private head: Buffer = EMPTY;
  private framing: Framing | null = null;
  private chunks: Buffer[] = [];
  private total = 0;
  // chunked state: bytes left in the current chunk (-1: reading a size line), and whether the CRLF after it is due
  private chunkLeft = -1;
  private chunkCrlf = false;
  private line = "";
  private inTrailers = false;
  done = false;
  sawBytes = false;

  constructor(
    readonly url: string,
    private method: string,
    private maxBytes: number,
  ) {}

  get body(): Buffer {
    // Each chunk is the parser's own (every read is copied out of the shared buffer), so one chunk needs no copy.
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.total);
  }

  /** Returns true once the whole answer has been read. Throws FetchError on a broken or oversized answer. */
  feed(data: Buffer): boolean {
    this.sawBytes = true;
    let buf = data;
    while (buf.length > 0 && !this.done) {
      if (this.framing === null) buf = this.readHead(buf);
      else buf = this.readBody(buf);
    }
    // Bytes after the answer: the connection is out of step; do not use it again.
    if (buf.length > 0) this.keepAlive = false;
    return this.done;
  }

  /** The connection closed: complete for a close-delimited body, else cut short. */
  end(): void {
    if (this.done) return;
    if (this.framing?.kind === "close") {
      this.done = true;
      return;
    }
    if (this.framing?.kind === "length") throw new FetchError("truncated", this.url, `answer cut short: ${this.total} of ${this.total + this.framing.left} bytes`);
    if (this.framing?.kind === "chunked") throw new FetchError("truncated", this.url, "the server closed the connection before the end of the answer");
    throw new FetchError(this.sawBytes ? "truncated" : "connect", this.url, this.sawBytes ? "the server closed the connection in the middle of the answer's header" : "the server closed the connection without answering");
  }

  private readHead(buf: Buffer): Buffer {
    const before = this.head.length;
    this.head = before === 0 ? buf : Buffer.concat([this.head, buf]);
    // The blank line may straddle two reads: look from 3 bytes before this one.
    const at = this.head.indexOf("\r\n\r\n", Math.max(0, before - 3));
    if (at < 0) {
      if (this.head.length > MAX_HEAD_BYTES) throw new FetchError("io", this.url, `the answer's header is larger than ${MAX_HEAD_BYTES} bytes`);
      return EMPTY;
    }
    const text = this.head.subarray(0, at).toString("latin1");
    const rest = this.head.subarray(at + 4);
    this.head = EMPTY;
    this.parseHead(text);
    return rest;
  }

  private parseHead(text: string): void {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (!m) throw new FetchError("io", this.url, `not an HTTP/1 answer (${JSON.stringify(lines[0]!.slice(0, 40))})`, { hint: "check that the URL points at a web server" });
    const status = Number(m[2]);
    if (status >= 100 && status < 200 && status !== 101) return; // interim: the real answer follows
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (headers[name] === undefined) headers[name] = value;
      else if (!SINGLE.has(name)) headers[name] += `, ${value}`;
    }
    this.status = status;
    this.headers = headers;
    const conn = (headers.connection ?? "").toLowerCase();
    this.keepAlive = m[1] === "1" ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn);
    const te = (headers["transfer-encoding"] ?? "").toLowerCase();
    if (this.method === "HEAD" || status === 204 || status === 304) this.framing = { kind: "none" };
    else if (/\bchunked\s*$/.test(te)) this.framing = { kind: "chunked" };
    else if (headers["content-length"] !== undefined) {
      if (!/^\d+$/.test(headers["content-length"])) throw new FetchError("io", this.url, `the answer has an invalid Content-Length ${JSON.stringify(headers["content-length"])}`);
      const len = Number(headers["content-length"]);
      if (len > this.maxBytes) throw new FetchError("too-large", this.url, `answer of ${len} bytes is larger than the limit of ${this.maxBytes}`);
      this.framing = { kind: "length", left: len };
    } else {
      this.framing = { kind: "close" };
      this.keepAlive = false;
    }
    if (this.framing.kind === "none" || (this.framing.kind === "length" && this.framing.left === 0)) this.done = true;
  }

  private keep(data: Buffer): void {
    if (data.length === 0) return;
    this.total += data.length;
    if (this.total > this.maxBytes) throw new FetchError("too-large", this.url, `answer is larger than the limit of ${this.maxBytes} bytes`);
    this.chunks.push(data);
  }

  private readBody(buf: Buffer): Buffer {
    const f = this.framing!;
    if (f.kind === "close") {
      this.keep(buf);
      return EMPTY;
    }
    if (f.kind === "length") {
      const take = Math.min(f.left, buf.length);
      this.keep(buf.subarray(0, take));
      f.left -= take;
      if (f.left === 0) this.done = true;
      return buf.subarray(take);
    }
    if (f.kind === "none") return buf;
    return this.readChunked(buf);
  }

  private readChunked(buf: Buffer): Buffer {
    while (buf.length > 0 && !this.done) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, buf.length);
        this.keep(buf.subarray(0, take));
        this.chunkLeft -= take;
        buf = buf.subarray(take);
        if (this.chunkLeft === 0) this.chunkCrlf = true;
        continue;
      }
      // A line: a chunk size, the CRLF after a chunk's data, or a trailer.
      const nl = buf.indexOf(10);
      const part = buf.subarray(0, nl < 0 ? buf.length : nl + 1).toString("latin1");
      buf = buf.subarray(part.length);
      this.line += part;
      if (this.line.length > 4096) throw new FetchError("io", this.url, "a chunk header of the answer is too long");
      if (nl < 0) break;
      const line = this.line.replace(/\r?\n$/, "");
      this.line = "";
      if (this.chunkCrlf) {
        if (line !== "") throw new FetchError("io", this.url, "the answer's chunked encoding is broken");
        this.chunkCrlf = false;
      } else if (this.inTrailers) {
        if (line === "") this.done = true;
      } else {
        const size = /^([0-9a-fA-F]{1,12})\s*(?:;.*)?$/.exec(line);
        if (!size) throw new FetchError("io", this.url, `the answer's chunked encoding is broken (chunk size ${JSON.stringify(line.slice(0, 20))})`);
        const n = parseInt(size[1]!, 16);
        if (this.total + n > this.maxBytes) throw new FetchError("too-large", this.url, `answer is larger than the limit of ${this.maxBytes} bytes`);
        if (n === 0) this.inTrailers = true;
        else this.chunkLeft = n;
      }
    }
    return buf;
  }
}

/** The request a connection is answering: its parser, and what to do with the answer or the failure. */
interface Exchange {
  parser: AnswerParser;
  /** Sent on a kept connection: if that connection turns out closed before any byte came, send it again on a new one. */
  reused: boolean;
  resolve(r: Http1Response): void;
  fail(e: FetchError): void;
  resend(): void;
}

/** Idle keep-alive connections by "host|port". */
const idle = new Map<string, Connection[]>();
let sweeper: NodeJS.Timeout | null = null;
/** Where every connection's bytes land (net's `onread`); each read is copied out before the next can come. */
let readBuffer: Buffer | null = null;

/**
 * One connection to a host and port. Its listeners are attached once, when it is made,
 * and hand each event to the exchange in flight; with none in flight (idle), any event
 * (a close, stray bytes, an error) ends the connection.
 */
class Connection {
  readonly socket: Socket;
  exchange: Exchange | null = null;
  idleSince = 0;

  constructor(
    readonly key: string,
    host: string,
    port: number,
  ) {
    readBuffer ??= Buffer.allocUnsafe(64 * 1024);
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array) => {
          this.onBytes(Buffer.from(buf.subarray(0, n)));
          return true;
        },
      },
    });
    this.socket.on("end", () => this.onEnd());
    this.socket.on("close", () => this.onEnd());
    this.socket.on("error", (e: NodeJS.ErrnoException) => this.onError(e));
  }

  send(ex: Exchange, bytes: Buffer): void {
    this.exchange = ex;
    this.socket.write(bytes);
  }

  /** Ends the exchange in flight without an answer (the Fetcher's timeout) and the connection with it. */
  abandon(ex: Exchange): void {
    if (this.exchange !== ex) return;
    this.exchange = null;
    this.socket.destroy();
  }

  private onBytes(data: Buffer): void {
    const ex = this.exchange;
    if (!ex) return this.drop();
    try {
      if (ex.parser.feed(data)) this.complete(ex);
    } catch (e) {
      this.failWith(ex, e as FetchError);
    }
  }

  private onEnd(): void {
    const ex = this.exchange;
    if (!ex) return this.drop();
    if (ex.reused && !ex.parser.sawBytes) {
      // The server closed the kept connection before this request reached it.
      this.exchange = null;
      this.socket.destroy();
      ex.resend();
      return;
    }
    try {
      ex.parser.end();
      this.complete(ex);
    } catch (e) {
      this.failWith(ex, e as FetchError);
    }
  }

  private onError(e: NodeJS.ErrnoException): void {
    const ex = this.exchange;
    if (!ex) return this.drop();
    if (ex.reused && !ex.parser.sawBytes) return this.onEnd();
    const href = ex.parser.url;
    if (ex.parser.sawBytes) this.failWith(ex, new FetchError("truncated", href, `answer broken off: ${e.message}`, { cause: e }));
    else this.failWith(ex, new FetchError("connect", href, `cannot connect: ${e.code ?? e.message}`, { cause: e }));
  }

  private complete(ex: Exchange): void {
    this.exchange = null;
    const { parser } = ex;
    if (parser.keepAlive && !this.socket.destroyed) park(this);
    else this.socket.destroy();
    ex.resolve({ status: parser.status, headers: parser.headers, body: parser.body });
  }

  private failWith(ex: Exchange, e: FetchError): void {
    this.exchange = null;
    this.socket.destroy();
    ex.fail(e);
  }

  /** Out of the idle list and closed. */
  drop(): void {
    const list = idle.get(this.key);
    const i = list?.indexOf(this) ?? -1;
    if (i >= 0) {
      list!.splice(i, 1);
      if (list!.length === 0) idle.delete(this.key);
    }
    this.socket.destroy();
  }
}

/** Keeps a connection for the next request to the same host, without holding the process open. */
function park(conn: Connection): void {
  conn.idleSince = performance.now();
  conn.socket.unref();
  const list = idle.get(conn.key);
  if (list) list.push(conn);
  else idle.set(conn.key, [conn]);
  // One timer for all idle connections: it closes those idle for IDLE_MS and stops when none is left.
  sweeper ??= setInterval(sweepIdle, IDLE_MS / 4).unref();
}

function sweepIdle(): void {
  const now = performance.now();
  for (const list of [...idle.values()]) for (const c of [...list]) if (now - c.idleSince >= IDLE_MS) c.drop();
  if (idle.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

function takeIdle(key: string): Connection | undefined {
  const list = idle.get(key);
  for (let c = list?.pop(); c; c = list!.pop()) {
    if (list!.length === 0) idle.delete(key);
    if (c.socket.destroyed || performance.now() - c.idleSince >= IDLE_MS) {
      c.socket.destroy();
      continue;
    }
    c.socket.ref();
    return c;
  }
  return undefined;
}

/** Closes every idle connection (tests; a long-lived process that is done with a server). */
export function closeIdleConnections(): void {
  for (const list of idle.values()) for (const c of list) c.socket.destroy();
  idle.clear();
  if (sweeper) clearInterval(sweeper);
  sweeper = null;
}

/**
 * One request on an idle kept-alive connection to the same host, else a new one.
 * A kept connection the server closed meanwhile (no byte of the answer came) is
 * replaced by a new one once; that is the only retry here, and only idempotent
 * requests are sent on a kept connection.
 */
export function http1Request(url: URL, req: Http1Request): Http1Call {
  const href = url.href;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || 80);
  const key = `${host}|${port}`;
  const bytes = serialize(url, req);
  let conn: Connection | undefined;
  let settled = false;
  let resolveCall: (r: Http1Response) => void = () => {};
  let rejectCall: (e: FetchError) => void = () => {};
  const response = new Promise<Http1Response>((resolve, reject) => {
    resolveCall = resolve;
    rejectCall = reject;
  });
  const ex: Exchange = {
    parser: new AnswerParser(href, req.method, req.maxBytes),
    reused: false,
    resolve(r) {
      if (settled) return;
      settled = true;
      resolveCall(r);
    },
    fail(e) {
      if (settled) return;
      settled = true;
      rejectCall(e);
    },
    resend: () => send(undefined),
  };
  const send = (kept: Connection | undefined) => {
    if (settled) return;
    try {
      conn = kept ?? new Connection(key, host, port);
    } catch (e) {
      ex.fail(new FetchError("connect", href, `cannot connect: ${(e as Error).message}`, { cause: e }));
      return;
    }
    // A resend follows a kept connection that closed before any byte came: the parser is still untouched.
    ex.reused = kept !== undefined;
    conn.send(ex, bytes);
  };
  // A request that must not be sent twice (POST) gets a new connection, so it never needs the retry above.
  send(IDEMPOTENT.has(req.method) ? takeIdle(key) : undefined);
  return {
    response,
    abort(e) {
      if (settled) return;
      conn?.abandon(ex);
      ex.fail(e);
    },
  };
}
