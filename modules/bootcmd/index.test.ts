import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { bootcmd } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("bootcmd", () => {
  it("runs every entry, records each failure, and has INSTANCE_ID", async () => {
    root = tempRoot();
    const res = await bootcmd.run({ bootcmd: ['echo "id=$INSTANCE_ID" > boot-id', "false", ["sh", "-c", "exit 7"], "echo after > after"] }, moduleContext(root, { stage: "network" }));
    expect(res.errors).toEqual(["bootcmd[1] (false) exited 1", "bootcmd[2] (sh -c 'exit 7') exited 7"]);
    expect(root.host().root.readText("/boot-id")).toBe("id=iid-test-1\n");
    expect(root.host().root.readText("/after")).toBe("after\n");
    expect(root.host().root.readText("/var/log/user_data.log")).toMatch(/BEGIN bootcmd stage=network instance=iid-test-1/);
  });
  it("bootcmd: 5 is an error that says what to write", async () => {
    root = tempRoot();
    const res = await bootcmd.run({ bootcmd: 5 }, moduleContext(root));
    expect(res.errors).toEqual(["bootcmd must be a list of commands, not a number (5)"]);
  });
  for (const ex of docExamples("cc_bootcmd")) {
    it(`module-docs ${ex.file.split("/").pop()} becomes one script run with /bin/sh (recorded, not run: it would write the test machine's /etc/hosts)`, async () => {
      root = tempRoot();
      const rec = recordingHost(root.host());
      await bootcmd.run(ex.config, moduleContext(root, { host: rec.host }));
      expect(rec.runs).toHaveLength(1);
      expect(rec.runs[0]!.argv[0]).toBe("/bin/sh");
      const script = root.host().root.readText("/var/lib/sprout/instances/iid-test-1/scripts/bootcmd");
      expect(script).toContain("echo 192.168.1.130 us.archive.ubuntu.com > /etc/hosts\n");
      expect(script).toContain("cloud-init-per once mymkfs mkfs /dev/vdb\n");
    });
  }
});
