import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Document, type Node } from "yaml";

export interface YamlProblem {
  message: string;
  line?: number;
  col?: number;
}

export interface ParsedYaml {
  value: unknown;
  /** Syntax errors; when non-empty, value is whatever the parser could recover (or null). */
  errors: YamlProblem[];
  /** Line/column of a key path, for errors found after parsing (schema, modules). */
  locate(path: ReadonlyArray<string | number>): { line: number; col: number } | null;
}

/** YAML 1.1-ish like cloud-init (PyYAML): `yes`/`on` are booleans, octal 0644 is a number. */
export function parseYaml(text: string): ParsedYaml {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, version: "1.1", prettyErrors: false, uniqueKeys: false });
  const errors: YamlProblem[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? (e.pos ? lc.linePos(e.pos[0]) : undefined);
    return { message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""), line: pos?.line, col: pos?.col };
  });
  let value: unknown = null;
  if (errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      errors.push({ message: (err as Error).message });
    }
  }
  return {
    value,
    errors,
    locate(path) {
      let node: unknown = doc.contents;
      let found: Node | null = (doc.contents as Node) ?? null;
      for (const seg of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
          if (!pair) break;
          found = (pair.key as Node) ?? found;
          node = pair.value;
          if (node && (node as Node).range) found = pair.key as Node;
        } else if (isSeq(node) && typeof seg === "number") {
          const item = node.items[seg] as Node | undefined;
          if (!item) break;
          found = item;
          node = item;
        } else break;
      }
      if (!found?.range) return null;
      const p = lc.linePos(found.range[0]);
      return { line: p.line, col: p.col };
    },
  };
}
