#!/usr/bin/env node
// The IMDS mock as a process, for the e2e harness and for trying sprout by hand:
//   node test/imds-mock/serve.mjs [--port N] [--mode required|optional|v1-only|disabled]
//        [--v1-status 404|405] [--hang] [--delay MS] [--fail-token N]
//        [--user-data FILE | --large-user-data] [--instance-id ID] [--verbose]
// Listens on 127.0.0.1 (random port unless --port), prints one JSON line
// {"url":"http://127.0.0.1:PORT","port":PORT,"pid":PID} once it answers, and runs
// until SIGTERM or SIGINT. --verbose logs each request to stderr.
// server.ts is TypeScript: esbuild (a dev dependency) bundles it once per start.
import { build } from "esbuild";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const { values: a } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    mode: { type: "string", default: "required" },
    "v1-status": { type: "string", default: "404" },
    hang: { type: "boolean", default: false },
    delay: { type: "string" },
    "fail-token": { type: "string" },
    "user-data": { type: "string" },
    "large-user-data": { type: "boolean", default: false },
    "instance-id": { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});
if (!["required", "optional", "v1-only", "disabled"].includes(a.mode)) {
  process.stderr.write(`serve.mjs: --mode must be required, optional, v1-only or disabled, not ${JSON.stringify(a.mode)}\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "sprout-imds-mock-"));
const out = join(dir, "server.mjs");
await build({ entryPoints: [new URL("./server.ts", import.meta.url).pathname], outfile: out, bundle: true, platform: "node", format: "esm", logLevel: "warning" });
const m = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });

const faults = [];
if (a.hang) faults.push({ match: /./, kind: "hang" });
if (a["fail-token"]) faults.push({ match: /^PUT /, kind: "status", status: 503, times: Number(a["fail-token"]) });
if (a.delay) faults.push({ match: /./, kind: "delay", delayMs: Number(a.delay) });
const id = a["instance-id"] ?? m.INSTANCE_ID;
const mock = await m.startImdsMock(
  {
    mode: a.mode,
    v1OnlyStatus: Number(a["v1-status"]) === 405 ? 405 : 404,
    metaData: m.defaultMetaData(id),
    identity: m.defaultIdentity(id),
    userData: a["large-user-data"] ? m.largeGzipUserData() : a["user-data"] ? readFileSync(a["user-data"]) : null,
    faults,
  },
  { port: Number(a.port), host: "127.0.0.1" },
);
if (a.verbose) {
  const push = mock.requests.push.bind(mock.requests);
  mock.requests.push = (...rs) => {
    for (const r of rs) process.stderr.write(`imds-mock: ${r.method} ${r.path}${r.token ? " (token)" : ""}\n`);
    return push(...rs);
  };
}
process.stdout.write(JSON.stringify({ url: mock.url, port: mock.port, pid: process.pid }) + "\n");
const stop = async () => {
  await mock.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
