// The kernel command line, parsed the way the kernel splits it: words separated
// by spaces, double quotes group a word (GRUB passes `"ds=nocloud;s=..."` or an
// escaped `\;` through as a quoted word), `key=value` or a bare flag.

export interface CmdlineArg {
  key: string;
  value: string | null;
}

export interface Cmdline {
  args: CmdlineArg[];
  /** Problems a person should hear about, e.g. an unterminated quote. */
  warnings: string[];
}

export function parseCmdline(text: string): Cmdline {
  const args: CmdlineArg[] = [];
  const warnings: string[] = [];
  let i = 0;
  const s = text.replace(/\0/g, " ");
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let word = "";
    let quoted = false;
    let unterminated = false;
    while (i < s.length && (quoted || !/\s/.test(s[i]!))) {
      const c = s[i]!;
      if (c === '"') {
        quoted = !quoted;
      } else word += c;
      i++;
    }
    if (quoted) unterminated = true;
    if (unterminated) warnings.push(`kernel command line: unterminated quote in ${JSON.stringify(word.slice(0, 60))}; read to the end of the line`);
    if (word === "--") break; // the rest goes to init, not to the kernel or us
    const eq = word.indexOf("=");
    args.push(eq < 0 ? { key: word, value: null } : { key: word.slice(0, eq), value: word.slice(eq + 1) });
  }
  return { args, warnings };
}

/** The last value of `key` (the kernel lets later arguments win). */
export function cmdlineValue(c: Cmdline, key: string): string | null {
  for (let i = c.args.length - 1; i >= 0; i--) if (c.args[i]!.key === key) return c.args[i]!.value ?? "";
  return null;
}

export function cmdlineValues(c: Cmdline, key: string): string[] {
  return c.args.filter((a) => a.key === key).map((a) => a.value ?? "");
}
