// npm run test:compat: each case of test/compat/cases.ts is booted by Debian's
// cloud-init and by sprout on the same lowers; the observable effects are compared
// and every difference must be listed in test/compat/intentional.ts.
// COMPAT_CASE=<regex> runs only the matching cases. A report of every difference,
// explained or not, is written to test-results/compat-report.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serveDir } from "../e2e/harness";
import { CASES, type CompatCase } from "./cases";
import { diffEffects, effectsOf, explain, unexplained, type Divergence } from "./effects";
import { INTENTIONAL } from "./intentional";
import { bootWith, compatUnavailable, type BootRecord } from "./machine";

const why = compatUnavailable();
if (why) console.warn(`skipping compat: ${why}`);
const only = process.env.COMPAT_CASE ? new RegExp(process.env.COMPAT_CASE) : null;
const cases = CASES.filter((c) => !only || only.test(c.name));
const report: string[] = [];

async function bootBoth(c: CompatCase): Promise<[BootRecord, BootRecord]> {
  let server: { url: string; stop(): void } | null = null;
  let dir: string | null = null;
  try {
    let userData = c.userData;
    if (c.serve) {
      dir = mkdtempSync(join(tmpdir(), "sprout-compat-serve-"));
      for (const [p, body] of Object.entries(c.serve)) writeFileSync(join(dir, p), body);
      server = await serveDir(dir);
    }
    if (typeof userData === "function") userData = userData(server!.url);
    const seed = { metaData: c.metaData, userData, vendorData: c.vendorData, files: c.files };
    return [await bootWith("cloud-init", seed), await bootWith("sprout", seed)];
  } finally {
    server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function describeDivergence(d: Divergence): string {
  return `  ${d.key}\n    cloud-init: ${d.cloudInit ?? "(absent)"}\n    sprout:     ${d.sprout ?? "(absent)"}`;
}

describe.skipIf(why !== null)("sprout and cloud-init on the same seeds", () => {
  afterAll(() => {
    mkdirSync("test-results", { recursive: true });
    writeFileSync("test-results/compat-report.md", report.join("\n") + "\n");
  });

  for (const c of cases) {
    it(c.name, async () => {
      const [ci, sp] = await bootBoth(c);
      const ds = diffEffects(effectsOf(ci.snapshot, ci), effectsOf(sp.snapshot, sp));
      report.push(`## ${c.name}`);
      for (const d of ds) {
        const k = explain(c.name, d, INTENTIONAL);
        report.push(`- ${k ? "intentional" : "UNEXPLAINED"}: ${d.key}\n  - cloud-init: \`${d.cloudInit ?? "(absent)"}\`\n  - sprout: \`${d.sprout ?? "(absent)"}\`${k ? `\n  - why: ${k.reason}` : ""}`);
      }
      if (ds.length === 0) report.push("- same effects");
      const open = unexplained(c.name, ds, INTENTIONAL);
      const context = open.length ? `\n--- cloud-init status:\n${ci.statusOutput}\n--- sprout status:\n${sp.statusOutput}\n--- sprout boot:\n${sp.bootOutput.slice(-3000)}` : "";
      expect(open.map(describeDivergence).join("\n") + context).toBe("");
    });
  }
});
