// cloud-init's templater (cloudinit/templater.py), for the configuration files
// modules write from templates (ntp, apt's sources.list): the first line picks
// the renderer — `## template:jinja`, `## template:basic`, or none = basic on the
// whole text. The basic renderer replaces $name and ${name}; jinja goes to
// agent/jinja.ts, which is loaded only when a jinja template is rendered (boot
// pays nothing for it otherwise). This file stays small for the same reason:
// agent/userdata imports hasJinjaHeader and TemplateError from here at boot.
import type { JinjaOptions } from "./jinja";

/** A template that cannot be rendered; `line` is the line of the text given (1 = its first). */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const TYPE_LINE = /^##\s*template:(.*)/i;

/** The template type its first line names ("jinja", "basic", ...), lower case, or null when there is no such line. */
export function templateType(text: string): string | null {
  const nl = text.indexOf("\n");
  const m = TYPE_LINE.exec(nl === -1 ? text : text.slice(0, nl));
  return m ? m[1]!.trim().toLowerCase() : null;
}

/** Whether the text starts with a `## template: jinja` line. */
export function hasJinjaHeader(text: string): boolean {
  return templateType(text) === "jinja";
}

/** The text after the first (header) line. */
export function afterHeader(text: string): string {
  const nl = text.indexOf("\n");
  return nl === -1 ? "" : text.slice(nl + 1);
}

/** The value as Python's str() prints it (cloud-init renders with Python). */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return String(v);
}

/** The value as Python's repr() prints it: strings quoted as Python quotes them. */
export function pyRepr(v: unknown): string {
  if (typeof v !== "string") return pyStr(v);
  const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
  const escaped = v.replace(/[\\'"\x00-\x1f\x7f]/g, (c) => {
    if (c === "\\") return "\\\\";
    if (c === "'" || c === '"') return c === quote ? `\\${c}` : c;
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  return quote + escaped + quote;
}

/** cloud-init's basic renderer: $name and ${name} replaced by the value as Python prints it; an unknown name is an error. */
export function renderBasic(text: string, params: Record<string, unknown>): string {
  return text.replace(/\$\{([A-Za-z0-9_.]+)\}|\$([A-Za-z0-9_.]+)/g, (_m, a: string | undefined, b: string | undefined, at: number) => {
    const name = (a ?? b)!;
    if (!Object.hasOwn(params, name)) {
      const line = text.slice(0, at).split("\n").length;
      throw new TemplateError(`line ${line}: the template uses $${name}, but only ${Object.keys(params).map((k) => `$${k}`).join(", ")} are defined`, line);
    }
    return pyStr(params[name]);
  });
}

/**
 * Renders a cloud-init template text (header line included) with `params`, as
 * cloud-init's templater does. A TemplateError's message starts with
 * "line N:", N counted from the first line after the header.
 */
export async function renderTemplate(text: string, params: Record<string, unknown>, options: JinjaOptions = {}): Promise<string> {
  const kind = templateType(text);
  if (kind === null) return renderBasic(text, params);
  if (kind === "basic") return renderBasic(afterHeader(text), params);
  if (kind !== "jinja") throw new TemplateError(`the first line asks for template type "${kind}": use "## template:jinja" (or "## template:basic")`, 1);
  const { renderJinjaBody } = await import("./jinja");
  try {
    return renderJinjaBody(afterHeader(text), params, options).text;
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`line ${err.line}: ${err.message}`, err.line);
    throw err;
  }
}
