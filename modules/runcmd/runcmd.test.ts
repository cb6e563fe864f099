import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseYaml } from "../../agent/yaml";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { runcmd, runcmdScript, shellQuote } from ".";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));
function root(): TempRoot {
  const r = tempRoot();
  roots.push(r);
  return r;
}
const log = (r: TempRoot) => readFileSync(join(r.dir, "var/log/user_data.log"), "utf8");

describe("runcmd", () => {
  it("runs strings in one shell, so cd and variables carry over, and lists without a shell", async () => {
    const r = root();
    const res = await runcmd.run({ runcmd: [`cd ${r.dir}`, "X=kept", 'echo "$X $(pwd)"', ["printf", "%s|", "a b", "$X"]] }, moduleContext(r, { stage: "final" }));
    expect(res.errors).toEqual([]);
    const text = log(r);
    expect(text).toContain(`kept ${r.dir}\n`);
    expect(text).toContain("a b|$X|");
    expect(text).toMatch(/^--- sprout: BEGIN runcmd stage=final instance=iid-test-1 at \S+Z\n/);
    expect(text).toMatch(/--- sprout: END runcmd exit=0 after \d+ ms\n$/);
    expect(statSync(join(r.dir, "var/log/user_data.log")).mode & 0o777).toBe(0o600);
  });

  it("goes on after a failing entry and reports every failure", async () => {
    const r = root();
    const res = await runcmd.run({ runcmd: ["false", "echo second", "sh -c 'exit 7'", "echo last"] }, moduleContext(r, { stage: "final" }));
    expect(res.errors).toEqual(["runcmd[0] (false) exited 1", "runcmd[2] (sh -c 'exit 7') exited 7"]);
    expect(log(r)).toContain("second\n");
    expect(log(r)).toContain("last\n");
  });

  it("reports entries an `exit` never let run", async () => {
    const r = root();
    const res = await runcmd.run({ runcmd: ["echo one", "exit 3", "echo never"] }, moduleContext(r, { stage: "final" }));
    expect(res.errors!.join("\n")).toMatch(/runcmd\[2\] \(echo never\) did not run/);
    expect(log(r)).not.toContain("never\n");
    expect(log(r)).toContain("exit=3");
  });

  it("rejects a runcmd that is not a list, and bad entries, with a clear message", async () => {
    const r = root();
    expect((await runcmd.run({ runcmd: 5 }, moduleContext(r))).errors![0]).toMatch(/runcmd must be a list of commands, not a number/);
    const res = await runcmd.run({ runcmd: [{ a: 1 }, [], "echo ok"] }, moduleContext(r));
    expect(res.errors).toEqual(["runcmd[0] is a object; write a string or a list of words", "runcmd[1] is an empty or nested list; write a string or a list of words"]);
    expect(log(r)).toContain("ok\n");
  });

  it("keeps binary and huge output from breaking the log", async () => {
    const r = root();
    const ctx = moduleContext(r, { stage: "final" });
    ctx.settings.scriptLogCap = 10_000;
    await runcmd.run({ runcmd: ["printf '\\001\\002bin\\377\\n'", "head -c 50000 /dev/zero | tr '\\0' a"] }, ctx);
    const text = log(r);
    expect(text).toContain("\\x01\\x02bin\uFFFD\n");
    expect(text).toMatch(/runcmd printed more than 10000 bytes; \d+ bytes were not logged/);
    expect(text.length).toBeLessThan(12_000);
  });

  it("quotes list arguments for the shell", () => {
    expect(shellQuote("plain/path-1.2")).toBe("plain/path-1.2");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(runcmdScript([["echo", "a b"], "ls"]).script).toContain("echo 'a b'\necho \"0 $?\" >&9\nls\n");
  });

  it("runs cloud-init's documented example", async () => {
    const r = root();
    const doc = parseYaml(readFileSync(join(__dirname, "../../../shared/corpus/cloud-init/module-docs/cc_runcmd/example1.yaml"), "utf8")).value as Record<string, unknown>;
    const { script, errors } = runcmdScript(doc.runcmd as unknown[]);
    expect(errors).toEqual([]);
    expect(script).toContain("ls -l /");
    void r;
  });
});
