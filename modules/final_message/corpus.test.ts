import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { finalMessage } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("final_message module-docs example", () => {
  for (const ex of docExamples("cc_final_message")) {
    it(ex.file.split("/").pop()!, async () => {
      root = tempRoot({ "proc/uptime": "12.34 5.00\n" });
      const res = await finalMessage.run(ex.config, moduleContext(root));
      // cloud-init's lower-case $version etc. are filled in too.
      expect(res.detail).toMatch(/^cloud-init has finished\nversion: \S+\ntimestamp: .+\ndatasource: NoCloud\nuptime: 12\.34\n$/);
    });
  }
});
