import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { timezone } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("timezone", () => {
  for (const ex of docExamples("cc_timezone")) {
    it(`module-docs ${ex.file.split("/").pop()}`, async () => {
      root = tempRoot({ "usr/share/zoneinfo/America/New_York": "TZif fake\n" });
      const res = await timezone.run(ex.config, moduleContext(root));
      expect(res.errors ?? []).toEqual([]);
      expect(root.host().root.readText("/etc/timezone")).toBe("America/New_York\n");
      expect(root.host().root.readlink("/etc/localtime")).toBe("/usr/share/zoneinfo/America/New_York");
      expect(readFileSync(`${root.dir}/usr/share/zoneinfo/America/New_York`, "utf8")).toBe("TZif fake\n");
    });
  }
  it("an unknown zone is an error and nothing changes", async () => {
    root = tempRoot({ "etc/timezone": "Etc/UTC\n" });
    const res = await timezone.run({ timezone: "Europe/Atlantis" }, moduleContext(root));
    expect(res.errors![0]).toMatch(/no \/usr\/share\/zoneinfo\/Europe\/Atlantis/);
    expect(root.host().root.readText("/etc/timezone")).toBe("Etc/UTC\n");
  });
});
