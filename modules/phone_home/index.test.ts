import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { processUserData } from "../../agent/userdata";
import { docExamples, moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { phoneHome } from ".";

let root: TempRoot;
let server: Server | null = null;
afterEach(() => {
  root?.cleanup();
  server?.close();
  server = null;
});

const INSTANCE = { v1: { instance_id: "iid-test-1", local_hostname: "web1" }, sprout: { local_fqdn: "web1.example.com" }, ds: {} };

describe("phone_home", () => {
  for (const ex of docExamples("cc_phone_home")) {
    it(`module-docs ${ex.file.split("/").pop()}: the jinja URL is rendered and the fields are posted (recorded: example.com is not contacted)`, async () => {
      root = tempRoot({ "etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAAhost root@x\n", "etc/hostname": "web1\n" });
      const ud = await processUserData(Buffer.from(ex.text), { source: "user-data", instance: INSTANCE });
      expect(ud.problems).toEqual([]);
      const rec = recordingHost(root.host());
      const res = await phoneHome.run(ud.cloudConfig!, moduleContext(root, { host: rec.host, instance: INSTANCE }));
      expect(res.errors).toEqual([]);
      expect(rec.fetches).toHaveLength(1);
      const f = rec.fetches[0]!;
      expect(f.url).toBe("http://example.com/iid-test-1/");
      expect(f.opts.method).toBe("POST");
      const body = new URLSearchParams(String(f.opts.body));
      expect(body.get("instance_id")).toBe("iid-test-1");
      expect(body.get("pub_key_ed25519")).toBe("ssh-ed25519 AAAAhost root@x");
      expect(body.get("hostname")).toBe("web1");
      const tries = (ud.cloudConfig!.phone_home as { tries?: number }).tries ?? 10;
      expect(f.opts.retries).toBe(tries - 1);
    });
  }
  it("tries a 127.0.0.1 server again after a 500, and reports a server that keeps failing", async () => {
    root = tempRoot();
    const seen: string[] = [];
    let n = 0;
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.statusCode = req.url === "/always-fails/" || ++n === 1 ? 500 : 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const ctx = moduleContext(root, { instance: INSTANCE });
    const ok = await phoneHome.run({ phone_home: { url: `http://127.0.0.1:${port}/$INSTANCE_ID/`, post: ["instance_id"], tries: 2 } }, ctx);
    expect(ok.errors).toEqual([]);
    expect(seen).toEqual([`POST /iid-test-1/ instance_id=iid-test-1`, `POST /iid-test-1/ instance_id=iid-test-1`]);
    const bad = await phoneHome.run({ phone_home: { url: `http://127.0.0.1:${port}/always-fails/`, post: ["instance_id"], tries: 1 } }, ctx);
    expect(bad.errors).toEqual([`phone_home http://127.0.0.1:${port}/always-fails/: the server answered HTTP 500 after 1 tries`]);
  });
});
