// Writes sprout's man pages and bash completion from the bundle's own `--help`,
// so they never drift from the program: one page per command (sprout-boot(1), ...)
// and sprout(1) listing them. No pandoc: the help text is plain and regular
// (usage line, summary, optional details, "options:" list), and man(7) needs little.
// Usage: node packaging/gen-manpages.mjs BUNDLE OUTDIR   -> OUTDIR/man/*.1, OUTDIR/completion/sprout
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [bundle, outDir] = process.argv.slice(2);
if (!bundle || !outDir) {
  process.stderr.write("usage: node packaging/gen-manpages.mjs BUNDLE OUTDIR\n");
  process.exit(2);
}
const help = (...args) => execFileSync(process.execPath, [bundle, ...args, "--help"], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off" } });
const version = execFileSync(process.execPath, [bundle, "--version"], { encoding: "utf8", env: { ...process.env, SPROUT_CODE_CACHE_DIR: "off" } }).trim().replace(/^sprout /, "");

/** Escapes text for roff: backslashes, leading dots/quotes, hyphens in option names. */
const roff = (t) => t.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1");

/** Splits `sprout --help` / `sprout CMD --help` into its parts. */
function parseHelp(text) {
  const lines = text.split("\n");
  const usage = lines[0].replace(/^usage:\s*/, "");
  const sections = {};
  let current = "description";
  for (const line of lines.slice(1)) {
    const head = /^([a-z][a-z ]*):$/.exec(line);
    if (head) {
      current = head[1];
      continue;
    }
    (sections[current] ??= []).push(line);
  }
  for (const k of Object.keys(sections)) sections[k] = sections[k].join("\n").trim();
  return { usage, sections };
}

/** "  -w, --wait      text" lines -> [[term, text]]. */
function optionItems(block) {
  return (block ?? "").split("\n").filter((l) => l.trim()).map((l) => {
    const m = /^\s*(\S.*?)\s{2,}(\S.*)$/.exec(l);
    return m ? [m[1], m[2]] : [l.trim(), ""];
  });
}

function page(name, summary, { usage, sections }, extra = "") {
  const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000 || Date.now()).toISOString().slice(0, 10);
  const out = [`.TH ${name.toUpperCase()} 1 "${date}" "sprout ${version}" "sprout manual"`, ".SH NAME", `${roff(name)} \\- ${roff(summary)}`, ".SH SYNOPSIS", ".nf", roff(usage), ".fi"];
  if (sections.description) out.push(".SH DESCRIPTION", ...sections.description.split(/\n\n+/).flatMap((p) => [".PP", roff(p.replace(/\n/g, " "))]));
  for (const [title, body] of Object.entries(sections)) {
    if (title === "description") continue;
    if (/options$/.test(title)) {
      out.push(`.SH ${roff(title.toUpperCase())}`);
      for (const [term, text] of optionItems(body)) out.push(".TP", `.B ${roff(term)}`, roff(text));
    } else if (title === "commands") {
      out.push(".SH COMMANDS");
      for (const [term, text] of optionItems(body)) out.push(".TP", `.BR sprout\\-${roff(term)} (1)`, roff(text));
    } else out.push(`.SH ${roff(title.toUpperCase())}`, ".nf", roff(body), ".fi");
  }
  out.push(extra);
  return out.filter((l) => l !== "").join("\n") + "\n";
}

mkdirSync(join(outDir, "man"), { recursive: true });
mkdirSync(join(outDir, "completion"), { recursive: true });
const main = parseHelp(help());
const commands = optionItems(main.sections.commands).map(([name, summary]) => ({ name, summary }));
const files = `.SH FILES
.TP
.I /etc/sprout/config.yaml\\fR, \\fI/etc/sprout/config.d/*.yaml
system configuration (later files win)
.TP
.I /run/sprout/status.json
how the current boot is going; read by \\fBsprout status\\fR
.TP
.I /var/log/sprout.log
sprout's own log (JSON lines)
.TP
.I /var/log/user_data.log
output of every user script
.TP
.I /etc/sprout/sprout\\-disabled
when it exists, sprout does not run at boot (as does \\fBsprout=disabled\\fR on the kernel command line)
.SH SEE ALSO
${commands.map((c) => `.BR sprout\\-${roff(c.name)} (1)`).join(",\n")}`;
writeFileSync(join(outDir, "man", "sprout.1"), page("sprout", "first-boot agent for cloud images and preseeded servers", main, files));
const completion = {};
for (const c of commands) {
  const parsed = parseHelp(help(c.name));
  writeFileSync(join(outDir, "man", `sprout-${c.name}.1`), page(`sprout-${c.name}`, c.summary, parsed, `.SH SEE ALSO\n.BR sprout (1)`));
  completion[c.name] = optionItems(parsed.sections.options).flatMap(([term]) => term.split(/,\s*/).map((t) => t.split(/\s/)[0]));
}

const cases = Object.entries(completion).map(([c, opts]) => `        ${c}) opts="${opts.concat("--help").join(" ")}" ;;`).join("\n");
writeFileSync(
  join(outDir, "completion", "sprout"),
  `# bash completion for sprout (generated from \`sprout --help\` by packaging/gen-manpages.mjs)
_sprout() {
    local cur cmd i opts
    cur=\${COMP_WORDS[COMP_CWORD]}
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case \${COMP_WORDS[i]} in
        --root) ((i++)) ;;
        -*) ;;
        *) cmd=\${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ \${COMP_WORDS[COMP_CWORD-1]} == --root ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} --root --version --help" -- "$cur"))
        return
    fi
    case $cmd in
${cases}
        *) opts="--help" ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _sprout sprout
`,
);
process.stdout.write(`${outDir}: ${commands.length + 1} man pages, bash completion\n`);
