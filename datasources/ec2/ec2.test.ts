// The Ec2 datasource against the IMDS mock (test/imds-mock) on 127.0.0.1: the
// conformance suite, then each protocol rule and each bad answer on its own.
import { afterEach, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseCmdline } from "../../agent/cmdline";
import { defaultConfig } from "../../agent/config";
import { DatasourceError, NeedNetworkError } from "../../agent/errors";
import { instanceDataDocs } from "../../agent/instance-data";
import { deepMerge } from "../../agent/merge";
import type { DatasourceContext, JsonObject, Stage } from "../../agent/types";
import { datasourceConformance, type Machine } from "../../test/conformance/datasource";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { INSTANCE_ID, SSH_KEY, defaultMetaData, largeGzipUserData, startImdsMock, type ImdsMock, type ImdsMockOptions, type Tree } from "../../test/imds-mock/server";
import { ec2, ec2Settings } from ".";

const EC2_UUID = "ec2e1916-9099-7caf-fd21-012345abcdef";
const EC2_UUID_SWAPPED = "45e12aec-dcd1-b213-94ed-012345abcdef";

/** A machine whose DMI says EC2 and whose config points metadata_urls at a mock started for it. */
function mockMachine(name: string, mock: ImdsMockOptions, opts: { uuid?: string | null; ec2Config?: JsonObject; system?: JsonObject; instanceId?: string } = {}): Machine {
  return {
    name,
    async setup(r) {
      if (opts.uuid !== null) r.write("/sys/class/dmi/id/product_uuid", `${opts.uuid ?? EC2_UUID}\n`);
      const m = await startImdsMock(mock);
      return {
        instanceId: opts.instanceId,
        config: { ...opts.system, datasource: { Ec2: { metadata_urls: [m.url], timeout: 1, retries: 1, ...opts.ec2Config } } },
        cleanup: () => m.close(),
      };
    },
  };
}

function manyKeys(n: number): Tree {
  const t: Tree = { "instance-id": INSTANCE_ID };
  for (let i = 0; i < n; i++) t[`key-${i}`] = "v";
  return t;
}

datasourceConformance({
  ds: ec2,
  own: [
    mockMachine("EC2 uuid in DMI, IMDSv2 required", { mode: "required" }, { instanceId: INSTANCE_ID }),
    mockMachine("byte-swapped EC2 uuid, IMDSv1-only service (405 on PUT)", { mode: "v1-only", v1OnlyStatus: 405, metaData: defaultMetaData("i-0v1only") }, { uuid: EC2_UUID_SWAPPED, instanceId: "i-0v1only" }),
    mockMachine("no DMI, forced by datasource_list: [Ec2] and metadata_urls", { mode: "optional", metaData: defaultMetaData("i-0forced") }, { uuid: null, system: { datasource_list: ["Ec2"] }, instanceId: "i-0forced" }),
    {
      name: "Xen /sys/hypervisor/uuid",
      async setup(r) {
        r.write("/sys/hypervisor/uuid", `${EC2_UUID}\n`);
        const m = await startImdsMock({});
        return { instanceId: INSTANCE_ID, config: { datasource: { Ec2: { metadata_urls: [m.url], timeout: 1 } } }, cleanup: () => m.close() };
      },
    },
  ],
  broken: [
    mockMachine("metadata service turned off (403 on the token request)", { mode: "disabled" }),
    mockMachine("IMDSv1-only service with imdsv1_fallback: false", { mode: "v1-only" }, { ec2Config: { imdsv1_fallback: false } }),
    mockMachine("a service that never answers", { faults: [{ match: /./, kind: "hang" }] }, { ec2Config: { timeout: 0.5 } }),
    mockMachine("an HTML page in place of the meta-data listing", { faults: [{ match: /^GET \/2021-03-23\/meta-data\/$/, kind: "html" }] }),
    mockMachine("an HTML page in place of the token", { faults: [{ match: /^PUT /, kind: "html" }] }),
    mockMachine("the identity document cut short", { faults: [{ match: /instance-identity\/document$/, kind: "truncate" }] }),
    mockMachine("10 MB in one meta-data key", { faults: [{ match: /meta-data\/ami-id$/, kind: "body", body: Buffer.alloc(10 * 1024 * 1024, "a") }] }),
    mockMachine("10 MB of meta-data in ten keys under the per-key cap", { metaData: { ...defaultMetaData(), ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`big-${i}`, Buffer.alloc(1000 * 1024, "b")])) } }),
    mockMachine("a listing that contains itself", { metaData: { ...defaultMetaData(), loop: {} }, faults: [{ match: /meta-data\/(loop\/)+$/, kind: "body", body: "loop/" }] }),
    mockMachine("thousands of keys", { metaData: manyKeys(3000) }),
    mockMachine("500 on every meta-data request", { faults: [{ match: /^GET \/2021-03-23\/meta-data/, kind: "status", status: 500 }] }),
    mockMachine("the session token refused twice", { faults: [{ match: /^GET \/2021-03-23\/meta-data\/$/, kind: "status", status: 401 }] }),
    mockMachine("meta-data without an instance-id", { metaData: { "local-hostname": "x" }, identity: null }),
    mockMachine("metadata_urls with an ftp URL", {}, { ec2Config: { metadata_urls: ["ftp://127.0.0.1/"] } }),
    mockMachine("token_ttl out of range", {}, { ec2Config: { token_ttl: 0 } }),
  ],
});

// The cases below look at details the suite does not: requests made, bytes kept, logs.
let mock: ImdsMock | null = null;
let root: TempRoot | null = null;
afterEach(async () => {
  await mock?.close();
  root?.cleanup();
  mock = null;
  root = null;
});

function context(ec2Config: JsonObject, opts: { stage?: Stage; maxWaitMs?: number; system?: JsonObject } = {}): DatasourceContext {
  const system = deepMerge(defaultConfig(), { ...opts.system, datasource: { Ec2: ec2Config } }) as JsonObject;
  return { config: ec2Config, system, cmdline: parseCmdline(""), stage: opts.stage ?? "network", deadline: performance.now() + (opts.maxWaitMs ?? 5000) };
}

async function run(options: ImdsMockOptions, ec2Config: JsonObject = {}, maxWaitMs?: number) {
  mock = await startImdsMock(options);
  root = tempRoot({ "/sys/class/dmi/id/product_uuid": EC2_UUID });
  const h = root.host();
  const data = await ec2.fetch(h, context({ metadata_urls: [mock.url], timeout: 1, retries: 2, ...ec2Config }, { maxWaitMs }));
  h.log.flush();
  return { data, mock, log: root.host().root.tryReadText("/var/log/sprout.log") ?? "" };
}

async function failure(options: ImdsMockOptions, ec2Config: JsonObject = {}, maxWaitMs?: number): Promise<DatasourceError> {
  const err = await run(options, ec2Config, maxWaitMs).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasourceError);
  return err as DatasourceError;
}

describe("Ec2: IMDSv2", () => {
  it("asks for a token with the TTL header, then sends it on every GET", async () => {
    const { data, mock } = await run({ mode: "required", userData: "#cloud-config\nhostname: from-imds\n" });
    const puts = mock.requests.filter((r) => r.method === "PUT");
    expect(puts).toHaveLength(1);
    const gets = mock.requests.filter((r) => r.method === "GET");
    expect(gets.length).toBeGreaterThan(20);
    expect(gets.every((r) => r.token !== null && r.status === 200)).toBe(true);
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(data.localHostname).toBe("ip-10-0-0-12.eu-west-1.compute.internal");
    expect(data.availabilityZone).toBe("eu-west-1b");
    expect(data.region).toBe("eu-west-1");
    expect(data.publicSshKeys).toEqual([SSH_KEY]);
    expect(data.extraV1).toEqual({ instance_type: "t3.micro" });
    expect(data.platform).toBe("ec2");
    expect(data.cloudName).toBe("aws");
    expect(data.userData?.toString()).toBe("#cloud-config\nhostname: from-imds\n");
    expect((data.metaData["public-keys"] as JsonObject)["mock-key"]).toBe(SSH_KEY);
    expect(((data.extraDs?.dynamic as JsonObject)["instance-identity"] as JsonObject).document).toMatchObject({ region: "eu-west-1", instanceId: INSTANCE_ID });
    expect(data.extraDs?._imds).toEqual({ url: mock.url, api_version: "2021-03-23", session_tokens: true });
  });

  it("a 401 gets a new token once and the crawl goes on", async () => {
    const { data, mock } = await run({ faults: [{ match: /^GET \/2021-03-23\/meta-data\/placement\/$/, kind: "status", status: 401, times: 1 }] });
    expect(data.availabilityZone).toBe("eu-west-1b");
    expect(mock.requests.filter((r) => r.method === "PUT")).toHaveLength(2);
  });

  it("an expired token is replaced", async () => {
    // A 1 s token and one answer that takes longer: the token has expired by the time it is checked.
    const { data, mock } = await run({ faults: [{ match: /^GET \/2021-03-23\/meta-data\/placement\/$/, kind: "delay", delayMs: 1100, times: 1 }] }, { token_ttl: 1, timeout: 3 });
    expect(data.availabilityZone).toBe("eu-west-1b");
    expect(mock.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(mock.requests.filter((r) => r.method === "PUT").length).toBeGreaterThanOrEqual(2);
  });

  it("says the service is turned off on a 403 and stops asking", async () => {
    const err = await failure({ mode: "disabled" });
    expect(err.message).toMatch(/turned off.*403/);
    expect(err.hint).toMatch(/modify-instance-metadata-options/);
    expect(mock!.requests).toHaveLength(1);
  });
});

describe("Ec2: IMDSv1 fallback", () => {
  // 400 as well: the TTL sprout sends is always valid, so a 400 comes from a copy that does not know the request.
  it.each([404, 405, 400] as const)("reads without tokens after %i on the token request, and logs it", async (status) => {
    const { data, mock, log } = await run({ mode: "v1-only", v1OnlyStatus: status });
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(mock.requests.filter((r) => r.method === "GET").every((r) => r.token === null)).toBe(true);
    expect(log).toMatch(/falling back to IMDSv1/);
    expect(data.extraDs?._imds).toMatchObject({ session_tokens: false });
  });

  it("refuses when imdsv1_fallback is false", async () => {
    const err = await failure({ mode: "v1-only" }, { imdsv1_fallback: false });
    expect(err.message).toMatch(/does not issue session tokens.*imdsv1_fallback is false/);
    expect(mock!.requests.filter((r) => r.method === "GET")).toHaveLength(0);
  });
});

describe("Ec2: what it reads", () => {
  it("uses the newest API version offered, else 2009-04-04", async () => {
    // A current service: the newest version's listing answers, so its version list is never asked for.
    const current = await run({ userData: "#cloud-config\n" });
    expect(current.data.extraDs?._imds).toMatchObject({ api_version: "2021-03-23" });
    expect(current.mock.requests.filter((r) => r.path === "/")).toHaveLength(0);
    await mock!.close();
    // An older one: the list is read and everything comes from the version chosen there.
    const a = await run({ versions: ["1.0", "2016-09-02", "2018-09-24", "latest"], userData: "#cloud-config\nhostname: older\n" });
    expect(a.data.extraDs?._imds).toMatchObject({ api_version: "2018-09-24" });
    expect(a.mock.requests.filter((r) => r.path === "/")).toHaveLength(1);
    expect(a.data.userData?.toString()).toBe("#cloud-config\nhostname: older\n");
    expect(((a.data.extraDs?.dynamic as JsonObject)["instance-identity"] as JsonObject).document).toMatchObject({ instanceId: INSTANCE_ID });
    expect(a.mock.requests.filter((r) => r.path.startsWith("/2018-09-24/")).map((r) => r.path)).toEqual(expect.arrayContaining(["/2018-09-24/user-data", "/2018-09-24/dynamic/instance-identity/document"]));
    await mock!.close();
    const b = await run({ versions: ["1.0", "2009-04-04", "latest"] });
    expect(b.data.extraDs?._imds).toMatchObject({ api_version: "2009-04-04" });
    expect(b.mock.requests.filter((r) => r.path.startsWith("/2009-04-04/meta-data/")).length).toBeGreaterThan(10);
  });

  it("reads the version list when the newest version's listing fails, as some EC2 copies answer a version they do not know", async () => {
    const { data, mock } = await run({ versions: ["1.0", "2018-09-24", "latest"], faults: [{ match: /^GET \/2021-03-23\//, kind: "status", status: 500 }] }, { retries: 0 });
    expect(data.extraDs?._imds).toMatchObject({ api_version: "2018-09-24" });
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(mock.requests.filter((r) => r.path === "/")).toHaveLength(1);
  });

  it("keeps user-data as bytes: gzip and non-UTF-8 unchanged", async () => {
    const gz = largeGzipUserData();
    expect(gz.length).toBeGreaterThan(14 * 1024);
    expect(gz.length).toBeLessThanOrEqual(16 * 1024);
    expect((await run({ userData: gz })).data.userData!.equals(gz)).toBe(true);
    await mock!.close();
    const latin1 = Buffer.from([0x23, 0x21, 0x2f, 0x62, 0x69, 0x6e, 0x2f, 0x73, 0x68, 0x0a, 0xe9, 0xff, 0xfe, 0x0a]);
    expect((await run({ userData: latin1 })).data.userData!.equals(latin1)).toBe(true);
  });

  it("skips listing entries that would leave the directory, and says so", async () => {
    const { data, log } = await run({ faults: [{ match: /^GET \/2021-03-23\/meta-data\/$/, kind: "body", body: "instance-id\n../\n..\n../../latest/user-data\n" }] });
    expect(Object.keys(data.metaData)).toEqual(["instance-id"]);
    expect(log).toMatch(/skipped the listing entry [^\n]*\.\.\/[^\n]*not a safe path segment/);
  });

  it("reports a refused meta-data listing by its path, after the reads sent with it have ended", async () => {
    const err = await failure({ faults: [{ match: /^GET \/2021-03-23\/(meta-data\/|user-data)$/, kind: "status", status: 403 }] });
    expect(err.message).toMatch(/2021-03-23\/meta-data\/ was refused \(403 Forbidden\)/);
  });

  it("treats a 404 on user-data as none", async () => {
    const { data } = await run({ userData: null });
    expect(data.userData).toBeNull();
    expect(data.warnings ?? []).toEqual([]);
  });

  it("keeps the meta-data when user-data fails every time (as cloud-init), and says why", async () => {
    const { data, mock } = await run({ userData: "#cloud-config\n", faults: [{ match: /^GET \/2021-03-23\/user-data$/, kind: "status", status: 500 }] });
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(data.publicSshKeys).toEqual([SSH_KEY]);
    expect(data.userData).toBeNull();
    expect(data.warnings).toEqual([expect.stringMatching(/2021-03-23\/user-data answered HTTP 500.*booted without user-data/)]);
    // retried before giving up (retries: 2 in run())
    expect(mock.requests.filter((r) => r.path === "/2021-03-23/user-data")).toHaveLength(3);
  });

  it("keeps IAM credentials out of the world-readable instance data", async () => {
    const { data } = await run({});
    const docs = instanceDataDocs(data, "Ec2");
    expect(JSON.stringify(docs.sensitive)).toContain("mock-secret-access-key");
    expect(JSON.stringify(docs.redacted)).not.toContain("mock-secret-access-key");
    expect(JSON.stringify(docs.redacted)).toContain("mock-role"); // iam/info stays
  });

  it("rides out a few 500s within its retries", async () => {
    const { data, mock } = await run({ faults: [{ match: /^GET \/2021-03-23\/meta-data\/instance-id$/, kind: "status", status: 500, times: 2 }] });
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(mock.requests.filter((r) => r.status === 500)).toHaveLength(2);
  });

  it("waits for a service that is slow to come up, within max_wait", async () => {
    const { data, mock } = await run({ faults: [{ match: /^PUT /, kind: "status", status: 503, times: 3 }] });
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(mock.requests.filter((r) => r.method === "PUT")).toHaveLength(4);
  });

  it("tries the next URL when the first refuses connections", async () => {
    const dead = await startImdsMock({});
    await dead.close();
    mock = await startImdsMock({});
    root = tempRoot({ "/sys/class/dmi/id/product_uuid": EC2_UUID });
    const data = await ec2.fetch(root.host(), context({ metadata_urls: [dead.url, mock.url], timeout: 1 }));
    expect(data.instanceId).toBe(INSTANCE_ID);
    expect(data.subplatform).toBe(`metadata (${mock.url})`);
  });

  it("asks the next URL 150 ms after one that hangs (cloud-init's staggered requests), and calls the hanging one off", async () => {
    const hangingMock = await startImdsMock({ faults: [{ match: /./, kind: "hang" }] });
    try {
      mock = await startImdsMock({});
      root = tempRoot({ "/sys/class/dmi/id/product_uuid": EC2_UUID });
      // A 30 s timeout: asked one after the other, the first URL would hold the boot for all of it.
      const data = await ec2.fetch(root.host(), context({ metadata_urls: [hangingMock.url, mock.url], timeout: 30 }, { maxWaitMs: 60_000 }));
      expect(data.subplatform).toBe(`metadata (${mock.url})`);
      await new Promise((r) => setTimeout(r, 100));
      expect(hangingMock.requests.map((r) => [r.method, r.path, r.status, r.closedByClient])).toEqual([["PUT", "/latest/api/token", "hang", true]]);
    } finally {
      await hangingMock.close();
    }
  });

  it("passes over a URL where something else answers (an HTML page) for one with the service", async () => {
    const portal = await startImdsMock({ faults: [{ match: /./, kind: "html" }] });
    try {
      mock = await startImdsMock({});
      root = tempRoot({ "/sys/class/dmi/id/product_uuid": EC2_UUID });
      const data = await ec2.fetch(root.host(), context({ metadata_urls: [portal.url, mock.url], timeout: 2 }));
      expect(data.subplatform).toBe(`metadata (${mock.url})`);
      expect(portal.requests).toHaveLength(1);
    } finally {
      await portal.close();
    }
  });

  it("gives up on a hanging service at max_wait with a clear error", async () => {
    const err = await failure({ faults: [{ match: /./, kind: "hang" }] }, { timeout: 5 }, 1500);
    expect(err.message).toMatch(/no metadata service answered/);
    expect(err.hint).toMatch(/max_wait/);
  });

  it("refuses a body that stalls mid-way once the request times out", async () => {
    const err = await failure({ faults: [{ match: /meta-data\/instance-id$/, kind: "stall" }] }, { timeout: 0.3, retries: 0 });
    expect(err.message).toMatch(/instance-id: no answer/);
  });
});

describe("Ec2: detection and settings", () => {
  it("claims nothing without firmware facts or configuration", async () => {
    root = tempRoot({ "/sys/class/dmi/id/sys_vendor": "QEMU\n", "/sys/class/dmi/id/product_uuid": "4c4c4544-0035-4810-8030-b4c04f4d4e31\n" });
    expect(await ec2.detect(root.host(), context({}))).toBeNull();
  });

  it("is claimed by Amazon's DMI vendor (Nitro) and by datasource_list: [Ec2, None]", async () => {
    root = tempRoot({ "/sys/class/dmi/id/sys_vendor": "Amazon EC2\n" });
    expect((await ec2.detect(root.host(), context({})))?.reason).toMatch(/sys_vendor/);
    root.cleanup();
    root = tempRoot();
    expect((await ec2.detect(root.host(), context({}, { system: { datasource_list: ["Ec2", "None"] } })))?.reason).toMatch(/datasource_list/);
  });

  it("reads the firmware facts once: detect's reading is the one fetch uses for cloud_name", async () => {
    mock = await startImdsMock({});
    root = tempRoot({ "/sys/class/dmi/id/product_uuid": EC2_UUID });
    const h = root.host();
    const ctx = context({ metadata_urls: [mock.url], timeout: 1 });
    expect((await ec2.detect(h, ctx))?.reason).toMatch(/product_uuid/);
    rmSync(join(root.dir, "sys/class/dmi/id/product_uuid"));
    expect((await ec2.fetch(h, ctx)).cloudName).toBe("aws");
  });

  it("defers to the network stage when asked in the local stage, before any request", async () => {
    root = tempRoot();
    const err = await ec2.fetch(root.host(), context({ metadata_urls: ["http://127.0.0.1:9"] }, { stage: "local" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedNetworkError);
  });

  it("defaults to the link-local service and rejects wrong settings with what to write", () => {
    expect(ec2Settings({})).toEqual({ urls: ["http://169.254.169.254", "http://[fd00:ec2::254]"], timeoutMs: 5000, retries: 3, imdsv1Fallback: true, tokenTtl: 21600, fullNetworkConfig: true });
    expect(ec2Settings({ apply_full_imds_network_config: false }).fullNetworkConfig).toBe(false);
    expect(ec2Settings({ metadata_urls: "http://127.0.0.1:8080/" }).urls).toEqual(["http://127.0.0.1:8080"]);
    const why = (cfg: JsonObject) => {
      try {
        ec2Settings(cfg);
      } catch (e) {
        return (e as DatasourceError).full;
      }
      return "accepted";
    };
    expect(why({ metadata_urls: [] })).toMatch(/metadata_urls is \[\].*write a list/);
    expect(why({ metadata_urls: ["http://127.0.0.1/latest/"] })).toMatch(/no path/);
    expect(why({ timeout: "5" })).toMatch(/timeout is "5".*seconds/);
    expect(why({ token_ttl: 21601 })).toMatch(/token_ttl is 21601.*1 to 21600/);
    expect(why({ imdsv1_fallback: "yes" })).toMatch(/true or false/);
    expect(why({ apply_full_imds_network_config: "no" })).toMatch(/apply_full_imds_network_config is "no".*true or false/);
  });
});
