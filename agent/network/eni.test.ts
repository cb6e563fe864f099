// The ENI renderer against Debian's real cloud-init 22.4.2 on the same documents:
// fixtures/*.eni and *.rules were written by cloud-init's own renderer
// (fixtures/render-with-cloud-init.py). Where sprout differs on purpose, the test
// says how, and docs/compat.md says why.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml } from "../yaml";
import { ENI_FILE, UDEV_RULES_FILE, renderEni } from "./eni";
import { parseNetworkConfig } from "./state";

const FIXTURES = join(__dirname, "fixtures");

export function fixture(name: string): { doc: unknown; nicsByMac: Map<string, string> } {
  const text = readFileSync(join(FIXTURES, `${name}.yaml`), "utf8");
  const nics = JSON.parse(/^# nics:(.*)$/m.exec(text)?.[1] ?? "{}") as Record<string, string>;
  return { doc: parseYaml(text).value, nicsByMac: new Map(Object.entries(nics).map(([n, m]) => [m.toLowerCase(), n])) };
}

const names = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".eni"))
  .map((f) => f.replace(/\.eni$/, ""));

describe("ENI as cloud-init 22.4.2 writes it", () => {
  it("has fixtures", () => expect(names.length).toBeGreaterThanOrEqual(6));
  for (const name of names) {
    it(name, () => {
      const { doc, nicsByMac } = fixture(name);
      const files = renderEni(parseNetworkConfig(doc, { nicsByMac }));
      // cloud-init 22.4.2 also writes per-interface nameservers as Python's repr of a
      // dict (`dns {'nameservers': [...]}`), a line ifupdown cannot use: sprout leaves it out.
      const expected = readFileSync(join(FIXTURES, `${name}.eni`), "utf8").replace(/^    dns \{.*\n/gm, "");
      expect(files.get(ENI_FILE)).toBe(expected);
      // cloud-init copies the MAC's case into the rule; udev compares with the kernel's lower case.
      expect(files.get(UDEV_RULES_FILE)).toBe(readFileSync(join(FIXTURES, `${name}.rules`), "utf8").replace(/ATTR\{address\}=="([^"]+)"/g, (_, m: string) => `ATTR{address}=="${m.toLowerCase()}"`));
    });
  }
});
