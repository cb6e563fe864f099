// The three texts the locale module reads and edits, as pure functions:
// /usr/share/i18n/SUPPORTED (which locales Debian's `locales` package can build),
// /etc/locale.gen (which ones locale-gen builds) and /etc/default/locale (LANG=).

/** Locales glibc has built in: nothing to generate (cloud-init's list, plus the C.utf8 spelling). */
export function isBuiltinLocale(name: string): boolean {
  return ["c", "c.utf-8", "c.utf8", "posix"].includes(name.toLowerCase());
}

/** A name like en_US.UTF-8 or sr_RS@latin: letters, digits, _ . - @ only (it goes into two config files). */
export function isLocaleName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)?(@[A-Za-z0-9_]+)?$/.test(name);
}

interface LocaleParts {
  base: string;
  codeset: string | null;
  modifier: string | null;
}

function parts(name: string): LocaleParts {
  const m = /^([^.@]*)(?:\.([^@]*))?(?:@(.*))?$/.exec(name)!;
  // glibc compares codesets lower-cased with only letters and digits ("UTF-8" is "utf8").
  return { base: m[1]!, codeset: m[2] === undefined ? null : m[2].toLowerCase().replace(/[^a-z0-9]/g, ""), modifier: m[3] ?? null };
}

/** The same locale to glibc: en_US.UTF-8 and en_US.utf8 are one. */
export function sameLocale(a: string, b: string): boolean {
  const x = parts(a);
  const y = parts(b);
  return x.base === y.base && x.codeset === y.codeset && x.modifier === y.modifier;
}

/** An entry of SUPPORTED and of /etc/locale.gen: the locale's name and its charset. */
export interface LocaleEntry {
  name: string;
  charset: string;
}

function entries(supported: string): LocaleEntry[] {
  const out: LocaleEntry[] = [];
  for (const line of supported.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length === 2 && !f[0]!.startsWith("#")) out.push({ name: f[0]!, charset: f[1]! });
  }
  return out;
}

/** The SUPPORTED entry that builds `locale`: the same name, or the same name with the codeset spelt differently (en_US.utf8). */
export function findSupported(supported: string, locale: string): LocaleEntry | null {
  const all = entries(supported);
  return all.find((e) => e.name === locale) ?? all.find((e) => sameLocale(e.name, locale)) ?? null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Up to three SUPPORTED names closest to a misspelt one, for an error message. "UK"
 * is not a territory code (Great Britain is GB), a slip common enough to name first.
 */
export function similarLocales(supported: string, locale: string): string[] {
  const all = entries(supported).map((e) => e.name);
  const want = locale.toLowerCase();
  const british = locale.replace(/_UK(?=[.@]|$)/i, "_GB");
  const first = british !== locale ? all.filter((n) => sameLocale(n.toLowerCase(), british.toLowerCase())) : [];
  const ranked = all
    .map((n) => ({ n, d: editDistance(n.toLowerCase(), want) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(want.length / 4)))
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
    .map((x) => x.n);
  return [...new Set([...first, ...ranked])].slice(0, 3);
}

/** /etc/locale.gen with `entry` enabled: its commented line uncommented, or a line added. */
export function enableInLocaleGen(localeGen: string | null, entry: LocaleEntry): { text: string; changed: boolean } {
  const text = localeGen ?? "";
  const lines = text.split("\n");
  const matches = (line: string, commented: boolean) => {
    const t = line.trim();
    if (commented !== t.startsWith("#")) return false;
    const f = t.replace(/^#+\s{0,}/, "").split(/\s+/);
    return f.length === 2 && f[0] === entry.name && f[1] === entry.charset;
  };
  if (lines.some((l) => matches(l, false))) return { text, changed: false };
  const i = lines.findIndex((l) => matches(l, true));
  if (i >= 0) {
    lines[i] = `${entry.name} ${entry.charset}`;
    return { text: lines.join("\n"), changed: true };
  }
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  return { text: `${text}${sep}${entry.name} ${entry.charset}\n`, changed: true };
}

/** The value of `key` in a shell-style file like /etc/default/locale, or null. */
export function readLocaleVar(content: string | null, key: string): string | null {
  let value: string | null = null;
  for (const line of (content ?? "").split("\n")) {
    const m = new RegExp(`^\\s*(?:export\\s+)?${key}=(.*)$`).exec(line);
    if (m) value = m[1]!.trim().replace(/^(["'])(.*)\1$/, "$2");
  }
  return value;
}

/**
 * The file as Debian's update-locale writes it when asked for KEY=VALUE: every
 * assignment is kept, the first line for KEY (commented or not) carries the new
 * value, a missing KEY is appended; a new file starts with update-locale's header.
 * LANGUAGE that does not fit the new language is commented out, as update-locale does.
 */
export function setLocaleVar(content: string | null, key: string, value: string): string {
  if (content === null) return `#  File generated by update-locale\n${key}=${value}\n`;
  const values = new Map<string, string>();
  for (const line of content.split("\n")) {
    const m = /^(\w+)=(.*)/.exec(line);
    if (m) values.set(m[1]!, m[2]!);
  }
  values.set(key, value);
  let out = content.replace(/^(\s*\w+=)/gm, "#$1");
  if (!out.endsWith("\n")) out += "\n";
  for (const [k, v] of values) {
    const re = new RegExp(`^#\\s*${k}=.*`, "m");
    out = re.test(out) ? out.replace(re, () => `${k}=${v}`) : `${out}${k}=${v}\n`;
  }
  const language = values.get("LANGUAGE");
  if (language !== undefined && key === "LANG") {
    const lang = language.replace(/["']/g, "").replace(/[.:_].{0,}/, "");
    const messages = (values.get("LC_ALL") ?? values.get("LC_MESSAGES") ?? value).replace(/["']/g, "");
    if (!messages.startsWith(lang) && !["C", "POSIX"].includes(messages) && !["C", "POSIX"].includes(lang)) out = out.replace(/^(\s*LANGUAGE=)/gm, "#$1");
  }
  return out;
}
