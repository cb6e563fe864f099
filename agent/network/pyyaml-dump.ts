// YAML text as PyYAML's safe dumper writes it with cloud-init's settings (block style,
// indent 4, keys sorted, sequences in a mapping not indented), so a file sprout writes
// where cloud-init writes one (netplan's) is the same byte for byte. Only what network
// configuration holds: mappings, lists, strings, numbers, booleans and null.

/** YAML 1.1's implicit types, as PyYAML's resolver reads a plain scalar: such a string must be quoted to stay a string. */
const IMPLICIT: RegExp[] = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:<<|=)$/,
];

/** Whether PyYAML writes the string plain in block context (its analyze_scalar, for one-line printable text). */
function plainAllowed(s: string): boolean {
  if (s === "" || IMPLICIT.some((r) => r.test(s))) return false;
  if (/^[\s]|[\s]$/.test(s) || /[\n\r\t\x85\u2028\u2029]/.test(s) || /[^\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]/.test(s)) return false;
  if (s.startsWith("---") || s.startsWith("...")) return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s)) return false;
  if (/^[-?:](\s|$)/.test(s)) return false;
  if (/: |:$| #/.test(s)) return false;
  return true;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v).includes(".") || /e/.test(String(v)) ? String(v) : `${v}.0`;
  const s = String(v);
  if (plainAllowed(s)) return s;
  if (/[\n\r\t\x85\u2028\u2029]/.test(s) || /[^\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]/.test(s)) return JSON.stringify(s);
  return `'${s.replace(/'/g, "''")}'`;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isEmpty = (v: unknown) => (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0);

function emit(v: unknown, indent: number, out: string[], first: string | null): void {
  // `first` is what starts the first line ("- " padded) when a value begins inside a list item.
  const pad = " ".repeat(indent);
  if (isMap(v)) {
    Object.keys(v)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .forEach((k, i) => {
        const lead = i === 0 && first !== null ? first : pad;
        const val = v[k];
        if ((isMap(val) || Array.isArray(val)) && !isEmpty(val)) {
          out.push(`${lead}${scalar(k)}:`);
          // A list in a mapping is not indented (PyYAML's indentless sequence).
          emit(val, isMap(val) ? indent + 4 : indent, out, null);
        } else out.push(`${lead}${scalar(k)}: ${Array.isArray(val) ? "[]" : isMap(val) ? "{}" : scalar(val)}`);
      });
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const lead = i === 0 && first !== null ? first : pad;
      if ((isMap(item) || Array.isArray(item)) && !isEmpty(item)) emit(item, indent + 4, out, `${lead}-   `);
      else out.push(`${lead}- ${Array.isArray(item) ? "[]" : isMap(item) ? "{}" : scalar(item)}`);
    });
    return;
  }
  out.push(`${first ?? pad}${scalar(v)}`);
}

/** The document as PyYAML's yaml.dump(doc, indent=4, default_flow_style=False) writes it (no --- or ...). */
export function pyyamlDump(doc: unknown): string {
  const out: string[] = [];
  emit(doc, 0, out, null);
  return `${out.join("\n")}\n`;
}
