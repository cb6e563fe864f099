// The gate every module passes: registered once, a schema whose every key has a
// description and an example, and a test file that names it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STAGES } from "../agent/types";
import { MODULES } from ".";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".test.ts") ? [join(dir, e.name)] : []));
}
const allTests = [...testFiles(__dirname), ...testFiles(join(__dirname, "../test"))].map((f) => readFileSync(f, "utf8")).join("\n");

function undocumented(schema: Record<string, unknown>, path: string): string[] {
  const out: string[] = [];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [k, v] of Object.entries(props)) {
    if (typeof v.description !== "string" || v.description.length < 10) out.push(`${path}${k}: no description`);
    if (!Array.isArray(v.examples) || v.examples.length === 0) out.push(`${path}${k}: no example`);
  }
  return out;
}

describe("module registry", () => {
  it("has unique ids and valid stages and frequencies", () => {
    expect(new Set(MODULES.map((m) => m.id)).size).toBe(MODULES.length);
    for (const m of MODULES) {
      expect(STAGES).toContain(m.stage);
      expect(["always", "per-instance", "once"]).toContain(m.frequency);
    }
  });

  for (const m of MODULES) {
    it(`${m.id}: schema documents every key, and a test exercises it`, () => {
      expect(m.schema.type).toBe("object");
      expect(typeof m.schema.description).toBe("string");
      expect(undocumented(m.schema, "")).toEqual([]);
      const folder = join(__dirname, m.id);
      const named = new RegExp(`\\b${m.id.replace(/_/g, "_")}\\b`);
      expect(existsSync(folder) || named.test(allTests), `${m.id} needs a folder modules/${m.id}/ or a test naming it`).toBe(true);
      expect(named.test(allTests), `no test names ${m.id}`).toBe(true);
    });
  }
});
