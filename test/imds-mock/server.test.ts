// The mock answers as the real metadata service does: tests of the Ec2 datasource
// are only as good as this stand-in.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { INSTANCE_ID, SSH_KEY, startImdsMock, type ImdsMock, type ImdsMockOptions } from "./server";

let mock: ImdsMock | null = null;
afterEach(async () => {
  await mock?.close();
  mock = null;
});

async function start(opts: ImdsMockOptions = {}): Promise<ImdsMock> {
  mock = await startImdsMock(opts);
  return mock;
}

async function put(m: ImdsMock, ttl: string | null, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extra };
  if (ttl !== null) headers["X-aws-ec2-metadata-token-ttl-seconds"] = ttl;
  const r = await fetch(`${m.url}/latest/api/token`, { method: "PUT", headers });
  return { status: r.status, body: await r.text(), ttl: r.headers.get("x-aws-ec2-metadata-token-ttl-seconds") };
}

async function get(m: ImdsMock, path: string, token?: string) {
  const r = await fetch(`${m.url}${path}`, { headers: token ? { "X-aws-ec2-metadata-token": token } : {} });
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
}

describe("IMDS mock", () => {
  it("issues tokens for a TTL of 1..21600 seconds and refuses others with 400", async () => {
    const m = await start();
    const ok = await put(m, "21600");
    expect(ok.status).toBe(200);
    expect(ok.ttl).toBe("21600");
    expect(ok.body).toMatch(/^[\x21-\x7e]+$/);
    expect((await put(m, "1")).status).toBe(200);
    for (const bad of ["0", "21601", "-5", "abc", null]) expect((await put(m, bad)).status, `ttl ${bad}`).toBe(400);
    expect((await put(m, "60", { "X-Forwarded-For": "10.0.0.1" })).status).toBe(403);
  });

  it("requires a valid token in required mode: 401 without one or with an expired one", async () => {
    const m = await start({ mode: "required" });
    const { body: token } = await put(m, "60");
    expect((await get(m, "/latest/meta-data/instance-id", token)).body).toBe(INSTANCE_ID);
    const none = await get(m, "/latest/meta-data/instance-id");
    expect(none.status).toBe(401);
    expect(none.type).toBe("text/html");
    expect((await get(m, "/latest/meta-data/instance-id", "forged")).status).toBe(401);
    m.expireTokens();
    expect((await get(m, "/latest/meta-data/instance-id", token)).status).toBe(401);
  });

  it("serves v1 and v2 in optional mode, only v1 in v1-only mode, nothing when disabled", async () => {
    let m = await start({ mode: "optional" });
    expect((await get(m, "/latest/meta-data/instance-id")).status).toBe(200);
    expect((await get(m, "/latest/meta-data/instance-id", "forged")).status).toBe(401);
    await m.close();
    m = await start({ mode: "v1-only", v1OnlyStatus: 405 });
    expect((await put(m, "60")).status).toBe(405);
    expect((await get(m, "/latest/meta-data/instance-id")).status).toBe(200);
    await m.close();
    m = await start({ mode: "disabled" });
    expect((await put(m, "60")).status).toBe(403);
    expect((await get(m, "/latest/meta-data/instance-id")).status).toBe(403);
  });

  it("has the real paths: versions, listings, public-keys, user-data, identity document, XHTML 404s", async () => {
    const m = await start({ mode: "optional", userData: "#!/bin/sh\n" });
    expect((await get(m, "/")).body.split("\n")).toContain("2021-03-23");
    expect((await get(m, "/latest/")).body).toBe("dynamic\nmeta-data\nuser-data");
    expect((await get(m, "/latest/meta-data/public-keys/")).body).toBe("0=mock-key");
    expect((await get(m, "/latest/meta-data/public-keys/0/")).body).toBe("openssh-key");
    expect((await get(m, "/latest/meta-data/public-keys/0/openssh-key")).body).toBe(SSH_KEY);
    expect((await get(m, "/2021-03-23/user-data")).body).toBe("#!/bin/sh\n");
    expect(JSON.parse((await get(m, "/latest/dynamic/instance-identity/document")).body)).toMatchObject({ instanceId: INSTANCE_ID, region: "eu-west-1" });
    const missing = await get(m, "/latest/meta-data/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("<title>404 - Not Found</title>");
    expect((await get(m, "/1999-01-01/meta-data/")).status).toBe(404);
    await m.close();
    mock = await start({ mode: "optional", userData: null });
    expect((await get(mock, "/latest/user-data")).status).toBe(404);
  });

  it("applies faults to the paths they match, as many times as asked", async () => {
    const m = await start({ mode: "optional", faults: [{ match: /instance-id$/, kind: "status", status: 500, times: 1 }] });
    expect((await get(m, "/latest/meta-data/instance-id")).status).toBe(500);
    expect((await get(m, "/latest/meta-data/instance-id")).status).toBe(200);
  });

  it("runs as a process for the e2e harness (serve.mjs)", async () => {
    const p = spawn(process.execPath, [new URL("./serve.mjs", import.meta.url).pathname, "--mode", "v1-only", "--instance-id", "i-0serve"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: p.stdout! }).once("line", resolve));
      const { url } = JSON.parse(line) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/latest/meta-data/instance-id`)).text()).toBe("i-0serve");
      expect((await fetch(`${url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } })).status).toBe(404);
    } finally {
      p.kill("SIGTERM");
    }
  });
});
