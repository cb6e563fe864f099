// `## template: jinja` user-data: the part of Jinja that cloud-config authors
// use — {{ v1.key }}, {{ ds.meta_data.key | default('x') }}, {% if %}/{% elif %}/
// {% else %}, {% for x in list %} / {% for k, v in dict.items() %}, {# comments #},
// `-` whitespace control — rendered against the instance data. As in cloud-init,
// a variable that does not exist renders as CI_MISSING_JINJA_VAR/<name>; sprout
// also reports it. Keys with "-" can be written with "_" (local_hostname).

export const MISSING_PREFIX = "CI_MISSING_JINJA_VAR/";
const HEADER = /^##\s*template:\s*jinja\s*$/i;

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

class Undefined {
  constructor(readonly name: string, readonly path: string) {}
}

type Value = unknown;
interface Scope {
  vars: Record<string, Value>;
  missing: Set<string>;
}

// ---- tokens of the template: text, {{ }}, {% %} ----
type Tok = { kind: "text"; text: string } | { kind: "out" | "stmt"; body: string; line: number };

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\{\{(-?)([\s\S]*?)(-?)\}\}|\{%(-?)([\s\S]*?)(-?)%\}|\{#([\s\S]*?)#\}/g;
  let pos = 0;
  let trimNext = false;
  let afterBlock = false;
  let m: RegExpExecArray | null;
  const pushText = (t: string, trimRight: boolean) => {
    if (trimNext) t = t.replace(/^\s+/, "");
    else if (afterBlock) t = t.replace(/^\r?\n/, ""); // trim_blocks, as cloud-init renders
    if (trimRight) t = t.replace(/\s+$/, "");
    if (t) toks.push({ kind: "text", text: t });
  };
  while ((m = re.exec(src)) !== null) {
    const line = src.slice(0, m.index).split("\n").length;
    pushText(src.slice(pos, m.index), m[1] === "-" || m[4] === "-");
    if (m[2] !== undefined) {
      toks.push({ kind: "out", body: m[2], line });
      trimNext = m[3] === "-";
      afterBlock = false;
    } else if (m[5] !== undefined) {
      toks.push({ kind: "stmt", body: m[5].trim(), line });
      trimNext = m[6] === "-";
      afterBlock = true;
    } else {
      trimNext = false;
      afterBlock = true;
    }
    pos = m.index + m[0].length;
  }
  pushText(src.slice(pos), false);
  return toks;
}

// ---- expressions ----
type ETok = { t: "name" | "str" | "num" | "op"; v: string };

function lexExpr(s: string, line: number): ETok[] {
  const out: ETok[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d+)?)|(==|!=|<=|>=|[<>.|()[\],~+-]))/y;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new TemplateError(`cannot read the expression ${JSON.stringify(s.trim())} at ${JSON.stringify(s.slice(pos).trim().slice(0, 20))}`, line);
    if (m[1] !== undefined) out.push({ t: "name", v: m[1] });
    else if (m[2] !== undefined || m[3] !== undefined) out.push({ t: "str", v: (m[2] ?? m[3]!).replace(/\\(.)/g, "$1") });
    else if (m[4] !== undefined) out.push({ t: "num", v: m[4] });
    else out.push({ t: "op", v: m[5]! });
    pos = re.lastIndex;
  }
  return out;
}

type Expr = (s: Scope) => Value;

function isTruthy(v: Value): boolean {
  if (v instanceof Undefined) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

function getAttr(obj: Value, key: string | number, path: string): Value {
  if (obj instanceof Undefined) return new Undefined(String(key), path);
  if (obj !== null && typeof obj === "object") {
    const o = obj as Record<string, Value>;
    const k = String(key);
    if (Array.isArray(obj) && typeof key === "number") return key < obj.length ? obj[key] : new Undefined(k, path);
    if (k in o) return o[k];
    if (k.replace(/_/g, "-") in o) return o[k.replace(/_/g, "-")];
  }
  return new Undefined(String(key), path);
}

function toText(v: Value, scope: Scope): string {
  if (v instanceof Undefined) {
    scope.missing.add(v.path);
    return MISSING_PREFIX + v.name;
  }
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const FILTERS: Record<string, (v: Value, args: Value[], s: Scope) => Value> = {
  default: (v, a) => (v instanceof Undefined || (a[1] === true && !isTruthy(v)) ? a[0] : v),
  d: (v, a) => FILTERS.default!(v, a, undefined as never),
  lower: (v, _a, s) => toText(v, s).toLowerCase(),
  upper: (v, _a, s) => toText(v, s).toUpperCase(),
  string: (v, _a, s) => toText(v, s),
  trim: (v, _a, s) => toText(v, s).trim(),
  length: (v) => (Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  join: (v, a, s) => (Array.isArray(v) ? v.map((x) => toText(x, s)).join(a[0] === undefined ? "" : String(a[0])) : toText(v, s)),
  first: (v) => (Array.isArray(v) ? v[0] : v),
  int: (v) => (Number.isFinite(Number(v)) ? Math.trunc(Number(v)) : 0),
  replace: (v, a, s) => toText(v, s).split(String(a[0])).join(String(a[1] ?? "")),
};

function parseExpr(src: string, line: number): Expr {
  const toks = lexExpr(src, line);
  let i = 0;
  const peek = (v?: string) => (i < toks.length && (v === undefined || toks[i]!.v === v) ? toks[i] : undefined);
  const isOp = (v: string) => i < toks.length && toks[i]!.t === "op" && toks[i]!.v === v;
  const expect = (v: string) => {
    if (!peek(v)) throw new TemplateError(`expected ${JSON.stringify(v)} in ${JSON.stringify(src.trim())}`, line);
    i++;
  };
  const args = (): Expr[] => {
    const list: Expr[] = [];
    expect("(");
    while (!isOp(")")) {
      list.push(or());
      if (isOp(",")) i++;
      else break;
    }
    expect(")");
    return list;
  };
  const primary = (): { e: Expr; path: string } => {
    const t = toks[i++];
    if (!t) throw new TemplateError(`expression ${JSON.stringify(src.trim())} ends too early`, line);
    if (t.t === "str") return { e: () => t.v, path: "" };
    if (t.t === "num") return { e: () => Number(t.v), path: "" };
    if (t.t === "op" && t.v === "(") {
      const e = or();
      if (!isOp(",")) {
        expect(")");
        return { e, path: "" };
      }
      // A tuple, as in `codename in ('buster', 'stretch')`: a list to Jinja's `in`.
      const items: Expr[] = [e];
      while (isOp(",")) {
        i++;
        if (isOp(")")) break;
        items.push(or());
      }
      expect(")");
      return { e: (s) => items.map((x) => x(s)), path: "" };
    }
    if (t.t === "op" && t.v === "[") {
      const items: Expr[] = [];
      while (!isOp("]")) {
        items.push(or());
        if (isOp(",")) i++;
        else break;
      }
      expect("]");
      return { e: (s) => items.map((x) => x(s)), path: "" };
    }
    if (t.t === "name") {
      const lit: Record<string, Value> = { true: true, True: true, false: false, False: false, none: null, None: null };
      if (t.v in lit) return { e: () => lit[t.v], path: "" };
      return { e: (s) => (t.v in s.vars ? s.vars[t.v] : new Undefined(t.v, t.v)), path: t.v };
    }
    throw new TemplateError(`unexpected ${JSON.stringify(t.v)} in ${JSON.stringify(src.trim())}`, line);
  };
  const postfix = (): Expr => {
    let { e, path } = primary();
    for (;;) {
      if (isOp(".")) {
        i++;
        const name = toks[i++];
        if (!name || name.t !== "name") throw new TemplateError(`expected a name after "." in ${JSON.stringify(src.trim())}`, line);
        if (isOp("(")) {
          const a = args();
          const base = e;
          const method = name.v;
          e = (s) => callMethod(base(s), method, a.map((x) => x(s)), line);
        } else {
          const base = e;
          const p = path ? `${path}.${name.v}` : name.v;
          e = (s) => getAttr(base(s), name.v, p);
          path = p;
        }
      } else if (isOp("[")) {
        i++;
        const key = or();
        expect("]");
        const base = e;
        const p = path;
        e = (s) => {
          const k = key(s);
          return getAttr(base(s), typeof k === "number" ? k : String(k), `${p}[${JSON.stringify(k)}]`);
        };
      } else return e;
    }
  };
  const filtered = (): Expr => {
    let e = postfix();
    while (isOp("|")) {
      i++;
      const name = toks[i++];
      if (!name || name.t !== "name" || !FILTERS[name.v]) throw new TemplateError(`unknown filter ${JSON.stringify(name?.v)} (sprout knows ${Object.keys(FILTERS).join(", ")})`, line);
      const a = isOp("(") ? args() : [];
      const base = e;
      const f = FILTERS[name.v]!;
      e = (s) => f(base(s), a.map((x) => x(s)), s);
    }
    return e;
  };
  const concat = (): Expr => {
    let e = filtered();
    while (isOp("~") || isOp("+")) {
      const op = toks[i++]!.v;
      const a = e;
      const b = filtered();
      e = op === "~" ? (s) => toText(a(s), s) + toText(b(s), s) : (s) => {
        const x = a(s);
        const y = b(s);
        return typeof x === "number" && typeof y === "number" ? x + y : toText(x, s) + toText(y, s);
      };
    }
    return e;
  };
  const comparison = (): Expr => {
    const a = concat();
    const t = peek();
    if (t && t.t === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(t.v)) {
      i++;
      const b = concat();
      return (s) => compare(t.v, a(s), b(s));
    }
    if (t && t.t === "name" && (t.v === "in" || (t.v === "not" && toks[i + 1]?.v === "in"))) {
      const neg = t.v === "not";
      i += neg ? 2 : 1;
      const b = concat();
      return (s) => contains(b(s), a(s)) !== neg;
    }
    if (t && t.t === "name" && t.v === "is") {
      i++;
      const neg = !!peek("not") && (i++, true);
      const test = toks[i++];
      if (!test || !["defined", "undefined", "none", "string", "number"].includes(test.v)) throw new TemplateError(`unknown test "is ${test?.v}" (sprout knows defined, undefined, none, string, number)`, line);
      return (s) => {
        const v = a(s);
        const r = test.v === "defined" ? !(v instanceof Undefined) : test.v === "undefined" ? v instanceof Undefined : test.v === "none" ? v === null : test.v === "string" ? typeof v === "string" : typeof v === "number";
        return r !== neg;
      };
    }
    return a;
  };
  const not = (): Expr => {
    if (peek("not") && toks[i]!.t === "name") {
      i++;
      const e = not();
      return (s) => !isTruthy(e(s));
    }
    return comparison();
  };
  const and = (): Expr => {
    let e = not();
    while (peek("and") && toks[i]!.t === "name") {
      i++;
      const a = e;
      const b = not();
      e = (s) => {
        const x = a(s);
        return isTruthy(x) ? b(s) : x;
      };
    }
    return e;
  };
  function or(): Expr {
    let e = and();
    while (peek("or") && toks[i]!.t === "name") {
      i++;
      const a = e;
      const b = and();
      e = (s) => {
        const x = a(s);
        return isTruthy(x) ? x : b(s);
      };
    }
    return e;
  }
  const e = or();
  if (i < toks.length) throw new TemplateError(`unexpected ${JSON.stringify(toks[i]!.v)} in ${JSON.stringify(src.trim())}`, line);
  return e;
}

function callMethod(obj: Value, method: string, a: Value[], line: number): Value {
  const isObj = obj !== null && typeof obj === "object" && !Array.isArray(obj) && !(obj instanceof Undefined);
  if (method === "items" && isObj) return Object.entries(obj as object);
  if (method === "keys" && isObj) return Object.keys(obj as object);
  if (method === "values" && isObj) return Object.values(obj as object);
  if (method === "get" && isObj) {
    const v = getAttr(obj, String(a[0]), String(a[0]));
    return v instanceof Undefined ? (a[1] ?? null) : v;
  }
  if (typeof obj === "string" && ["lower", "upper", "strip", "split", "startswith", "endswith"].includes(method)) {
    if (method === "lower") return obj.toLowerCase();
    if (method === "upper") return obj.toUpperCase();
    if (method === "strip") return obj.trim();
    if (method === "split") return a[0] === undefined ? obj.trim().split(/\s+/) : obj.split(String(a[0]));
    if (method === "startswith") return obj.startsWith(String(a[0]));
    return obj.endsWith(String(a[0]));
  }
  if (obj instanceof Undefined) return obj;
  throw new TemplateError(`cannot call .${method}() on ${Array.isArray(obj) ? "a list" : typeof obj}`, line);
}

function compare(op: string, a: Value, b: Value): boolean {
  if (a instanceof Undefined) a = undefined;
  if (b instanceof Undefined) b = undefined;
  if (op === "==") return JSON.stringify(a) === JSON.stringify(b);
  if (op === "!=") return JSON.stringify(a) !== JSON.stringify(b);
  const x = a as number;
  const y = b as number;
  return op === "<" ? x < y : op === ">" ? x > y : op === "<=" ? x <= y : x >= y;
}

function contains(container: Value, item: Value): boolean {
  if (typeof container === "string") return container.includes(String(item));
  if (Array.isArray(container)) return container.some((x) => JSON.stringify(x) === JSON.stringify(item));
  if (container && typeof container === "object" && !(container instanceof Undefined)) return String(item) in (container as object);
  return false;
}

// ---- statements ----
type Node =
  | { k: "text"; text: string }
  | { k: "out"; e: Expr }
  | { k: "if"; branches: Array<{ cond: Expr; body: Node[] }>; otherwise: Node[] }
  | { k: "for"; names: string[]; iter: Expr; body: Node[]; otherwise: Node[] }
  | { k: "set"; name: string; e: Expr };

function parse(toks: Tok[]): Node[] {
  let i = 0;
  const block = (ends: string[]): { nodes: Node[]; end: string; line: number } => {
    const nodes: Node[] = [];
    while (i < toks.length) {
      const t = toks[i++]!;
      if (t.kind === "text") nodes.push({ k: "text", text: t.text });
      else if (t.kind === "out") nodes.push({ k: "out", e: parseExpr(t.body, t.line) });
      else {
        const word = /^\w+/.exec(t.body)?.[0] ?? "";
        const rest = t.body.slice(word.length);
        if (ends.includes(word)) return { nodes, end: word, line: t.line };
        if (word === "if") {
          const branches = [{ cond: parseExpr(rest, t.line), body: [] as Node[] }];
          let otherwise: Node[] = [];
          for (;;) {
            const b = block(["elif", "else", "endif"]);
            const cur = toks[i - 1] as { body: string; line: number };
            if (b.end === "elif") {
              branches[branches.length - 1]!.body = b.nodes;
              branches.push({ cond: parseExpr(cur.body.slice(4), cur.line), body: [] });
            } else if (b.end === "else") {
              branches[branches.length - 1]!.body = b.nodes;
              otherwise = block(["endif"]).nodes;
              break;
            } else if (b.end === "endif") {
              branches[branches.length - 1]!.body = b.nodes;
              break;
            } else throw new TemplateError("{% if %} without {% endif %}", t.line);
          }
          nodes.push({ k: "if", branches, otherwise });
        } else if (word === "for") {
          const m = /^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+([\s\S]+)$/.exec(rest);
          if (!m) throw new TemplateError(`cannot read {% for ${rest.trim()} %}: write {% for x in list %}`, t.line);
          const body = block(["else", "endfor"]);
          let otherwise: Node[] = [];
          if (body.end === "else") otherwise = block(["endfor"]).nodes;
          else if (body.end !== "endfor") throw new TemplateError("{% for %} without {% endfor %}", t.line);
          nodes.push({ k: "for", names: m[1]!.split(",").map((n) => n.trim()), iter: parseExpr(m[2]!, t.line), body: body.nodes, otherwise });
        } else if (word === "set") {
          const m = /^\s*([A-Za-z_]\w*)\s*=([\s\S]+)$/.exec(rest);
          if (!m) throw new TemplateError(`cannot read {% set ${rest.trim()} %}: write {% set name = value %}`, t.line);
          nodes.push({ k: "set", name: m[1]!, e: parseExpr(m[2]!, t.line) });
        } else throw new TemplateError(`{% ${word} %} is not supported (sprout renders if, elif, else, for and set)`, t.line);
      }
    }
    if (ends.length > 0) throw new TemplateError(`missing {% ${ends[ends.length - 1]} %}`, toks.length ? ((toks[toks.length - 1] as { line?: number }).line ?? 1) : 1);
    return { nodes, end: "", line: 0 };
  };
  return block([]).nodes;
}

function render(nodes: Node[], scope: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.k === "text") out.push(n.text);
    else if (n.k === "out") out.push(toText(n.e(scope), scope));
    else if (n.k === "set") scope.vars[n.name] = n.e(scope);
    else if (n.k === "if") {
      const hit = n.branches.find((b) => isTruthy(b.cond(scope)));
      render(hit ? hit.body : n.otherwise, scope, out);
    } else {
      const v = n.iter(scope);
      const items: Value[] = Array.isArray(v) ? v : v && typeof v === "object" && !(v instanceof Undefined) ? Object.keys(v) : typeof v === "string" ? [...v] : [];
      if (items.length === 0) render(n.otherwise, scope, out);
      items.forEach((item, idx) => {
        const vars: Record<string, Value> = { ...scope.vars, loop: { index: idx + 1, index0: idx, first: idx === 0, last: idx === items.length - 1, length: items.length } };
        if (n.names.length === 1) vars[n.names[0]!] = item;
        else n.names.forEach((name, j) => (vars[name] = Array.isArray(item) ? item[j] : new Undefined(name, name)));
        render(n.body, { vars, missing: scope.missing }, out);
      });
    }
  }
}

export function hasJinjaHeader(text: string): boolean {
  const nl = text.indexOf("\n");
  return HEADER.test(nl < 0 ? text : text.slice(0, nl).replace(/\r$/, ""));
}

/**
 * Renders a `## template: jinja` document (header line removed) with the
 * instance data. Returns the text and the variables that were missing; throws
 * TemplateError (with a line of the original document) on a syntax error.
 */
export function renderJinja(text: string, data: Record<string, unknown>): { text: string; missing: string[] } {
  const nl = text.indexOf("\n");
  const body = hasJinjaHeader(text) ? (nl < 0 ? "" : text.slice(nl + 1)) : text;
  const offset = hasJinjaHeader(text) ? 1 : 0;
  let nodes: Node[];
  try {
    nodes = parse(lex(body));
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(err.message, err.line + offset);
    throw err;
  }
  const scope: Scope = { vars: { ...data }, missing: new Set() };
  const out: string[] = [];
  render(nodes, scope, out);
  return { text: out.join(""), missing: [...scope.missing] };
}

/** The variables a template sees: the instance data, with v1's keys also at the top level (as cloud-init does). */
export function jinjaVariables(instance: Record<string, unknown>): Record<string, unknown> {
  const v1 = (instance.v1 && typeof instance.v1 === "object" ? instance.v1 : {}) as Record<string, unknown>;
  return { ...v1, ...instance };
}
