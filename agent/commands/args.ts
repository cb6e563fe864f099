// A small argument parser: commands declare their options, anything else is a
// clear error (exit 2). No dependency, so `sprout` starts fast.

export type OptionSpec = Record<string, { type: "boolean" | "string"; short?: string; help: string; value?: string }>;

export interface Parsed {
  options: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], spec: OptionSpec): Parsed {
  const options: Parsed["options"] = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([k, s]) => [s.short!, k]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (!spec[name]) throw new UsageError(`unknown option --${name}`);
    } else if (arg.startsWith("-") && arg.length > 1) {
      name = byShort.get(arg.slice(1));
      if (!name) throw new UsageError(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    const s = spec[name]!;
    if (s.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
    } else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value${s.value ? ` (${s.value})` : ""}`);
      options[name] = v;
    }
  }
  return { options, positionals };
}

export function formatOptions(spec: OptionSpec): string {
  return Object.entries(spec)
    .map(([k, s]) => `  ${s.short ? `-${s.short}, ` : "    "}--${k}${s.type === "string" ? ` ${s.value ?? "VALUE"}` : ""}`.padEnd(34) + s.help)
    .join("\n");
}
