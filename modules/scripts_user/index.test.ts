import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { scriptsPerBoot, scriptsPerInstance, scriptsPerOnce, scriptsUser, scriptsVendor } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

const LOG = "/var/log/user_data.log";
const USER_DIR = "/var/lib/sprout/instances/iid-test-1/scripts/user-data";

describe("scripts_user and the scripts directories", () => {
  it("runs each script with its output framed in user_data.log; every failure is an error", async () => {
    root = tempRoot();
    root.write(`${USER_DIR}/a.sh`, "#!/bin/sh\necho out-a; echo err-a >&2\n", 0o700);
    root.write(`${USER_DIR}/b.sh`, "#!/bin/sh\necho b; exit 3\n", 0o700);
    root.write(`${USER_DIR}/c.sh`, "#!/bin/sh\nexit 4\n", 0o700);
    const res = await scriptsUser.run({}, moduleContext(root));
    expect(res.errors).toEqual(["b.sh failed: exit 3", "c.sh failed: exit 4"]);
    const log = root.host().root.readText(LOG);
    expect(log).toMatch(/^--- sprout: BEGIN a\.sh stage=final instance=iid-test-1 at \S+\nout-a\nerr-a\n--- sprout: END a\.sh exit=0 after \d+ ms\n/);
    expect(log).toMatch(/--- sprout: END b\.sh exit=3 after/);
    expect(root.host().root.stat(LOG)!.mode).toBe(0o600);
  });
  it("a script that is not executable, has no #! line or a missing interpreter gets a clear error and the others still run", async () => {
    root = tempRoot();
    const dir = "/var/lib/sprout/scripts/per-boot";
    root.write(`${dir}/10-noexec`, "#!/bin/sh\necho no\n", 0o644);
    root.write(`${dir}/20-nointerp`, "echo hi\n", 0o755);
    root.write(`${dir}/30-missing`, "#!/usr/bin/no-such-interpreter\necho\n", 0o755);
    root.write(`${dir}/35-crlf`, "#!/bin/sh\r\necho from windows\r\n", 0o755);
    root.write(`${dir}/40-ok`, "#!/bin/sh\necho fine\n", 0o755);
    const res = await scriptsPerBoot.run({}, moduleContext(root));
    expect(res.errors).toHaveLength(4);
    expect(res.errors![3]).toBe(`35-crlf: ${dir}/35-crlf has Windows line endings (CR LF): its #! line names "/bin/sh\\r", which no system has (the script would fail to start); save it with Unix line endings (dos2unix, or your editor's LF setting)`);
    expect(res.errors![0]).toMatch(/10-noexec is not executable; make it so with chmod \+x/);
    expect(res.errors![1]).toMatch(/20-nointerp has no interpreter line; start it with one, e\.g\. #!\/bin\/sh/);
    expect(res.errors![2]).toMatch(/wants the interpreter \/usr\/bin\/no-such-interpreter, which is not installed/);
    const log = root.host().root.readText(LOG);
    expect(log).toContain("--- sprout: SKIPPED 10-noexec");
    expect(log).toMatch(/BEGIN 40-ok[^\n]*\nfine\n/);
  });
  it("binary and huge output is made printable and capped", async () => {
    root = tempRoot();
    root.write(`${USER_DIR}/noisy`, "#!/bin/sh\nprintf '\\001\\002bin\\n'\nhead -c 200000 /dev/zero | tr '\\0' x\necho\n", 0o700);
    const res = await scriptsUser.run({}, moduleContext(root));
    expect(res.errors).toEqual([]);
    const log = root.host().root.readText(LOG);
    expect(log).toContain("\\x01\\x02bin");
    expect(log).toMatch(/noisy printed more than 65536 bytes; \d+ bytes were not logged/);
    expect(log.length).toBeLessThan(70_000);
    expect(log).toMatch(/END noisy exit=0/);
  });
  it("nothing to run is skipped", async () => {
    root = tempRoot();
    expect((await scriptsUser.run({}, moduleContext(root))).status).toBe("skipped");
  });
});

describe("scripts_vendor, scripts_per_once, scripts_per_boot, scripts_per_instance", () => {
  const cases = [
    { mod: scriptsVendor, id: "scripts_vendor", dir: "/var/lib/sprout/instances/iid-test-1/scripts/vendor-data", freq: "per-instance" },
    { mod: scriptsPerOnce, id: "scripts_per_once", dir: "/var/lib/sprout/scripts/per-once", freq: "once" },
    { mod: scriptsPerBoot, id: "scripts_per_boot", dir: "/var/lib/sprout/scripts/per-boot", freq: "always" },
    { mod: scriptsPerInstance, id: "scripts_per_instance", dir: "/var/lib/sprout/scripts/per-instance", freq: "per-instance" },
  ];
  for (const c of cases) {
    it(`${c.id} runs the scripts in its directory (${c.freq}), in name order`, async () => {
      root = tempRoot();
      root.write(`${c.dir}/20-second`, "#!/bin/sh\necho second\n", 0o755);
      root.write(`${c.dir}/10-first`, "#!/bin/sh\necho first\n", 0o755);
      expect(c.mod.id).toBe(c.id);
      expect(c.mod.frequency).toBe(c.freq);
      const res = await c.mod.run({}, moduleContext(root));
      expect(res.errors ?? []).toEqual([]);
      const log = root.host().root.readText(LOG);
      expect(log.indexOf("BEGIN 10-first")).toBeGreaterThanOrEqual(0);
      expect(log.indexOf("BEGIN 10-first")).toBeLessThan(log.indexOf("BEGIN 20-second"));
      expect(log).toContain("first\n");
    });
  }
});
