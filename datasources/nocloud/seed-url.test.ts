// NoCloud over the network: seeds named on the kernel command line (ds=nocloud-net;s=,
// ds=nocloud;s=, seedfrom=) or in the system config, served by a real HTTP server
// on 127.0.0.1 that redirects, answers 404 and 500, and stalls mid-body.
import { afterEach, describe, expect, it } from "vitest";
import { parseCmdline } from "../../agent/cmdline";
import { DatasourceError, NeedNetworkError } from "../../agent/errors";
import type { DatasourceContext, JsonObject } from "../../agent/types";
import { datasourceConformance, type Machine } from "../../test/conformance/datasource";
import { startSeedServer, type SeedAnswer, type SeedServer } from "../../test/helpers/seed-server";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { makeTestCa, openSslMissing } from "../../test/helpers/test-ca";
import { noCloud } from ".";

const SEED: Record<string, SeedAnswer> = {
  "/seed/meta-data": "instance-id: iid-net-1\nlocal-hostname: netbox\n",
  "/seed/user-data": "#cloud-config\nhostname: netbox\n",
};

/** A machine whose seed is served over HTTP; `cmdline` and `config` get the server's URL for {url}. */
function netMachine(name: string, files: Record<string, SeedAnswer>, opts: { cmdline?: string; config?: (url: string) => JsonObject; instanceId?: string; nocloud?: JsonObject }): Machine {
  return {
    name,
    async setup() {
      const srv = await startSeedServer(files);
      return {
        instanceId: opts.instanceId,
        cmdline: opts.cmdline?.replace("{url}", srv.url),
        config: { datasource: { NoCloud: { timeout: 1, retries: 0, ...opts.nocloud } }, ...opts.config?.(srv.url) },
        stage: "network",
        cleanup: () => srv.close(),
      };
    },
  };
}

datasourceConformance({
  ds: noCloud,
  own: [
    netMachine("ds=nocloud-net;s=http://... (quoted for GRUB)", SEED, { cmdline: 'root=/dev/vda1 "ds=nocloud-net;s={url}/seed/" ro', instanceId: "iid-net-1" }),
    netMachine("ds=nocloud;s=... escaped with \\;", SEED, { cmdline: "ds=nocloud\\;s={url}/seed/", instanceId: "iid-net-1" }),
    netMachine("seedfrom= as its own kernel argument", SEED, { cmdline: "quiet seedfrom={url}/seed/", instanceId: "iid-net-1" }),
    netMachine("datasource.NoCloud.seedfrom with %s", { "/get/meta-data": "instance-id: iid-pct\n", "/get/user-data": "" }, { config: (url) => ({ datasource: { NoCloud: { seedfrom: `${url}/get?file=%s`, timeout: 1 } } }), instanceId: "iid-pct" }),
    netMachine(
      "a seed behind redirects",
      { "/old/meta-data": { redirect: "/seed/meta-data" }, "/old/user-data": { redirect: "/seed/user-data" }, ...SEED },
      { cmdline: "ds=nocloud;s={url}/old/", instanceId: "iid-net-1" },
    ),
    netMachine("an unterminated quote on the kernel line (read to the end)", SEED, { cmdline: 'ro "ds=nocloud;s={url}/seed/', instanceId: "iid-net-1" }),
  ],
  broken: [
    netMachine("500 on meta-data", { "/seed/meta-data": { status: 500 }, "/seed/user-data": "" }, { cmdline: "ds=nocloud;s={url}/seed/" }),
    netMachine("404 on meta-data", { "/seed/user-data": "#cloud-config\n" }, { cmdline: "ds=nocloud;s={url}/seed/" }),
    netMachine("500 on user-data", { "/seed/meta-data": "instance-id: x\n", "/seed/user-data": { status: 500 } }, { cmdline: "ds=nocloud;s={url}/seed/" }),
    netMachine("meta-data that stalls mid-body", { "/seed/meta-data": "stall" }, { cmdline: "ds=nocloud;s={url}/seed/", nocloud: { timeout: 0.3 } }),
    netMachine("user-data that stalls mid-body", { "/seed/meta-data": "instance-id: x\n", "/seed/user-data": "stall" }, { cmdline: "ds=nocloud;s={url}/seed/", nocloud: { timeout: 0.3 } }),
    netMachine("s= with an unsupported scheme", SEED, { cmdline: "ds=nocloud;s=gopher://127.0.0.1/seed/" }),
    netMachine("a redirect loop", { "/loop/meta-data": { redirect: "/loop/meta-data" } }, { cmdline: "ds=nocloud;s={url}/loop/" }),
  ],
});

let srv: SeedServer | null = null;
let root: TempRoot | null = null;
afterEach(async () => {
  await srv?.close();
  root?.cleanup();
  srv = null;
  root = null;
});

function ctx(cmdline: string, opts: { stage?: "local" | "network"; waitMs?: number; config?: JsonObject } = {}): DatasourceContext {
  return { config: { timeout: 1, retries: 0, ...opts.config }, system: {}, cmdline: parseCmdline(cmdline), stage: opts.stage ?? "network", deadline: performance.now() + (opts.waitMs ?? 5000) };
}

describe("NoCloud seed URLs", () => {
  it("reads all four files, the optional ones when they exist", async () => {
    srv = await startSeedServer({ ...SEED, "/seed/vendor-data": "#cloud-config\nruncmd: [true]\n", "/seed/network-config": "version: 2\nethernets: {}\n" });
    root = tempRoot();
    const d = await noCloud.fetch(root.host(), ctx(`ds=nocloud-net;s=${srv.url}/seed/`));
    expect(d.vendorData?.toString()).toContain("runcmd");
    expect(d.networkConfig).toEqual({ version: 2, ethernets: {} });
    expect(d.subplatform).toBe(`seed-url (${srv.url}/seed/)`);
    expect(srv.requests).toEqual(["/seed/meta-data", "/seed/user-data", "/seed/vendor-data", "/seed/network-config"]);
  });

  it.skipIf(openSslMissing() !== null)("reads a seed over https from a server whose CA the machine trusts, and names the fix when it does not", async () => {
    const ca = makeTestCa();
    const { createServer } = await import("node:https");
    const files: Record<string, string> = SEED as Record<string, string>;
    const server = createServer({ cert: ca.certPem, key: ca.keyPem }, (req, res) => {
      const body = files[req.url ?? ""];
      res.statusCode = body === undefined ? 404 : 200;
      res.end(body ?? "");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/seed/`;
      root = tempRoot({ "etc/ssl/certs/ca-certificates.crt": ca.caPem });
      const d = await noCloud.fetch(root.host(), ctx(`ds=nocloud;s=${url}`));
      expect(d).toMatchObject({ instanceId: "iid-net-1", localHostname: "netbox", subplatform: `seed-url (${url})` });
      expect(d.userData?.toString()).toBe("#cloud-config\nhostname: netbox\n");
      root.cleanup();
      root = tempRoot();
      const err = await noCloud.fetch(root.host(), ctx(`ds=nocloud;s=${url}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasourceError);
      // Not waited on until max_wait: a certificate does not become trusted by retrying.
      expect((err as DatasourceError).message).toMatch(/cannot read seed file https:.*meta-data: .*certificate is not accepted/);
      expect((err as DatasourceError).hint).toMatch(/update-ca-certificates/);
    } finally {
      server.close();
    }
  });

  it("takes a 404 on optional files as none", async () => {
    srv = await startSeedServer({ "/seed/meta-data": "instance-id: only-md\n" });
    root = tempRoot();
    const d = await noCloud.fetch(root.host(), ctx(`ds=nocloud;s=${srv.url}/seed/`));
    expect(d).toMatchObject({ instanceId: "only-md", userData: null, vendorData: null, networkConfig: null });
  });

  it("uses the seed when the server will not give vendor-data or network-config (S3's 403 for a missing key, a 500), and says so", async () => {
    srv = await startSeedServer({ ...SEED, "/seed/vendor-data": { status: 403 }, "/seed/network-config": { status: 500 } });
    root = tempRoot();
    const d = await noCloud.fetch(root.host(), ctx(`ds=nocloud;s=${srv.url}/seed/`));
    expect(d).toMatchObject({ instanceId: "iid-net-1", vendorData: null, networkConfig: null });
    expect(d.userData?.toString()).toBe("#cloud-config\nhostname: netbox\n");
    expect(d.warnings).toEqual([
      `seed file ${srv.url}/seed/vendor-data answered HTTP 403; the seed is used without its vendor-data`,
      `seed file ${srv.url}/seed/network-config answered HTTP 500; the seed is used without its network-config`,
    ]);
  });

  it("follows seedfrom in a seed directory's meta-data (a cidata volume that points at the real seed), local values winning, as cloud-init", async () => {
    srv = await startSeedServer(SEED);
    root = tempRoot({ "/var/lib/cloud/seed/nocloud/meta-data": `instance-id: iid-local\nseedfrom: ${srv.url}/seed/\n`, "/var/lib/cloud/seed/nocloud/user-data": "#cloud-config\nhostname: local-one\n" });
    // In the local stage an http seed waits for the network stage.
    expect(await noCloud.fetch(root.host(), ctx("", { stage: "local" })).catch((e: unknown) => e)).toBeInstanceOf(NeedNetworkError);
    const d = await noCloud.fetch(root.host(), ctx(""));
    expect(d).toMatchObject({ instanceId: "iid-local", localHostname: "netbox", subplatform: `seed-dir (/var/lib/cloud/seed/nocloud) -> seed-url (${srv.url}/seed/)` });
    expect(d.userData?.toString()).toBe("#cloud-config\nhostname: netbox\n");
    expect(srv.requests).toEqual(["/seed/meta-data", "/seed/user-data", "/seed/vendor-data", "/seed/network-config"]);
  });

  it("refuses a seedfrom in meta-data that is no URL, or has a scheme it cannot read, and says what to write", async () => {
    for (const [value, message] of [["42", /seedfrom in seed-dir .*'s meta-data is not a URL/], ["ftp://h/seed/", /seedfrom "ftp:\/\/h\/seed\/" has an unsupported scheme "ftp"/]] as const) {
      root?.cleanup();
      root = tempRoot({ "/var/lib/cloud/seed/nocloud/meta-data": `instance-id: x\nseedfrom: ${value}\n` });
      const err = await noCloud.fetch(root.host(), ctx("")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasourceError);
      expect((err as DatasourceError).message).toMatch(message);
    }
  });

  it("defers an http seed from the local stage to the network stage", async () => {
    root = tempRoot();
    const err = await noCloud.fetch(root.host(), ctx("ds=nocloud;s=http://127.0.0.1:9/seed/", { stage: "local" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedNetworkError);
  });

  it("waits for an unreachable server until max_wait, then gives up with the reason", async () => {
    const gone = await startSeedServer({});
    await gone.close();
    root = tempRoot();
    const h = root.host();
    const err = await noCloud.fetch(h, ctx(`ds=nocloud;s=${gone.url}/seed/`, { waitMs: 1200 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as DatasourceError).message).toMatch(/gave up waiting for the seed at .* after \d/);
    expect((err as DatasourceError).hint).toMatch(/max_wait/);
    h.log.flush();
    expect(h.root.tryReadText("/var/log/sprout.log")).toMatch(/not reachable yet.*waiting for the network/);
  });

  it("picks up a server that comes up while it waits", async () => {
    const port = await (async () => {
      const s = await startSeedServer({});
      const p = Number(new URL(s.url).port);
      await s.close();
      return p;
    })();
    root = tempRoot();
    const pending = noCloud.fetch(root.host(), ctx(`ds=nocloud;s=http://127.0.0.1:${port}/seed/`, { waitMs: 8000 }));
    await new Promise((r) => setTimeout(r, 400));
    const { createServer } = await import("node:http");
    const late = createServer((req, res) => {
      res.end(req.url === "/seed/meta-data" ? "instance-id: iid-late\n" : "");
    });
    await new Promise<void>((r) => late.listen(port, "127.0.0.1", r));
    try {
      expect((await pending).instanceId).toBe("iid-late");
    } finally {
      late.closeAllConnections();
      late.close();
    }
  });

  it("names the file a server failed on", async () => {
    srv = await startSeedServer({ "/seed/meta-data": "instance-id: x\n", "/seed/user-data": { status: 503 } });
    root = tempRoot();
    const err = (await noCloud.fetch(root.host(), ctx(`ds=nocloud;s=${srv.url}/seed/`)).catch((e: unknown) => e)) as DatasourceError;
    expect(err.message).toMatch(/seed file .*\/seed\/user-data answered HTTP 503/);
  });
});
