// A static file server on 127.0.0.1 in its own process, for tests whose own
// process blocks (spawnSync of a chroot boot) while the machine fetches from it.
// Usage: node test/helpers/serve-dir.mjs DIR  -> prints {"url": "http://127.0.0.1:PORT"} and serves DIR.
// A POST is answered 200 and its path and body are appended to DIR/posts.log (for phone_home).
import { createServer } from "node:http";
import { appendFile, readFile } from "node:fs/promises";
import { join, normalize } from "node:path";

const dir = process.argv[2];
const server = createServer(async (req, res) => {
  if (req.method === "POST") {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    await appendFile(join(dir, "posts.log"), `${req.url} ${Buffer.concat(chunks).toString()}\n`);
    res.end("ok\n");
    return;
  }
  const rel = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  try {
    res.end(await readFile(join(dir, rel)));
  } catch {
    res.writeHead(404);
    res.end("not found\n");
  }
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + "\n"));
process.on("SIGTERM", () => process.exit(0));
