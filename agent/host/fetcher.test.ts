import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cancel } from "../cancel";
import { FetchError } from "../errors";
import { systemClock } from "./clock";
import { BoundedFetcher } from "./fetcher";
import { FsTargetRoot } from "./target-root";
import { makeTestCa, openSslMissing, type TestCa } from "../../test/helpers/test-ca";

let server: Server;
let base = "";
let flaky = 0;
/** Requests to /hang?NAME whose connection the client closed (the server never answers them), by NAME. */
const hangsClosedByClient = new Map<string, number>();
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "";
    if (url.startsWith("/hang?")) {
      const name = url.slice("/hang?".length);
      res.on("close", () => hangsClosedByClient.set(name, (hangsClosedByClient.get(name) ?? 0) + 1));
      return;
    }
    if (url === "/ok") res.end("hello");
    else if (url === "/redirect") {
      res.writeHead(302, { location: "/ok" });
      res.end();
    } else if (url === "/loop") {
      res.writeHead(302, { location: "/loop" });
      res.end();
    } else if (url === "/hang") {
      // never answers
    } else if (url === "/stall") {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    } else if (url === "/cut") {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => res.socket?.destroy());
    } else if (url === "/big") res.end(Buffer.alloc(200_000));
    else if (url === "/flaky") {
      flaky++;
      res.writeHead(flaky < 3 ? 503 : 200);
      res.end(flaky < 3 ? "busy" : "finally");
    } else if (url === "/500") {
      res.writeHead(500);
      res.end("broken");
    } else {
      res.writeHead(404);
      res.end("nope");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const root = new FsTargetRoot(mkdtempSync(join(tmpdir(), "sprout-fetch-")));
const f = new BoundedFetcher(root, systemClock);

async function failure(p: Promise<unknown>): Promise<FetchError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(FetchError);
  return e as FetchError;
}

describe("BoundedFetcher", () => {
  it("fetches a body and follows redirects", async () => {
    expect((await f.fetch(`${base}/ok`, { timeoutMs: 2000 })).body.toString()).toBe("hello");
    const r = await f.fetch(`${base}/redirect`, { timeoutMs: 2000 });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe("hello");
  });

  it("returns 404 as an answer, not an error", async () => {
    expect((await f.fetch(`${base}/missing`, { timeoutMs: 2000, retries: 3 })).status).toBe(404);
  });

  it("bounds a request that never answers", async () => {
    expect((await failure(f.fetch(`${base}/hang`, { timeoutMs: 200 }))).kind).toBe("timeout");
  });

  it("bounds a body that stalls half way", async () => {
    expect((await failure(f.fetch(`${base}/stall`, { timeoutMs: 300 }))).kind).toBe("timeout");
  });

  it("reports a body cut short", async () => {
    expect(["truncated", "connect"]).toContain((await failure(f.fetch(`${base}/cut`, { timeoutMs: 2000 }))).kind);
  });

  it("stops retrying at the overall deadline", async () => {
    const start = performance.now();
    const e = await failure(f.fetch(`${base}/hang`, { timeoutMs: 10_000, retries: 100, deadline: performance.now() + 400 }));
    expect(e.kind).toBe("deadline");
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it("a cancelled request ends at once, closes its connection, and is not retried", async () => {
    const cancel = new Cancel();
    const pending = failure(f.fetch(`${base}/hang?cancelled`, { timeoutMs: 30_000, retries: 5, cancel }));
    await new Promise((r) => setTimeout(r, 100));
    cancel.cancel();
    const e = await pending;
    expect([e.kind, e.message]).toEqual(["cancelled", `[fetch] ${base}/hang?cancelled: called off: no longer needed`]);
    await new Promise((r) => setTimeout(r, 100));
    expect(hangsClosedByClient.get("cancelled")).toBe(1);
    // Already cancelled: no request is made at all.
    expect((await failure(f.fetch(`${base}/ok`, { timeoutMs: 2000, cancel }))).kind).toBe("cancelled");
  });

  it("asks one server one request at a time: one queued behind a hanging one gets its own whole timeout, and one called off while queued never goes out", async () => {
    const g = new BoundedFetcher(root, systemClock);
    const start = performance.now();
    const hanging = failure(g.fetch(`${base}/hang?first`, { timeoutMs: 300 }));
    // Asked at once, but sent only when the hanging one has timed out: its own 2 s start then.
    const queued = g.fetch(`${base}/ok`, { timeoutMs: 2000 });
    const cancel = new Cancel();
    const calledOff = failure(g.fetch(`${base}/hang?queued-then-cancelled`, { timeoutMs: 2000, cancel }));
    cancel.cancel();
    expect((await hanging).kind).toBe("timeout");
    expect((await queued).body.toString()).toBe("hello");
    expect(performance.now() - start).toBeGreaterThanOrEqual(290);
    expect((await calledOff).kind).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 100));
    expect(hangsClosedByClient.get("queued-then-cancelled")).toBeUndefined();
    // Another server (another port) is not held up by this one's queue.
    const other = createServer((_req, res) => res.end("other"));
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
    try {
      const slow = failure(g.fetch(`${base}/hang?second`, { timeoutMs: 1500 }));
      const t0 = performance.now();
      expect((await g.fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`, { timeoutMs: 1000 })).body.toString()).toBe("other");
      expect(performance.now() - t0).toBeLessThan(1000);
      await slow;
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });

  it("a cancelled wait ends at once and clears its timer", async () => {
    const cancel = new Cancel();
    const slept = systemClock.sleep(60_000, cancel).then(() => "woke");
    cancel.cancel();
    expect(await Promise.race([slept, new Promise((r) => setTimeout(() => r("still asleep"), 1000))])).toBe("woke");
    expect(await systemClock.sleep(60_000, cancel).then(() => "at once")).toBe("at once");
  });

  it("retries 5xx answers a bounded number of times", async () => {
    const r = await f.fetch(`${base}/flaky`, { timeoutMs: 2000, retries: 3, retryDelayMs: 10 });
    expect(r.body.toString()).toBe("finally");
    const r2 = await f.fetch(`${base}/500`, { timeoutMs: 2000, retries: 1, retryDelayMs: 10 });
    expect(r2.status).toBe(500);
  });

  it("refuses a body larger than the limit", async () => {
    expect((await failure(f.fetch(`${base}/big`, { timeoutMs: 2000, maxBytes: 1000 }))).kind).toBe("too-large");
  });

  it("refuses redirect loops and unknown schemes", async () => {
    expect((await failure(f.fetch(`${base}/loop`, { timeoutMs: 2000 }))).kind).toBe("redirect");
    expect((await failure(f.fetch("ftp://127.0.0.1/x", { timeoutMs: 2000 }))).kind).toBe("scheme");
    expect((await failure(f.fetch("not a url", { timeoutMs: 2000 }))).kind).toBe("scheme");
  });

  it("reports a refused connection", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    s.close();
    expect((await failure(f.fetch(`http://127.0.0.1:${port}/`, { timeoutMs: 2000 }))).kind).toBe("connect");
  });

  it("reads file:// URLs under the target root", async () => {
    mkdirSync(join(root.dir, "seed"), { recursive: true });
    writeFileSync(join(root.dir, "seed/meta-data"), "instance-id: x\n");
    expect((await f.fetch("file:///seed/meta-data", { timeoutMs: 100 })).body.toString()).toBe("instance-id: x\n");
    expect((await f.fetch("file:///seed/none", { timeoutMs: 100 })).status).toBe(404);
  });
});

describe.skipIf(openSslMissing() !== null)("BoundedFetcher over https", () => {
  let ca: TestCa;
  let tlsServer: HttpsServer;
  let tlsBase = "";
  beforeAll(async () => {
    ca = makeTestCa();
    tlsServer = createHttpsServer({ cert: ca.certPem, key: ca.keyPem }, (req, res) => {
      if (req.url === "/seed/meta-data") res.end("instance-id: iid-tls\n");
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
    tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  });
  afterAll(() => tlsServer?.close());

  it("trusts a private CA in the target system's bundle (/etc/ssl/certs/ca-certificates.crt)", async () => {
    const root = new FsTargetRoot(mkdtempSync(join(tmpdir(), "sprout-f-")));
    mkdirSync(join(root.dir, "etc/ssl/certs"), { recursive: true });
    writeFileSync(join(root.dir, "etc/ssl/certs/ca-certificates.crt"), ca.caPem);
    const f = new BoundedFetcher(root, systemClock);
    const res = await f.fetch(`${tlsBase}/seed/meta-data`, { timeoutMs: 5000 });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("instance-id: iid-tls\n");
    expect((await f.fetch(`${tlsBase}/seed/none`, { timeoutMs: 5000 })).status).toBe(404);
  });

  it("refuses a server whose CA the machine does not trust, and says how to add it", async () => {
    const f = new BoundedFetcher(new FsTargetRoot(mkdtempSync(join(tmpdir(), "sprout-f-"))), systemClock);
    const err = await f.fetch(`${tlsBase}/seed/meta-data`, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).kind).toBe("tls");
    expect((err as FetchError).message).toMatch(/certificate is not accepted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    expect((err as FetchError).hint).toMatch(/update-ca-certificates/);
  });
});
