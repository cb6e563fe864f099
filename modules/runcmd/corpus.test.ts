import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { runcmd } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("runcmd", () => {
  for (const ex of docExamples("cc_runcmd")) {
    it(`module-docs ${ex.file.split("/").pop()} runs every entry into user_data.log`, async () => {
      root = tempRoot();
      const res = await runcmd.run(ex.config, moduleContext(root));
      // `ls -l /root` may be refused to a non-root user; everything else must succeed.
      expect((res.errors ?? []).filter((e) => !/ls -l \/root/.test(e))).toEqual([]);
      const log = root.host().root.readText("/var/log/user_data.log");
      expect(log).toContain(": hello world!");
      expect(log).toContain("=========hello world'=========");
      expect(res.detail).toBe("4 of 4 commands ran");
    });
  }
  it("runcmd: 5 is a clear error", async () => {
    root = tempRoot();
    expect((await runcmd.run({ runcmd: 5 }, moduleContext(root))).errors).toEqual(["runcmd must be a list of commands, not a number (5)"]);
  });
});
