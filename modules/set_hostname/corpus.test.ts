import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { updateHostname } from "../update_hostname";
import { setHostname } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("set_hostname / update_hostname module-docs examples", () => {
  const [preserve, fqdn, noFile] = docExamples("cc_set_hostname");
  it("preserve_hostname: true leaves the hostname alone", async () => {
    root = tempRoot({ "etc/hostname": "old\n" });
    expect((await setHostname.run(preserve!.config, moduleContext(root))).status).toBe("skipped");
    expect(root.host().root.readText("/etc/hostname")).toBe("old\n");
  });
  it("prefer_fqdn_over_hostname writes the fqdn", async () => {
    root = tempRoot();
    await setHostname.run(fqdn!.config, moduleContext(root));
    expect(root.host().root.readText("/etc/hostname")).toBe("myhost.example.com\n");
    expect(root.host().root.readText("/etc/hosts")).toMatch(/^127\.0\.1\.1 myhost\.example\.com myhost$/m);
  });
  it("create_hostname_file: false does not create /etc/hostname", async () => {
    root = tempRoot();
    await setHostname.run(noFile!.config, moduleContext(root));
    expect(root.host().root.exists("/etc/hostname")).toBe(false);
  });
  for (const ex of docExamples("cc_update_hostname")) {
    it(`update_hostname ${ex.file.split("/").pop()}`, async () => {
      root = tempRoot({ "etc/hostname": "old\n" });
      const res = await updateHostname.run(ex.config, moduleContext(root));
      expect(res.errors ?? []).toEqual([]);
      const want = ex.config.preserve_hostname === true ? "old\n" : ex.config.create_hostname_file === false ? "testhost\n" : ex.config.fqdn ? "external.fqdn.me\n" : "testhost\n";
      expect(root.host().root.readText("/etc/hostname")).toBe(want);
    });
  }
});
