// cloud-init's templater for cc_ntp, pure: the first line picks the renderer
// (`## template:jinja`, `## template:basic`, or none = basic on the whole text),
// and the jinja renderer is the part of Jinja2 (trim_blocks on, as cloud-init sets
// it) that ntp templates use: {{ expressions }}, {% if/elif/else %}, {% for %},
// {# comments #}, `-` whitespace control, filters list/join/length/default/lower/
// upper/trim/string/first/last/sort. Anything beyond that is an error naming the
// construct, never a file with a template fragment left in it.

export type TemplateValue = string | number | boolean | null | TemplateValue[];
export type TemplateParams = Record<string, TemplateValue>;

export class TemplateError extends Error {}

const TYPE_LINE = /^##\s*template:(.*)/i;

/** Renders a cloud-init template text (header line included) with `params`. */
export function renderTemplate(text: string, params: TemplateParams): string {
  const nl = text.indexOf("\n");
  const first = nl === -1 ? text : text.slice(0, nl);
  const rest = nl === -1 ? "" : text.slice(nl + 1);
  const m = TYPE_LINE.exec(first);
  if (!m) return renderBasic(text, params);
  const kind = m[1]!.trim().toLowerCase();
  if (kind === "basic") return renderBasic(rest, params);
  if (kind !== "jinja") throw new TemplateError(`the first line asks for template type "${kind}": use "## template:jinja" (or "## template:basic")`);
  // Jinja drops one trailing newline of the source and cloud-init adds it back.
  const body = rest.endsWith("\n") ? rest.slice(0, -1) : rest;
  return renderJinja(body, params) + (rest.endsWith("\n") ? "\n" : "");
}

/** cloud-init's basic renderer: $name and ${name} replaced by the value as Python prints it. */
function renderBasic(text: string, params: TemplateParams): string {
  return text.replace(/\$\{([A-Za-z0-9_.]+)\}|\$([A-Za-z0-9_.]+)/g, (_m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    if (!(name in params)) throw new TemplateError(`the template uses $${name}, but only ${Object.keys(params).map((k) => `$${k}`).join(", ")} are defined`);
    return pyStr(params[name]!);
  });
}

// ---- jinja: lexing --------------------------------------------------------

type Token = { kind: "text"; text: string } | { kind: "out" | "stmt"; code: string; line: number };

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let stripNext = false;
  let trimNewline = false;
  const lineAt = (pos: number) => src.slice(0, pos).split("\n").length;
  while (i <= src.length) {
    const open = src.slice(i).search(/\{[{%#]/);
    let text = open === -1 ? src.slice(i) : src.slice(i, i + open);
    if (trimNewline) text = text.replace(/^\r?\n/, "");
    if (stripNext) text = text.replace(/^\s+/, "");
    if (open === -1) {
      if (text) tokens.push({ kind: "text", text });
      break;
    }
    const start = i + open;
    const kind = src[start + 1]!;
    const close = kind === "{" ? "}}" : kind === "%" ? "%}" : "#}";
    const end = src.indexOf(close, start + 2);
    if (end === -1) throw new TemplateError(`line ${lineAt(start)}: "{${kind}" is never closed with "${close}"`);
    let inner = src.slice(start + 2, end);
    if (inner.startsWith("-")) {
      text = text.replace(/\s+$/, "");
      inner = inner.slice(1);
    }
    if (inner.startsWith("+")) inner = inner.slice(1);
    stripNext = inner.endsWith("-");
    if (stripNext || inner.endsWith("+")) inner = inner.slice(0, -1);
    // trim_blocks: the newline right after a block or comment tag goes (not after {{ }}).
    trimNewline = kind !== "{";
    if (text) tokens.push({ kind: "text", text });
    if (kind === "{") tokens.push({ kind: "out", code: inner.trim(), line: lineAt(start) });
    else if (kind === "%") tokens.push({ kind: "stmt", code: inner.trim(), line: lineAt(start) });
    i = end + 2;
  }
  return tokens;
}

// ---- jinja: expressions ---------------------------------------------------

type Expr =
  | { t: "lit"; v: TemplateValue }
  | { t: "name"; name: string }
  | { t: "list"; items: Expr[] }
  | { t: "attr"; obj: Expr; key: Expr }
  | { t: "filter"; arg: Expr; name: string; args: Expr[] }
  | { t: "bin"; op: string; a: Expr; b: Expr }
  | { t: "not"; a: Expr };

const TOKEN_RE = /\s*(?:(\d+(?:\.\d+)?)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|[-+~|.,()[\]<>*\/%]))/y;

function tokenizeExpr(code: string, line: number): string[] {
  const out: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let pos = 0;
  while (pos < code.length) {
    if (/^\s*$/.test(code.slice(pos))) break;
    TOKEN_RE.lastIndex = pos;
    const m = TOKEN_RE.exec(code);
    if (!m) throw new TemplateError(`line ${line}: cannot read "${code}" (at "${code.slice(pos).trim()}")`);
    out.push(m[0].trim());
    pos = TOKEN_RE.lastIndex;
  }
  return out;
}

const FILTERS = new Set(["list", "join", "length", "count", "default", "d", "lower", "upper", "trim", "string", "first", "last", "sort"]);

class ExprParser {
  private i = 0;
  constructor(private readonly toks: string[], private readonly line: number, private readonly code: string) {}
  fail(msg: string): never {
    throw new TemplateError(`line ${this.line}: ${msg} in "${this.code}"`);
  }
  peek(): string | undefined {
    return this.toks[this.i];
  }
  take(expected?: string): string {
    const t = this.toks[this.i];
    if (t === undefined || (expected !== undefined && t !== expected)) this.fail(expected ? `expected "${expected}"` : "unexpected end");
    this.i += 1;
    return t;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  parse(): Expr {
    const e = this.or();
    if (!this.done()) this.fail(`unexpected "${this.peek()}"`);
    return e;
  }
  /** `next (op next)*`, grouped to the left. */
  leftAssoc(ops: string[], next: () => Expr): Expr {
    let a = next();
    while (ops.includes(this.peek() ?? "")) {
      const op = this.take();
      a = { t: "bin", op, a, b: next() };
    }
    return a;
  }
  or(): Expr {
    return this.leftAssoc(["or"], () => this.and());
  }
  and(): Expr {
    return this.leftAssoc(["and"], () => this.not());
  }
  not(): Expr {
    if (this.peek() === "not") {
      this.take();
      return { t: "not", a: this.not() };
    }
    return this.compare();
  }
  compare(): Expr {
    const a = this.add();
    const op = this.peek();
    if (op === "==" || op === "!=" || op === "in") {
      this.take();
      return { t: "bin", op, a, b: this.add() };
    }
    if (op === "not" && this.toks[this.i + 1] === "in") {
      this.i += 2;
      return { t: "not", a: { t: "bin", op: "in", a, b: this.add() } };
    }
    if (op && ["<", ">", "<=", ">=", "is"].includes(op)) this.fail(`the operator "${op}" is not supported by sprout's ntp templates`);
    return a;
  }
  add(): Expr {
    const a = this.leftAssoc(["+", "~"], () => this.filtered());
    if (this.peek() && ["-", "*", "/", "%"].includes(this.peek()!)) this.fail(`the operator "${this.peek()}" is not supported by sprout's ntp templates`);
    return a;
  }
  filtered(): Expr {
    let e = this.primary();
    while (this.peek() === "|") {
      this.take();
      const name = this.take();
      if (!FILTERS.has(name)) this.fail(`the filter "${name}" is not supported by sprout's ntp templates (supported: ${[...FILTERS].join(", ")})`);
      const args: Expr[] = [];
      if (this.peek() === "(") {
        this.take();
        while (this.peek() !== ")") {
          args.push(this.or());
          if (this.peek() === ",") this.take();
          else if (this.peek() !== ")") this.fail(`expected "," or ")"`);
        }
        this.take(")");
      }
      e = { t: "filter", arg: e, name, args };
    }
    return e;
  }
  primary(): Expr {
    const t = this.take();
    let e: Expr;
    if (t === "(") {
      e = this.or();
      this.take(")");
    } else if (t === "[") {
      const items: Expr[] = [];
      while (this.peek() !== "]") {
        items.push(this.or());
        if (this.peek() === ",") this.take();
        else if (this.peek() !== "]") this.fail(`expected "," or "]"`);
      }
      this.take("]");
      e = { t: "list", items };
    } else if (/^\d/.test(t)) e = { t: "lit", v: Number(t) };
    else if (t === "-" && /^\d/.test(this.peek() ?? "")) e = { t: "lit", v: -Number(this.take()) };
    else if (t.startsWith('"') || t.startsWith("'")) e = { t: "lit", v: t.slice(1, -1).replace(/\\(.)/g, "$1") };
    else if (t === "true" || t === "True") e = { t: "lit", v: true };
    else if (t === "false" || t === "False") e = { t: "lit", v: false };
    else if (t === "none" || t === "None") e = { t: "lit", v: null };
    else if (/^[A-Za-z_]/.test(t)) e = { t: "name", name: t };
    else this.fail(`unexpected "${t}"`);
    for (;;) {
      if (this.peek() === ".") {
        this.take();
        e = { t: "attr", obj: e, key: { t: "lit", v: this.take() } };
      } else if (this.peek() === "[") {
        this.take();
        const key = this.or();
        this.take("]");
        e = { t: "attr", obj: e, key };
      } else return e;
    }
  }
}

function parseExpr(code: string, line: number): Expr {
  if (!code) throw new TemplateError(`line ${line}: an empty expression`);
  return new ExprParser(tokenizeExpr(code, line), line, code).parse();
}

function truthy(v: TemplateValue): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

/** The value as Python's str() prints it (cloud-init renders with Python). */
function pyStr(v: TemplateValue): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return String(v);
}
function pyRepr(v: TemplateValue): string {
  if (typeof v === "string") return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return pyStr(v);
}

function evaluate(e: Expr, scope: TemplateParams, line: number): TemplateValue {
  const fail = (msg: string): never => {
    throw new TemplateError(`line ${line}: ${msg}`);
  };
  switch (e.t) {
    case "lit":
      return e.v;
    case "list":
      return e.items.map((x) => evaluate(x, scope, line));
    case "name":
      if (!(e.name in scope)) fail(`the template uses "${e.name}", but only ${Object.keys(scope).join(", ")} are defined`);
      return scope[e.name]!;
    case "attr": {
      const obj = evaluate(e.obj, scope, line);
      const key = evaluate(e.key, scope, line);
      if (Array.isArray(obj) && typeof key === "number" && Number.isInteger(key)) {
        const v = obj[key < 0 ? obj.length + key : key];
        if (v === undefined) fail(`index ${key} is past the end of a list of ${obj.length}`);
        return v!;
      }
      return fail(`cannot take "${pyStr(key)}" of ${pyRepr(obj)}`);
    }
    case "not":
      return !truthy(evaluate(e.a, scope, line));
    case "bin": {
      if (e.op === "and") {
        const a = evaluate(e.a, scope, line);
        return truthy(a) ? evaluate(e.b, scope, line) : a;
      }
      if (e.op === "or") {
        const a = evaluate(e.a, scope, line);
        return truthy(a) ? a : evaluate(e.b, scope, line);
      }
      const a = evaluate(e.a, scope, line);
      const b = evaluate(e.b, scope, line);
      if (e.op === "~") return pyStr(a) + pyStr(b);
      if (e.op === "==") return JSON.stringify(a) === JSON.stringify(b);
      if (e.op === "!=") return JSON.stringify(a) !== JSON.stringify(b);
      if (e.op === "in") {
        if (Array.isArray(b)) return b.some((x) => JSON.stringify(x) === JSON.stringify(a));
        if (typeof b === "string" && typeof a === "string") return b.includes(a);
        return fail(`"in" needs a list or a string on its right, not ${pyRepr(b)}`);
      }
      // "+"
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      if (typeof a === "string" && typeof b === "string") return a + b;
      if (typeof a === "number" && typeof b === "number") return a + b;
      return fail(`cannot add ${pyRepr(a)} and ${pyRepr(b)}`);
    }
    case "filter": {
      const v = evaluate(e.arg, scope, line);
      const args = e.args.map((x) => evaluate(x, scope, line));
      const list = (): TemplateValue[] => (Array.isArray(v) ? v : typeof v === "string" ? [...v] : fail(`the filter "${e.name}" needs a list or a string, not ${pyRepr(v)}`));
      switch (e.name) {
        case "list":
          return [...list()];
        case "join":
          return list().map(pyStr).join(args[0] === undefined ? "" : pyStr(args[0]));
        case "length":
        case "count":
          return list().length;
        case "default":
        case "d":
          return v === null ? (args[0] ?? "") : v;
        case "lower":
          return pyStr(v).toLowerCase();
        case "upper":
          return pyStr(v).toUpperCase();
        case "trim":
          return pyStr(v).trim();
        case "string":
          return pyStr(v);
        case "first":
          return list()[0] ?? null;
        case "last":
          return list().at(-1) ?? null;
        default:
          return [...list()].sort((x, y) => (pyStr(x) < pyStr(y) ? -1 : pyStr(x) > pyStr(y) ? 1 : 0));
      }
    }
  }
}

// ---- jinja: statements ----------------------------------------------------

type Node = { n: "text"; text: string } | { n: "out"; e: Expr; line: number } | { n: "if"; branches: Array<{ cond: Expr | null; body: Node[] }>; line: number } | { n: "for"; names: string[]; iter: Expr; body: Node[]; orelse: Node[]; line: number };

function parseNodes(tokens: Token[]): Node[] {
  let i = 0;
  // Reads nodes until one of `until` statements; returns the nodes and the statement that ended them.
  const block = (until: string[], opener: string | null, openLine: number): { nodes: Node[]; end: string; line: number } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.kind === "text") nodes.push({ n: "text", text: t.text });
      else if (t.kind === "out") nodes.push({ n: "out", e: parseExpr(t.code, t.line), line: t.line });
      else {
        const word = /^[a-z]+/.exec(t.code)?.[0] ?? "";
        const rest = t.code.slice(word.length).trim();
        if (until.includes(word)) return { nodes, end: t.code, line: t.line };
        if (word === "if") {
          const branches: Array<{ cond: Expr | null; body: Node[] }> = [];
          let cond: Expr | null = parseExpr(rest, t.line);
          for (;;) {
            const r = block(["elif", "else", "endif"], "if", t.line);
            branches.push({ cond, body: r.nodes });
            const w = /^[a-z]+/.exec(r.end)![0];
            if (w === "endif") break;
            if (cond === null) throw new TemplateError(`line ${r.line}: "${w}" after "else" in the "if" of line ${t.line}`);
            cond = w === "elif" ? parseExpr(r.end.slice(4).trim(), r.line) : null;
          }
          nodes.push({ n: "if", branches, line: t.line });
        } else if (word === "for") {
          const m = /^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+(.+)$/s.exec(rest);
          if (!m) throw new TemplateError(`line ${t.line}: "for ${rest}" is not "for NAME in LIST"`);
          const r = block(["else", "endfor"], "for", t.line);
          let orelse: Node[] = [];
          if (r.end.startsWith("else")) orelse = block(["endfor"], "for", t.line).nodes;
          nodes.push({ n: "for", names: m[1]!.split(",").map((s) => s.trim()), iter: parseExpr(m[2]!.trim(), t.line), body: r.nodes, orelse, line: t.line });
        } else if (["endif", "endfor", "elif", "else"].includes(word)) {
          throw new TemplateError(`line ${t.line}: "${t.code}" without its opening statement`);
        } else {
          throw new TemplateError(`line ${t.line}: the statement "{% ${t.code} %}" is not supported by sprout's ntp templates (supported: if/elif/else/endif, for/else/endfor)`);
        }
      }
    }
    if (opener) throw new TemplateError(`line ${openLine}: the "${opener}" is never closed (no ${until.at(-1)})`);
    return { nodes, end: "", line: 0 };
  };
  return block([], null, 0).nodes;
}

function run(nodes: Node[], scope: TemplateParams, out: string[]): void {
  for (const node of nodes) {
    if (node.n === "text") out.push(node.text);
    else if (node.n === "out") out.push(pyStr(evaluate(node.e, scope, node.line)));
    else if (node.n === "if") {
      const hit = node.branches.find((b) => b.cond === null || truthy(evaluate(b.cond, scope, node.line)));
      if (hit) run(hit.body, scope, out);
    } else {
      const v = evaluate(node.iter, scope, node.line);
      const items = Array.isArray(v) ? v : typeof v === "string" ? [...v] : null;
      if (!items) throw new TemplateError(`line ${node.line}: "for" needs a list, not ${pyRepr(v)}`);
      if (items.length === 0) run(node.orelse, scope, out);
      for (const item of items) {
        const inner: TemplateParams = { ...scope };
        if (node.names.length === 1) inner[node.names[0]!] = item;
        else {
          if (!Array.isArray(item) || item.length !== node.names.length) throw new TemplateError(`line ${node.line}: cannot unpack ${pyRepr(item)} into ${node.names.join(", ")}`);
          node.names.forEach((n, k) => (inner[n] = item[k]!));
        }
        run(node.body, inner, out);
      }
    }
  }
}

function renderJinja(src: string, params: TemplateParams): string {
  const out: string[] = [];
  run(parseNodes(lex(src)), params, out);
  return out.join("");
}
