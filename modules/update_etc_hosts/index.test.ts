import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { updateEtcHosts } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("update_etc_hosts (module-docs examples)", () => {
  const [off, on, localhost] = docExamples("cc_update_etc_hosts");
  it("false leaves /etc/hosts alone", async () => {
    root = tempRoot({ "etc/hosts": "10.0.0.1 keep\n" });
    expect((await updateEtcHosts.run({ ...off!.config, fqdn: "a.example.com" }, moduleContext(root))).status).toBe("skipped");
    expect(root.host().root.readText("/etc/hosts")).toBe("10.0.0.1 keep\n");
  });
  it("true rewrites it with the hostname", async () => {
    root = tempRoot({ "etc/hosts": "10.0.0.1 lost\n" });
    await updateEtcHosts.run({ ...on!.config, fqdn: "a.example.com" }, moduleContext(root));
    const hosts = root.host().root.readText("/etc/hosts");
    expect(hosts).toMatch(/^127\.0\.1\.1 a\.example\.com a$/m);
    expect(hosts).toMatch(/^127\.0\.0\.1 localhost$/m);
    expect(hosts).not.toContain("10.0.0.1 lost");
  });
  it("localhost keeps the other lines and sets the 127.0.1.1 one (from meta-data)", async () => {
    root = tempRoot({ "etc/hosts": "10.0.0.1 keep\n127.0.1.1 old\n" });
    await updateEtcHosts.run(localhost!.config, moduleContext(root));
    expect(root.host().root.readText("/etc/hosts")).toBe("10.0.0.1 keep\n127.0.1.1 testhost\n");
  });
  it("a bad value is reported", async () => {
    root = tempRoot();
    expect((await updateEtcHosts.run({ manage_etc_hosts: "yes-please" }, moduleContext(root))).errors![0]).toMatch(/must be true, false/);
  });
});
