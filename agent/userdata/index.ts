// User-data: what the instance's owner wrote, in any of cloud-init's formats,
// turned into cloud-config documents (merged in order) and scripts.
import { isPlainObject } from "../merge";
import type { JsonObject } from "../types";
import { parseYaml } from "../yaml";

export interface UserDataProblem {
  source: string;
  message: string;
  line?: number;
  col?: number;
}

export interface UserScript {
  /** The name a person recognises: the MIME part's filename, or part-NNN. */
  name: string;
  content: Buffer;
}

export interface ProcessedUserData {
  cloudConfigs: Array<{ source: string; value: JsonObject }>;
  scripts: UserScript[];
  boothooks: UserScript[];
  problems: UserDataProblem[];
}

export function emptyUserData(): ProcessedUserData {
  return { cloudConfigs: [], scripts: [], boothooks: [], problems: [] };
}

/** Parses one user-data (or vendor-data) blob. Never throws: what cannot be used is reported. */
export function processUserData(bytes: Buffer | null, source: string): ProcessedUserData {
  const out = emptyUserData();
  if (!bytes || bytes.length === 0) return out;
  const text = bytes.toString("utf8");
  const firstLine = text.slice(0, text.indexOf("\n") >= 0 ? text.indexOf("\n") : text.length).trim();
  if (/^#cloud-config\b/i.test(firstLine)) {
    const parsed = parseYaml(text);
    if (parsed.errors.length > 0) {
      for (const e of parsed.errors) out.problems.push({ source, line: e.line, col: e.col, message: `YAML error: ${e.message}; this cloud-config was not applied` });
    } else if (parsed.value === null || parsed.value === undefined) {
      // An empty #cloud-config is valid and does nothing.
    } else if (!isPlainObject(parsed.value)) {
      out.problems.push({ source, line: 1, col: 1, message: "cloud-config is not a mapping of keys to values; not applied" });
    } else out.cloudConfigs.push({ source, value: parsed.value });
  } else if (firstLine.startsWith("#!")) {
    out.scripts.push({ name: "part-001", content: bytes });
  } else {
    out.problems.push({ source, line: 1, col: 1, message: `unrecognised user-data format (first line ${JSON.stringify(firstLine.slice(0, 40))}); start it with #cloud-config or #!` });
  }
  return out;
}
