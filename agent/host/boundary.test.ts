// The design's rule: only agent/host touches the filesystem, processes and the network.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(__dirname, "../..");
const FORBIDDEN = /^(node:)?(fs|fs\/promises|child_process|net|http|https|dgram|tls)$/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
  });
}

function imports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|lazyBuiltin(?:<[^>]*>)?\(\s*)["']([^"']+)["']/g)) out.push(m[1]!);
  return out;
}

describe("host boundary", () => {
  it("finds the source files it checks", () => {
    expect(sources(join(REPO, "agent")).length).toBeGreaterThan(10);
  });

  it("only agent/host imports node:fs, child_process, net, http, https, dgram", () => {
    const offenders: string[] = [];
    for (const top of ["agent", "datasources", "modules"]) {
      for (const file of sources(join(REPO, top))) {
        const rel = relative(REPO, file);
        if (rel.startsWith("agent/host/")) continue;
        for (const spec of imports(readFileSync(file, "utf8"))) if (FORBIDDEN.test(spec)) offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("recognises a forbidden import (the check itself works)", () => {
    expect(imports('import * as fs from "node:fs";\nconst x = await import("node:http");\nconst cp = lazyBuiltin<typeof import("node:child_process")>("node:child_process");').filter((s) => FORBIDDEN.test(s))).toEqual(["node:fs", "node:http", "node:child_process"]);
  });
});
