import { afterEach, describe, expect, it } from "vitest";
import { createHost } from "./host";
import { tempRoot, type TempRoot } from "../test/helpers/target";
import { recordingHost } from "../test/helpers/module-context";
import { runInTarget, targetArgv } from "./target-command";

let root: TempRoot | undefined;
afterEach(() => root?.cleanup());

describe("target commands", () => {
  it("run directly on the running system and under chroot on any other root", () => {
    root = tempRoot();
    expect(targetArgv(root.host(), ["locale-gen"])).toEqual(["chroot", root.dir, "locale-gen"]);
    expect(targetArgv(createHost({ root: "/", logFile: null }), ["locale-gen"])).toEqual(["locale-gen"]);
  });
  it("say why they failed: the last lines they printed, a timeout, a program that is missing", async () => {
    root = tempRoot();
    for (const [answer, why] of [
      [{ code: 3, stderr: Buffer.from("one\ntwo\nthree\nfour\n") }, "exit 3: two / three / four"],
      [{ code: 1, stdout: Buffer.from("only stdout\n") }, "exit 1: only stdout"],
      [{ code: null, timedOut: true }, "timed out after 5 s"],
      [{ code: null, spawnError: "ENOENT" }, "ENOENT"],
      [{ code: 0 }, null],
    ] as const) {
      const rec = recordingHost(root.host(), { run: () => answer });
      const r = await runInTarget(rec.host, ["x"], { timeoutMs: 5000, input: "in" });
      expect(r.failure).toBe(why);
      expect(rec.runs[0]!.opts).toMatchObject({ timeoutMs: 5000, input: "in", cleanEnv: true, env: { LC_ALL: "C" } });
    }
  });
});
