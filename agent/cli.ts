// sprout's command line: `sprout [--root DIR] COMMAND [OPTIONS]`.
import { formatOptions, parseArgs, UsageError } from "./commands/args";
import { COMMANDS } from "./commands";
import type { Globals } from "./commands/types";
import { writeConsole } from "./host/console";
import { VERSION } from "./version";

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    "usage: sprout [--root DIR] COMMAND [OPTIONS]",
    "",
    "sprout configures a machine at boot from its datasource (NoCloud, OVF, EC2) and cloud-config.",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}${c.summary}`),
    "",
    "global options:",
    "  --root DIR      read and write every file under DIR instead of / (for images and tests)",
    "  --version       print the version",
    "  -h, --help      this help; `sprout COMMAND --help` for a command's",
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const g: Globals = { root: "/", out: (t) => writeConsole(1, t), err: (t) => writeConsole(2, t) };
  let i = 0;
  // Global options come before the command.
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--version" || a === "-V") {
      g.out(`sprout ${VERSION}\n`);
      return 0;
    }
    if (a === "--help" || a === "-h") {
      g.out(mainHelp());
      return 0;
    }
    if (a === "--root" || a.startsWith("--root=")) {
      const v = a === "--root" ? argv[++i] : a.slice(7);
      if (!v) return usage(g, "--root needs a directory");
      g.root = v;
      continue;
    }
    break;
  }
  const name = argv[i];
  if (!name) return usage(g, "no command given");
  const entry = COMMANDS[name];
  if (!entry) {
    if (name.startsWith("-")) return usage(g, `unknown option ${name}`);
    const near = Object.keys(COMMANDS).find((k) => k.startsWith(name.slice(0, 2)));
    return usage(g, `unknown command ${JSON.stringify(name)}${near ? ` (did you mean ${near}?)` : ""}`);
  }
  const cmd = await entry.load();
  const rest = argv.slice(i + 1);
  if (rest.includes("--help") || rest.includes("-h")) {
    g.out(`usage: ${cmd.usage}\n\n${cmd.summary}\n${cmd.details ? `\n${cmd.details}\n` : ""}${Object.keys(cmd.options).length ? `\noptions:\n${formatOptions(cmd.options)}\n` : ""}`);
    return 0;
  }
  try {
    return await cmd.run(parseArgs(rest, cmd.options), g);
  } catch (err) {
    if (err instanceof UsageError) return usage(g, err.message, cmd.usage);
    throw err;
  }
}

function usage(g: Globals, message: string, usageLine = "sprout [--root DIR] COMMAND [OPTIONS]"): number {
  g.err(`sprout: ${message}\nusage: ${usageLine}\n(\`sprout --help\` lists the commands)\n`);
  return 2;
}

// When nothing is left to do, exit at once: letting Node return normally makes V8 free
// its whole heap first, about 8 ms a boot on a small VM, for memory the kernel frees anyway.
// "beforeExit" comes only once the event loop is empty (no socket, child or timer left), and
// process.exit still runs the "exit" handlers (the code cache is written there).
process.once("beforeExit", () => process.exit());

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    writeConsole(2, `sprout: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\nplease report it with /var/log/sprout.log\n`);
    process.exitCode = 1;
  },
);
