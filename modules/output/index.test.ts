import { afterEach, describe, expect, it } from "vitest";
import { runStages } from "../../agent/boot";
import { STAGES } from "../../agent/types";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { redirectTarget } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("output", () => {
  it("reads the common redirections and refuses the others", () => {
    expect(redirectTarget("| tee -a /var/log/cloud-init-output.log")).toEqual({ file: "/var/log/cloud-init-output.log", truncate: false });
    expect(redirectTarget("> /var/log/x")).toEqual({ file: "/var/log/x", truncate: true });
    expect(redirectTarget("| logger -t x")).toHaveProperty("error");
  });
  it("copies the stages' console lines to the file through a whole boot", async () => {
    root = tempRoot({
      "var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-out\n",
      "var/lib/cloud/seed/nocloud/user-data": "#cloud-config\noutput: {all: '| tee -a /var/log/cloud-init-output.log'}\nusers: []\nssh_genkeytypes: []\n",
      "etc/sprout/config.yaml": "datasource_list: [NoCloud]\n",
    });
    const h = root.host();
    await runStages(h, [...STAGES]);
    const text = h.root.readText("/var/log/cloud-init-output.log");
    expect(text).toMatch(/sprout\[network\/write_files\]: write_files: skipped/);
    expect(text).toMatch(/sprout\[final\/final_message\]: sprout \S+ finished at/);
  });

  it("copies the user scripts' output, framed as in user_data.log, for the stages it names only", async () => {
    root = tempRoot({
      "var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-out-2\n",
      "var/lib/cloud/seed/nocloud/user-data": "#cloud-config\noutput: {final: '>> /var/log/final.log', init: '> /var/log/init.log'}\nbootcmd: ['echo from-bootcmd']\nruncmd: ['echo from-runcmd', 'echo to-stderr >&2']\nusers: []\nssh_genkeytypes: []\n",
      "etc/sprout/config.yaml": "datasource_list: [NoCloud]\n",
    });
    const h = root.host();
    await runStages(h, [...STAGES]);
    const final = h.root.readText("/var/log/final.log");
    expect(final).toMatch(/--- sprout: BEGIN runcmd stage=final instance=iid-out-2 at /);
    expect(final).toContain("from-runcmd\n");
    expect(final).toContain("to-stderr\n");
    expect(final).toMatch(/--- sprout: END runcmd exit=0 after \d+ ms\n/);
    expect(final).not.toContain("from-bootcmd");
    const init = h.root.readText("/var/log/init.log");
    expect(init).toContain("from-bootcmd\n");
    expect(init).not.toContain("from-runcmd");
    // user_data.log has both, as always.
    expect(h.root.readText("/var/log/user_data.log")).toMatch(/from-bootcmd[\s\S]*from-runcmd/);
  });
});
