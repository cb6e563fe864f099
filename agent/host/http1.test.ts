// The Fetcher's own HTTP/1.1 client against servers that answer with raw bytes, so
// each framing and each way a connection can break is exactly what the test says.
import { spawn } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FetchError } from "../errors";
import { systemClock } from "./clock";
import { BoundedFetcher } from "./fetcher";
import { closeIdleConnections, http1Request } from "./http1";
import { FsTargetRoot } from "./target-root";

const f = new BoundedFetcher(new FsTargetRoot(mkdtempSync(join(tmpdir(), "sprout-http1-"))), systemClock);
const servers: Server[] = [];

afterEach(async () => {
  closeIdleConnections();
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** A server that hands each request (its head, as text) and the socket to `answer`; counts connections. */
async function rawServer(answer: (head: string, sock: Socket, body: Buffer) => void, host = "127.0.0.1"): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const s = createServer((sock) => {
    connections++;
    let buf = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString("latin1");
        const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len);
        buf = buf.subarray(end + 4 + len);
        answer(head, sock, body);
      }
    });
    sock.on("error", () => {});
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as AddressInfo).port;
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, connections: () => connections };
}

async function failure(p: Promise<unknown>): Promise<FetchError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(FetchError);
  return e as FetchError;
}

describe("the Fetcher's HTTP/1.1 client", () => {
  it("reads chunked answers, trailers and chunk extensions included, and lower-cases header names", async () => {
    const s = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Thing: A\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n"));
    const r = await f.fetch(`${s.url}/x`, { timeoutMs: 2000 });
    expect(r.body.toString()).toBe("hello world");
    expect(r.headers["x-thing"]).toBe("A");
  });

  it("reads an answer the server sends one byte at a time", async () => {
    const s = await rawServer((_h, sock) => {
      const bytes = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP");
      let i = 0;
      const next = () => (i < bytes.length - 4 ? sock.write(bytes.subarray(i, ++i), () => setImmediate(next)) : undefined);
      next();
    });
    expect((await f.fetch(`${s.url}/`, { timeoutMs: 5000 })).body.toString()).toBe("abc");
  });

  it("reads a body that ends when the server closes (HTTP/1.0, no length)", async () => {
    const s = await rawServer((_h, sock) => sock.end("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"));
    const r = await f.fetch(`${s.url}/`, { timeoutMs: 2000 });
    expect(r.body.toString()).toBe("all of it");
    expect(r.headers["content-type"]).toBe("text/plain");
  });

  it("skips 100 Continue and reads no body for HEAD and 204", async () => {
    const s = await rawServer((head, sock) => {
      if (head.startsWith("HEAD")) sock.write("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
      else if (head.startsWith("DELETE")) sock.write("HTTP/1.1 204 No Content\r\n\r\n");
      else sock.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    });
    expect((await f.fetch(`${s.url}/`, { timeoutMs: 2000, method: "HEAD" })).body.length).toBe(0);
    expect((await f.fetch(`${s.url}/`, { timeoutMs: 2000, method: "DELETE" })).status).toBe(204);
    const r = await f.fetch(`${s.url}/`, { timeoutMs: 2000, method: "POST", body: "x" });
    expect([r.status, r.body.toString()]).toEqual([201, "ok"]);
  });

  it("sends the method, path, query, Host, headers and a body with its length", async () => {
    let seen = "";
    let seenBody = "";
    const s = await rawServer((head, sock, body) => {
      seen = head;
      seenBody = body.toString();
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    await f.fetch(`${s.url}/a/b?c=d`, { timeoutMs: 2000, method: "PUT", headers: { "X-Token": "t1" }, body: "payload" });
    expect(seen).toMatch(/^PUT \/a\/b\?c=d HTTP\/1\.1\r\n/);
    expect(seen).toContain(`\r\nHost: ${new URL(s.url).host}`);
    expect(seen).toContain("\r\nX-Token: t1");
    expect(seen).toContain("\r\nContent-Length: 7");
    expect(seenBody).toBe("payload");
    await f.fetch(`${s.url}/token`, { timeoutMs: 2000, method: "PUT" });
    expect(seen).toContain("\r\nContent-Length: 0"); // a PUT without a body still says so, as node:http does
    // Credentials in the URL become Basic authentication; a caller's header replaces sprout's own, whatever its case.
    await f.fetch(s.url.replace("://", "://seed%20user:p%40ss@") + "/", { timeoutMs: 2000, headers: { "user-agent": "custom" } });
    expect(seen).toContain(`\r\nAuthorization: Basic ${Buffer.from("seed user:p@ss").toString("base64")}`);
    expect(seen.match(/user-agent/gi)).toHaveLength(1);
    expect(seen).toContain("\r\nuser-agent: custom");
  });

  it("refuses a header value with a line break instead of sending it", async () => {
    const s = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    const e = await failure(f.fetch(`${s.url}/`, { timeoutMs: 2000, headers: { "x-a": "b\r\nx-injected: 1" } }));
    expect(e.message).toMatch(/x-a.*character HTTP does not allow/);
    expect(s.connections()).toBe(0);
  });

  it("keeps the connection for the next request, and replaces one the server closed meanwhile", async () => {
    let answered = 0;
    const s = await rawServer((_h, sock) => {
      answered++;
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      if (answered === 3) setTimeout(() => sock.destroy(), 20); // an idle timeout on the server's side
    });
    for (let i = 0; i < 3; i++) expect((await f.fetch(`${s.url}/${i}`, { timeoutMs: 2000 })).body.toString()).toBe("ok");
    expect(s.connections()).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect((await f.fetch(`${s.url}/again`, { timeoutMs: 2000 })).body.toString()).toBe("ok");
    expect(s.connections()).toBe(2);
  });

  it("does not reuse a connection the server asked to close, or one that sent more than the answer", async () => {
    const s = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
    await f.fetch(`${s.url}/1`, { timeoutMs: 2000 });
    await f.fetch(`${s.url}/2`, { timeoutMs: 2000 });
    expect(s.connections()).toBe(2);
    const extra = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSURPRISE"));
    expect((await f.fetch(`${extra.url}/1`, { timeoutMs: 2000 })).body.toString()).toBe("ok");
    expect((await f.fetch(`${extra.url}/2`, { timeoutMs: 2000 })).body.toString()).toBe("ok");
    expect(extra.connections()).toBe(2);
  });

  it("gives each of many requests in flight its own answer, even when their bytes arrive interleaved", async () => {
    // Every connection's bytes land in one shared read buffer: an answer dribbled over many
    // reads while other connections read too must come out whole and on the right request.
    const s = await rawServer((head, sock) => {
      const path = head.split(" ")[1]!;
      const body = `answer for ${path} `.repeat(20);
      const bytes = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      let i = 0;
      const next = () => (i < bytes.length ? sock.write(bytes.subarray(i, (i += 7)), () => setTimeout(next, 1)) : undefined);
      next();
    });
    // The client itself, not the Fetcher: the Fetcher asks one server one request at a time (below).
    const paths = ["/a", "/b", "/c", "/d", "/e", "/f"];
    const ask = (p: string) => http1Request(new URL(`${s.url}${p}`), { method: "GET", headers: {}, maxBytes: 1 << 20 }).response.then((r) => r.body.toString());
    const bodies = await Promise.all(paths.map(ask));
    expect(bodies).toEqual(paths.map((p) => `answer for ${p} `.repeat(20)));
    expect(s.connections()).toBe(paths.length);
    // Then they are all kept: as many requests again need no new connection.
    await Promise.all(paths.map(ask));
    expect(s.connections()).toBe(paths.length);
  });

  it("asks one server one request at a time on one kept connection, so a server behind one forwarded stream answers each (qemu's guestfwd to a chardev)", async () => {
    const s = await rawServer((head, sock) => {
      const body = `answer for ${head.split(" ")[1]}`;
      sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    // What qemu does with guestfwd=tcp:ADDR:PORT-tcp:127.0.0.1:N: every guest connection's
    // bytes go into one stream to the server, and the server's bytes come back to the oldest
    // guest connection still open. Requests side by side on several connections get each other's answers.
    const upstream = connect(Number(new URL(s.url).port), "127.0.0.1");
    const open: Socket[] = [];
    const forwarder = createServer((guest) => {
      open.push(guest);
      guest.on("data", (d: Buffer) => upstream.write(d));
      guest.on("close", () => open.splice(open.indexOf(guest), 1));
      guest.on("error", () => {});
    });
    upstream.on("data", (d: Buffer) => open[0]?.write(d));
    servers.push(forwarder);
    await new Promise<void>((r) => forwarder.listen(0, "127.0.0.1", r));
    const via = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`;
    try {
      const paths = ["/meta-data/", "/user-data", "/identity", "/a", "/b", "/c"];
      const bodies = await Promise.all(paths.map((p) => f.fetch(`${via}${p}`, { timeoutMs: 3000 }).then((r) => r.body.toString())));
      expect(bodies).toEqual(paths.map((p) => `answer for ${p}`));
      expect(s.connections()).toBe(1);
    } finally {
      upstream.destroy();
    }
  });

  it("drops a kept connection the server writes to while it is idle", async () => {
    const s = await rawServer((_h, sock) => {
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      setTimeout(() => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray"), 20);
    });
    expect((await f.fetch(`${s.url}/1`, { timeoutMs: 2000 })).body.toString()).toBe("ok");
    await new Promise((r) => setTimeout(r, 100));
    expect((await f.fetch(`${s.url}/2`, { timeoutMs: 2000 })).body.toString()).toBe("ok");
    expect(s.connections()).toBe(2);
  });

  it("reports an answer cut off when the server closes a kept connection in the middle of it", async () => {
    let answered = 0;
    const s = await rawServer((_h, sock) => {
      answered++;
      if (answered === 1) sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else sock.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart");
    });
    await f.fetch(`${s.url}/1`, { timeoutMs: 2000 });
    const e = await failure(f.fetch(`${s.url}/2`, { timeoutMs: 2000 }));
    expect(e.kind).toBe("truncated");
    expect(e.message).toMatch(/cut short: 4 of 10 bytes/);
    expect(s.connections()).toBe(1); // sent on the kept connection, and not sent again once bytes came
  });

  it("reports a chunked body cut short, a broken chunk and an answer that is not HTTP", async () => {
    const cut = await rawServer((_h, sock) => sock.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"));
    expect((await failure(f.fetch(`${cut.url}/`, { timeoutMs: 2000 }))).kind).toBe("truncated");
    const broken = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
    expect((await failure(f.fetch(`${broken.url}/`, { timeoutMs: 2000 }))).message).toMatch(/chunked encoding is broken/);
    const junk = await rawServer((_h, sock) => sock.write("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    expect((await failure(f.fetch(`${junk.url}/`, { timeoutMs: 2000 }))).message).toMatch(/not an HTTP\/1 answer/);
    const silent = await rawServer((_h, sock) => sock.end());
    expect((await failure(f.fetch(`${silent.url}/`, { timeoutMs: 2000 }))).message).toMatch(/closed the connection without answering/);
  });

  it("refuses a chunked body over the limit before reading it", async () => {
    const s = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n"));
    expect((await failure(f.fetch(`${s.url}/`, { timeoutMs: 2000, maxBytes: 1000 }))).kind).toBe("too-large");
  });

  it("talks to an IPv6 literal", async () => {
    let s;
    try {
      s = await rawServer((_h, sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6"), "::1");
    } catch {
      console.warn("skipped: no ::1 on this machine");
      return;
    }
    expect((await f.fetch(`${s.url}/`, { timeoutMs: 2000 })).body.toString()).toBe("v6");
  });

  it("does not keep the process alive with its idle connections", async () => {
    // node:http's server keeps an idle connection open for 5 s; the client must not wait for that.
    const server = createHttpServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      // The client as a process of its own (bundled, as sprout ships), which must exit as soon as it has its answer.
      const dir = mkdtempSync(join(tmpdir(), "sprout-http1-exit-"));
      writeFileSync(join(dir, "main.ts"), `
        import { BoundedFetcher } from ${JSON.stringify(join(__dirname, "fetcher.ts"))};
        import { systemClock } from ${JSON.stringify(join(__dirname, "clock.ts"))};
        new BoundedFetcher(null as never, systemClock).fetch(${JSON.stringify(url)}, { timeoutMs: 2000 }).then((r) => console.log(r.body.toString()));`);
      buildSync({ entryPoints: [join(dir, "main.ts")], outfile: join(dir, "main.cjs"), bundle: true, platform: "node", format: "cjs", logLevel: "warning" });
      // Async: this process's server must go on answering while the child runs.
      const child = spawn(process.execPath, [join(dir, "main.cjs")], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      const killer = setTimeout(() => child.kill("SIGKILL"), 3500);
      const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on("exit", (c, sig) => r([c, sig])));
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      expect({ code, signal, out: out.trim() }).toEqual({ code: 0, signal: null, out: "ok" });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
