import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { APT_PIPELINING_FILE, aptPipelining, pipelineDepth } from ".";

let root: TempRoot | null = null;
afterEach(() => {
  root?.cleanup();
  root = null;
});
const file = () => root!.host().root.tryReadText(APT_PIPELINING_FILE);

describe("apt_pipelining", () => {
  it("false writes depth 0 in cloud-init's file, with cloud-init's words, once", async () => {
    root = tempRoot();
    const first = await aptPipelining.run({ apt_pipelining: false }, moduleContext(root, "config"));
    expect(first).toEqual({ status: "changed", detail: `${APT_PIPELINING_FILE}: pipeline depth 0` });
    expect(file()).toBe(`//Written by cloud-init per 'apt_pipelining'\nAcquire::http::Pipeline-Depth "0";\n`);
    expect(root.host().root.stat(APT_PIPELINING_FILE)!.mode & 0o777).toBe(0o644);
    expect((await aptPipelining.run({ apt_pipelining: "false" }, moduleContext(root, "config"))).status).toBe("unchanged");
  });

  it("reads values as cloud-init does (str(value).lower()): depths 0-5, os / none / unchanged leave apt alone", () => {
    expect([3, "5", "0", "False", " FALSE "].map(pipelineDepth)).toEqual([{ depth: "3" }, { depth: "5" }, { depth: "0" }, { depth: "0" }, { depth: "0" }]);
    for (const v of ["os", "none", "Unchanged", true]) expect(pipelineDepth(v)).toHaveProperty("leave");
  });

  it("a value that is no setting is an error that says what to write, and nothing is written", async () => {
    root = tempRoot();
    for (const v of [6, -1, "fast", 2.5]) {
      const res = await aptPipelining.run({ apt_pipelining: v }, moduleContext(root, "config"));
      expect(res.errors).toEqual([`apt_pipelining ${JSON.stringify(v)} is not a setting: write false (off), a depth from 0 to 5, or os (apt's default)`]);
    }
    expect((await aptPipelining.run({ apt_pipelining: "os" }, moduleContext(root, "config"))).status).toBe("skipped");
    expect(file()).toBeNull();
  });
});
