// The gate every datasource passes: registered once and run through the conformance suite.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATASOURCES } from ".";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".test.ts") ? [join(dir, e.name)] : []));
}

describe("datasource registry", () => {
  it("has unique ids, None last-resort included", () => {
    expect(new Set(DATASOURCES.map((d) => d.id.toLowerCase())).size).toBe(DATASOURCES.length);
    expect(DATASOURCES.map((d) => d.id)).toContain("None");
  });

  const sources = testFiles(__dirname).map((f) => readFileSync(f, "utf8"));
  for (const ds of DATASOURCES.filter((d) => d.id !== "None")) {
    it(`${ds.id} runs the conformance suite`, () => {
      const calls = sources.filter((s) => s.includes("datasourceConformance(") && new RegExp(`ds:\\s*\\w+`).test(s));
      const own = calls.some((s) => s.includes(`datasources/${ds.id.toLowerCase()}`) || new RegExp(`from "\\.{1,2}(/${ds.id.toLowerCase()})?"`).test(s));
      expect(calls.length > 0 && own, `datasources/${ds.id.toLowerCase()}/ needs a test calling datasourceConformance`).toBe(true);
    });
  }
});
