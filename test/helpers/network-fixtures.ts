// The network-config fixtures (agent/network/fixtures/*.yaml) for the tests: the document and the
// machine's NICs its `# nics:` line describes (MAC -> name).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseYaml } from "../../agent/yaml";

export const FIXTURES_DIR = join(__dirname, "../../agent/network/fixtures");

export const fixtureNames = (ext: string) =>
  readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith(ext))
    .map((f) => f.slice(0, -ext.length));

export function fixture(name: string): { doc: unknown; nicsByMac: Map<string, string> } {
  const text = readFileSync(join(FIXTURES_DIR, `${name}.yaml`), "utf8");
  const nics = JSON.parse(/^# nics:(.*)$/m.exec(text)?.[1] ?? "{}") as Record<string, string>;
  return { doc: parseYaml(text).value, nicsByMac: new Map(Object.entries(nics).map(([n, m]) => [m.toLowerCase(), n])) };
}
