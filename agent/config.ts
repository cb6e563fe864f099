import type { TargetRoot } from "./host/types";
import { deepMerge, isPlainObject } from "./merge";
import type { CloudConfig, SproutSettings } from "./types";
import { parseYaml } from "./yaml";

export const CONFIG_FILE = "/etc/sprout/config.yaml";
export const CONFIG_DIR = "/etc/sprout/config.d";

export const DEFAULT_DATASOURCES = ["NoCloud", "OVF", "Ec2", "None"];

/** Built-in defaults; /etc/sprout/config.yaml and config.d override them. */
export function defaultConfig(): CloudConfig {
  return {
    datasource_list: [...DEFAULT_DATASOURCES],
    growpart: { mode: "auto", devices: ["/"] },
    resize_rootfs: true,
  };
}

export interface ConfigProblem {
  file: string;
  message: string;
  line?: number;
  col?: number;
}

export interface LoadedConfig {
  config: CloudConfig;
  files: string[];
  problems: ConfigProblem[];
}

/**
 * The system config: defaults, then config.yaml, then config.d/*.yaml|yml|cfg in
 * name order, later wins. A file that cannot be read or parsed is named (with
 * line and column) and skipped; the rest still apply.
 */
export function loadSystemConfig(root: TargetRoot): LoadedConfig {
  let config: CloudConfig = defaultConfig();
  const files: string[] = [];
  const problems: ConfigProblem[] = [];
  const candidates = [CONFIG_FILE];
  let entries: string[] = [];
  try {
    entries = root.readdir(CONFIG_DIR);
  } catch {
    // no config.d: fine
  }
  for (const name of entries) if (/\.(ya?ml|cfg)$/.test(name) && !name.startsWith(".")) candidates.push(`${CONFIG_DIR}/${name}`);
  for (const file of candidates) {
    let text: string | null;
    try {
      text = root.tryReadText(file, 4 * 1024 * 1024);
    } catch (err) {
      problems.push({ file, message: `cannot read: ${(err as Error).message}; skipped this file` });
      continue;
    }
    if (text === null) continue;
    const parsed = parseYaml(text);
    if (parsed.errors.length > 0) {
      for (const e of parsed.errors) problems.push({ file, line: e.line, col: e.col, message: `YAML error: ${e.message}; skipped this file, fix it and run \`sprout schema --system\`` });
      continue;
    }
    if (parsed.value === null || parsed.value === undefined) {
      files.push(file);
      continue;
    }
    if (!isPlainObject(parsed.value)) {
      problems.push({ file, line: 1, col: 1, message: "not a mapping of keys to values; skipped this file" });
      continue;
    }
    config = deepMerge(config, parsed.value) as CloudConfig;
    files.push(file);
  }
  return { config, files, problems };
}

export function sproutSettings(cfg: CloudConfig): SproutSettings {
  const s = isPlainObject(cfg.sprout) ? cfg.sprout : {};
  const num = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : d);
  return {
    scriptTimeoutMs: num(s.script_timeout, 1800) * 1000,
    scriptLogCap: num(s.script_log_cap, 1024 * 1024),
  };
}

export function datasourceConfig(cfg: CloudConfig, id: string): Record<string, unknown> {
  const ds = isPlainObject(cfg.datasource) ? cfg.datasource : {};
  const own = ds[id];
  return isPlainObject(own) ? own : {};
}
