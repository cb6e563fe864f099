// `npm test` after set-up: the vitest suites (unit, module, conformance, chroot e2e),
// then the qemu boot tests (initramfs) and the VM image tests, then one closing line
// "N passed, N failed, N skipped". Every suite runs even when an earlier one failed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";

mkdirSync("test-results", { recursive: true });
const suites = [["unit+e2e", "vitest.config.ts", "test-results/unit.json"]];
if (existsSync("test/boot/vitest.config.ts")) suites.push(["boot", "test/boot/vitest.config.ts", "test-results/boot.json"]);
if (existsSync("test/vm/vitest.config.ts")) suites.push(["vm", "test/vm/vitest.config.ts", "test-results/vm.json"]);

let passed = 0;
let failed = 0;
let skipped = 0;
let worst = 0;
for (const [name, config, out] of suites) {
  process.stdout.write(`\n== ${name} tests (${config}) ==\n`);
  const r = spawnSync("npx", ["vitest", "run", "--config", config, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`], { stdio: "inherit" });
  if (r.status !== 0) worst = r.status ?? 1;
  try {
    const j = JSON.parse(readFileSync(out, "utf8"));
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    skipped += j.numPendingTests + (j.numTodoTests ?? 0);
    if (j.numTotalTests === 0) worst ||= 1;
  } catch {
    failed += 1;
    worst ||= 1;
  }
}
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(worst);
