// A NoCloud seed served over HTTP on 127.0.0.1, as a preseeded install or a PXE
// server would serve it, with the failures a real server has: redirects, 404 and
// 500 answers, and a body that stalls half-way.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A file's bytes, or how the server fails for it. */
export type SeedAnswer = string | Buffer | { status: number } | { redirect: string } | "stall";

export interface SeedServer {
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `files` by path ("/seed/meta-data"); every other path is a 404. `?file=NAME` serves `/get/NAME` (for %s URLs). */
export async function startSeedServer(files: Record<string, SeedAnswer>): Promise<SeedServer> {
  const requests: string[] = [];
  const stalled = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://seed");
    const path = u.searchParams.has("file") ? `${u.pathname}/${u.searchParams.get("file")}` : u.pathname;
    requests.push(path);
    const answer = files[path];
    if (answer === undefined) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    } else if (answer === "stall") {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "4096" });
      res.write("instance-id: iid-stall\n");
      stalled.add(res);
    } else if (typeof answer === "string" || Buffer.isBuffer(answer)) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(answer);
    } else if ("redirect" in answer) {
      res.writeHead(302, { location: answer.redirect });
      res.end();
    } else {
      res.writeHead(answer.status, { "content-type": "text/html" });
      res.end(`<html><body><h1>${answer.status}</h1></body></html>\n`);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
