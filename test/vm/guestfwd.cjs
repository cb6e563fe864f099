// A qemu guestfwd command (`guestfwd=tcp:ADDR:PORT-cmd:node .../guestfwd.cjs HOSTPORT`):
// qemu runs it for each TCP connection the guest opens to ADDR:PORT, with that
// connection on stdin and stdout, and it carries the bytes to 127.0.0.1:HOSTPORT
// (never anywhere else). A `tcp:` chardev instead is one stream for every guest
// connection: two at once (an HTTP client with a connection pool) get each
// other's answers.
"use strict";
const net = require("net");
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`guestfwd.cjs: a port number, not ${JSON.stringify(process.argv[2])}\n`);
  process.exit(2);
}
const upstream = net.connect(port, "127.0.0.1");
process.stdin.pipe(upstream);
upstream.pipe(process.stdout);
upstream.on("error", () => process.exit(1));
upstream.on("close", () => process.exit(0));
process.stdin.on("end", () => upstream.end());
