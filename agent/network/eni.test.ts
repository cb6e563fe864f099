// The ENI renderer against Debian's real cloud-init 22.4.2 on the same documents:
// fixtures/*.eni and *.rules were written by cloud-init's own renderer
// (fixtures/render-with-cloud-init.py). Where sprout differs on purpose, the test
// says how, and docs/compat.md says why.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENI_FILE, UDEV_RULES_FILE, renderEni } from "./eni";
import { parseNetworkConfig } from "./state";
import { FIXTURES_DIR as FIXTURES, fixture, fixtureNames } from "../../test/helpers/network-fixtures";

const names = fixtureNames(".eni");

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
