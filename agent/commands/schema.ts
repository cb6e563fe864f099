// `sprout schema`: check a cloud-config before booting with it, or print the
// module reference. The validator loads only for this command, and the modules
// only for --docs. Checking reads files and nothing else, so it takes the
// target root alone, not a whole Host (logger, runner, fetcher, syslog).
import { isAbsolute, resolve } from "node:path";
import { loadSystemConfig } from "../config";
import { FsTargetRoot } from "../host/target-root";
import { UsageError } from "./args";
import type { SchemaProblem } from "../schema/validate";
import type { Command, Globals } from "./types";

async function check(g: Globals, files: Array<{ file: string; text: string; requireHeader: boolean }>, extra: Array<{ file: string; line?: number; col?: number; message: string }>, json: boolean): Promise<number> {
  const { validateCloudConfig, formatProblem } = await import("../schema/validate");
  const problems: SchemaProblem[] = extra.map((p) => ({ severity: "error", file: p.file, line: p.line ?? null, col: p.col ?? null, path: "", message: p.message }));
  for (const f of files) problems.push(...validateCloudConfig(f.text, { file: f.file, requireHeader: f.requireHeader }));
  const errors = problems.filter((p) => p.severity === "error");
  if (json) for (const p of problems) g.out(JSON.stringify(p) + "\n");
  else {
    for (const p of problems) g.out(formatProblem(p) + "\n");
    if (errors.length === 0) g.out(`Valid schema ${files.map((f) => f.file).join(", ") || "(no files)"}\n`);
    else g.out(`Invalid schema: ${errors.length} error${errors.length === 1 ? "" : "s"}; see \`sprout schema --docs MODULE\` for the keys a module takes\n`);
  }
  return errors.length ? 1 : 0;
}

export const schemaCommand: Command = {
  name: "schema",
  summary: "check a cloud-config (--config-file F or --system) or print the module docs (--docs)",
  usage: "sprout schema --config-file FILE [--format text|json] | --system [--format text|json] | --docs [MODULE]",
  options: {
    "config-file": { type: "string", short: "c", help: "the cloud-config (user-data) file to check", value: "FILE" },
    system: { type: "boolean", help: "check the system config (/etc/sprout/config.yaml and config.d) under --root" },
    docs: { type: "boolean", help: "print the module reference (Markdown), or one module's with MODULE" },
    format: { type: "string", help: "text (default) or json: one JSON object per line per problem", value: "text|json" },
  },
  details: "Every problem names the file, line and column, the key path and what was expected.\nExit status: 0 valid (deprecations are not errors), 1 invalid, 2 the file cannot be read or bad usage.",
  async run(a, g) {
    const format = a.options.format ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--format must be text or json, not ${JSON.stringify(format)}`);
    const modes = ["config-file", "system", "docs"].filter((k) => a.options[k] !== undefined);
    if (modes.length !== 1) throw new UsageError("give exactly one of --config-file FILE, --system or --docs");
    if (a.options.docs) {
      const { renderModuleDocs } = await import("../schema");
      const { findModule } = await import("../../modules");
      const only = a.positionals[0];
      if (only && !findModule(only)) {
        g.err(`sprout: no module ${JSON.stringify(only)}; \`sprout schema --docs\` lists them all\n`);
        return 2;
      }
      g.out(renderModuleDocs(only) + "\n");
      return 0;
    }
    if (a.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(a.positionals[0])}`);
    const json = format === "json";
    if (a.options.system) {
      const root = new FsTargetRoot(g.root);
      const loaded = loadSystemConfig(root);
      const files = loaded.files.map((file) => ({ file, text: root.readText(file), requireHeader: false }));
      return check(g, files, loaded.problems, json);
    }
    const given = String(a.options["config-file"]);
    const path = isAbsolute(given) ? given : resolve(given);
    let text: string;
    try {
      text = new FsTargetRoot("/").readText(path, 16 * 1024 * 1024);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      g.err(`sprout: cannot read ${given}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message}\n`);
      return 2;
    }
    return check(g, [{ file: given, text, requireHeader: true }], [], json);
  },
};
