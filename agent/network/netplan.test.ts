// The netplan renderer against Debian's real cloud-init 22.4.2 on the same documents:
// fixtures/*.netplan were written by cloud-init's own renderer (fixtures/render-with-cloud-init.py).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES_DIR as FIXTURES, fixture, fixtureNames } from "../../test/helpers/network-fixtures";
import { NETPLAN_FILE, renderNetplan } from "./netplan";
import { parseNetworkConfig } from "./state";

const names = fixtureNames(".netplan");

describe("netplan as cloud-init 22.4.2 writes it", () => {
  it("has fixtures, version 1 and 2", () => {
    expect(names.filter((n) => n.includes("v1")).length).toBeGreaterThanOrEqual(4);
    expect(names.filter((n) => n.includes("v2")).length).toBeGreaterThanOrEqual(2);
  });
  for (const name of names) {
    it(name, () => {
      const { doc, nicsByMac } = fixture(name);
      const files = renderNetplan(parseNetworkConfig(doc, { nicsByMac }), doc);
      expect(files.get(NETPLAN_FILE)).toBe(readFileSync(join(FIXTURES, `${name}.netplan`), "utf8"));
    });
  }
});
