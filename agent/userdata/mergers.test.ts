import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml } from "../yaml";
import type { JsonObject } from "../types";
import { mergePart, parseMergeString } from "./mergers";

const DIR = resolve(__dirname, "../../../shared/corpus/cloud-init/merge_sources");
const load = (f: string) => parseYaml(readFileSync(`${DIR}/${f}`, "utf8")).value as JsonObject;

describe("cloud-init merge_sources corpus", () => {
  const files = readdirSync(DIR);
  const cases = files.filter((f) => /^expected\d+\.yaml$/.test(f)).map((f) => Number(/\d+/.exec(f)![0])).sort((a, b) => a - b);
  it("has cases", () => expect(cases.length).toBeGreaterThanOrEqual(12));
  for (const n of cases) {
    it(`case ${n} merges to expected${n}.yaml`, () => {
      const sources = files.filter((f) => f.startsWith(`source${n}-`)).sort((a, b) => Number(/-(\d+)/.exec(a)![1]) - Number(/-(\d+)/.exec(b)![1]));
      let acc: JsonObject = {};
      for (const s of sources) acc = mergePart(acc, load(s)).value;
      expect(acc).toEqual(load(`expected${n}.yaml`));
    });
  }
});

describe("merge types", () => {
  it("rejects a malformed spec with a message", () => {
    expect(() => parseMergeString("list[append]")).toThrow(/name\(option/);
  });
  it("reports a bad merge_how and falls back to the default", () => {
    const r = mergePart({ a: [1] }, { a: [2], merge_how: "oops" });
    expect(r.value).toEqual({ a: [2] });
    expect(r.warnings[0]).toMatch(/default/);
  });
  it("honours the Merge-Type header", () => {
    expect(mergePart({ a: [1] }, { a: [2] }, "list(append)+dict(recurse_array)").value).toEqual({ a: [1, 2] });
  });
});
