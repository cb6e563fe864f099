// Every shell file of the initramfs pieces (and the boot tests' builder) is POSIX sh
// that shellcheck passes without a finding.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HOOK, HOOKS, LOCAL_TOP, PANIC, resolveOnPath } from "./fake.js";

const SCRIPTS = [HOOK, LOCAL_TOP, PANIC, join(HOOKS, "rescue.conf"), join(HOOKS, "../test/boot/build-initramfs.sh")];
const shellcheck = resolveOnPath("shellcheck");
if (!shellcheck) console.warn("skipping shellcheck of the initramfs scripts: shellcheck is not installed (apt install shellcheck)");

describe.skipIf(!shellcheck)("shellcheck", () => {
  it.each(SCRIPTS)("%s is clean as POSIX sh", (file) => {
    const r = spawnSync(shellcheck!, ["-s", "sh", "-x", file], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("scripts start with #!/bin/sh, as initramfs-tools runs them with it", () => {
    for (const f of [HOOK, LOCAL_TOP, PANIC]) {
      const head = spawnSync("head", ["-n1", f], { encoding: "utf8" }).stdout;
      expect(head, f).toBe("#!/bin/sh\n");
    }
  });
});
