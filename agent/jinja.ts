// sprout's Jinja: the part of Jinja2 that cloud-init users write, rendered the way
// cloud-init renders it (trim_blocks on, newlines made "\n", one trailing newline
// of the source dropped by Jinja and put back by cloud-init). Used for
// `## template: jinja` user-data (agent/userdata) and for configuration templates
// (agent/templater.ts: ntp, apt). It knows {{ expressions }} with filters,
// {% if/elif/else %}, {% for x in list %} / {% for k, v in d.items() %} with
// {% else %}, {% set %}, {# comments #} and `-`/`+` whitespace control; anything
// else is a TemplateError naming it, never a file with a template fragment left in
// it. A variable that does not exist renders as CI_MISSING_JINJA_VAR/<name> and is
// reported, as in cloud-init (or is an error, for callers that pass a fixed set of
// variables). Keys with "-" can be written with "_" (local_hostname). Load it with
// `await import()`: boot does not pay for it unless a template is rendered.
import { afterHeader, hasJinjaHeader, pyRepr, pyStr, TemplateError } from "./templater";

export { hasJinjaHeader, TemplateError };

export const MISSING_PREFIX = "CI_MISSING_JINJA_VAR/";

export interface JinjaOptions {
  /**
   * A variable that is not in the data: "missing" (default) renders
   * CI_MISSING_JINJA_VAR/<name> and reports it in `missing`, as cloud-init does;
   * "error" makes using it a TemplateError naming it (`is defined` and
   * `default` still work).
   */
  undefinedVariables?: "missing" | "error";
  /** Jinja2's trim_blocks: the newline right after a block or comment tag goes. cloud-init sets it; default true. */
  trimBlocks?: boolean;
  /** Whether {% set %} is rendered (default true); false makes it an unsupported statement. */
  set?: boolean;
}

class Undefined {
  constructor(
    readonly name: string,
    readonly path: string,
  ) {}
}

/** An error while evaluating; render() gives it the line of its tag. */
class EvalError extends Error {}

type Value = unknown;
interface Scope {
  vars: Record<string, Value>;
  missing: Set<string>;
  strict: boolean;
  /** The variables the caller passed, for the message about one that is not there. */
  known: string[];
}

// ---- tokens of the template: text, {{ }}, {% %} ----
type Tok = { kind: "text"; text: string } | { kind: "out" | "stmt"; body: string; line: number };

function lex(src: string, trimBlocks: boolean): Tok[] {
  const toks: Tok[] = [];
  const open = /\{[{%#]/g;
  let i = 0;
  let stripNext = false;
  let trimNewline = false;
  let line = 1;
  let counted = 0;
  const lineAt = (pos: number): number => {
    for (; counted < pos; counted++) if (src.charCodeAt(counted) === 10) line++;
    return line;
  };
  for (;;) {
    open.lastIndex = i;
    const m = open.exec(src);
    let text = m ? src.slice(i, m.index) : src.slice(i);
    if (stripNext) text = text.trimStart();
    else if (trimNewline) text = text.replace(/^\n/, "");
    if (!m) {
      if (text) toks.push({ kind: "text", text });
      return toks;
    }
    const start = m.index;
    const kind = src[start + 1]!;
    const close = kind === "{" ? "}}" : kind === "%" ? "%}" : "#}";
    const end = src.indexOf(close, start + 2);
    if (end === -1) throw new TemplateError(`"{${kind}" is never closed with "${close}"`, lineAt(start));
    let inner = src.slice(start + 2, end);
    if (inner.startsWith("-")) {
      text = text.trimEnd(); // not /\s+$/, which backtracks over a long run of spaces
      inner = inner.slice(1);
    } else if (kind !== "{" && inner.startsWith("+")) inner = inner.slice(1); // lstrip_blocks is off anyway
    let keepNewline = false;
    stripNext = inner.endsWith("-");
    if (stripNext) inner = inner.slice(0, -1);
    else if (kind !== "{" && inner.endsWith("+")) {
      keepNewline = true; // `+%}` turns trim_blocks off for this tag
      inner = inner.slice(0, -1);
    }
    trimNewline = trimBlocks && kind !== "{" && !keepNewline;
    if (text) toks.push({ kind: "text", text });
    if (kind !== "#") toks.push({ kind: kind === "{" ? "out" : "stmt", body: inner.trim(), line: lineAt(start) });
    i = end + 2;
  }
}

// ---- expressions ----
type ETok = { t: "name" | "str" | "num" | "op"; v: string };

function lexExpr(s: string, line: number): ETok[] {
  const out: ETok[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d+)?)|(==|!=|<=|>=|\*\*|\/\/|[<>.|()[\],~+\-*\/%]))/y;
  const end = s.trimEnd().length;
  let pos = 0;
  while (pos < end) {
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

const isMapping = (v: Value): v is Record<string, Value> => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Undefined);

/** The value, or (when undefined variables are errors) the error naming the one that is not there. */
function defined(v: Value, s: Scope): Value {
  if (!(v instanceof Undefined) || !s.strict) return v;
  if (v.path === v.name) throw new EvalError(s.known.length ? `the template uses "${v.name}", but only ${s.known.join(", ")} are defined` : `the template uses "${v.name}", but no variables are defined`);
  throw new EvalError(`the template uses "${v.path}", which is not there`);
}

function isTruthy(v: Value, s: Scope): boolean {
  v = defined(v, s);
  if (v instanceof Undefined) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

function getAttr(obj: Value, key: string | number, path: string, s: Scope): Value {
  obj = defined(obj, s);
  if (obj instanceof Undefined) return new Undefined(String(key), path);
  if ((Array.isArray(obj) || typeof obj === "string") && typeof key === "number" && Number.isInteger(key)) {
    const at = key < 0 ? obj.length + key : key;
    return at >= 0 && at < obj.length ? obj[at] : new Undefined(String(key), path);
  }
  if (isMapping(obj)) {
    const k = String(key);
    if (Object.hasOwn(obj, k)) return obj[k];
    if (Object.hasOwn(obj, k.replace(/_/g, "-"))) return obj[k.replace(/_/g, "-")];
  }
  return new Undefined(String(key), path);
}

function toText(v: Value, s: Scope): string {
  v = defined(v, s);
  if (v instanceof Undefined) {
    s.missing.add(v.path);
    return MISSING_PREFIX + v.name;
  }
  return pyStr(v);
}

/** What a filter that takes a sequence walks: a list, a string's characters, a mapping's keys. */
function items(v: Value, what: string): Value[] {
  if (v instanceof Undefined) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (isMapping(v)) return Object.keys(v);
  throw new EvalError(`${what} needs a list, a mapping or a string, not ${pyRepr(v)}`);
}

const FILTERS: Record<string, (v: Value, args: Value[], s: Scope) => Value> = {
  default: (v, a, s) => (v instanceof Undefined || (a[1] === true && !isTruthy(v, s)) ? (a.length > 0 ? a[0] : "") : v),
  d: (v, a, s) => FILTERS.default!(v, a, s),
  lower: (v, _a, s) => toText(v, s).toLowerCase(),
  upper: (v, _a, s) => toText(v, s).toUpperCase(),
  string: (v, _a, s) => toText(v, s),
  trim: (v, _a, s) => toText(v, s).trim(),
  length: (v) => items(v, 'the filter "length"').length,
  count: (v) => items(v, 'the filter "count"').length,
  list: (v) => [...items(v, 'the filter "list"')],
  join: (v, a, s) => (v instanceof Undefined ? toText(v, s) : items(v, 'the filter "join"').map((x) => toText(x, s)).join(a[0] === undefined ? "" : toText(a[0], s))),
  first: (v) => (v instanceof Undefined ? v : (items(v, 'the filter "first"')[0] ?? null)),
  last: (v) => (v instanceof Undefined ? v : (items(v, 'the filter "last"').at(-1) ?? null)),
  sort: (v) => [...items(v, 'the filter "sort"')].sort((x, y) => (pyStr(x) < pyStr(y) ? -1 : pyStr(x) > pyStr(y) ? 1 : 0)),
  int: (v) => (Number.isFinite(Number(v)) ? Math.trunc(Number(v)) : 0),
  replace: (v, a, s) => toText(v, s).split(String(a[0])).join(String(a[1] ?? "")),
};

const LITERALS: Record<string, Value> = { true: true, True: true, false: false, False: false, none: null, None: null };

function parseExpr(src: string, line: number): Expr {
  const toks = lexExpr(src, line);
  if (toks.length === 0) throw new TemplateError("an empty expression", line);
  let i = 0;
  const fail = (msg: string): never => {
    throw new TemplateError(`${msg} in ${JSON.stringify(src.trim())}`, line);
  };
  const peek = (v?: string) => (i < toks.length && (v === undefined || toks[i]!.v === v) ? toks[i] : undefined);
  const isOp = (v: string) => i < toks.length && toks[i]!.t === "op" && toks[i]!.v === v;
  const isWord = (v: string) => i < toks.length && toks[i]!.t === "name" && toks[i]!.v === v;
  const expect = (v: string) => {
    if (!peek(v)) fail(`expected ${JSON.stringify(v)}`);
    i++;
  };
  const list = (closer: string): Expr[] => {
    const out: Expr[] = [];
    while (!isOp(closer)) {
      out.push(or());
      if (isOp(",")) i++;
      else if (!isOp(closer)) fail(`expected "," or ${JSON.stringify(closer)}`);
    }
    expect(closer);
    return out;
  };
  const primary = (): { e: Expr; path: string } => {
    const t = toks[i++];
    if (!t) return fail("the expression ends too early");
    if (t.t === "str") return { e: () => t.v, path: "" };
    if (t.t === "num") return { e: () => Number(t.v), path: "" };
    if (t.t === "op" && t.v === "-" && toks[i]?.t === "num") {
      const n = -Number(toks[i++]!.v);
      return { e: () => n, path: "" };
    }
    if (t.t === "op" && t.v === "(") {
      const e = or();
      if (!isOp(",")) {
        expect(")");
        return { e, path: "" };
      }
      // A tuple, as in `codename in ('buster', 'stretch')`: a list here.
      const elems = [e];
      while (isOp(",")) {
        i++;
        if (isOp(")")) break;
        elems.push(or());
      }
      expect(")");
      return { e: (s) => elems.map((x) => x(s)), path: "" };
    }
    if (t.t === "op" && t.v === "[") {
      const elems = list("]");
      return { e: (s) => elems.map((x) => x(s)), path: "" };
    }
    if (t.t === "name") {
      if (Object.hasOwn(LITERALS, t.v)) return { e: () => LITERALS[t.v], path: "" };
      return { e: (s) => (Object.hasOwn(s.vars, t.v) ? s.vars[t.v] : new Undefined(t.v, t.v)), path: t.v };
    }
    return fail(`unexpected ${JSON.stringify(t.v)}`);
  };
  const postfix = (): Expr => {
    let { e, path } = primary();
    for (;;) {
      if (isOp(".")) {
        i++;
        const name = toks[i++];
        if (!name || name.t !== "name") fail('expected a name after "."');
        const base = e;
        const key = name!.v;
        if (isOp("(")) {
          i++;
          const a = list(")");
          e = (s) => callMethod(base(s), key, a.map((x) => x(s)), s);
        } else {
          const p = path ? `${path}.${key}` : key;
          e = (s) => getAttr(base(s), key, p, s);
          path = p;
        }
      } else if (isOp("[")) {
        i++;
        const key = or();
        expect("]");
        const base = e;
        const p = path;
        e = (s) => {
          const k = defined(key(s), s);
          return getAttr(base(s), typeof k === "number" ? k : String(k), `${p}[${JSON.stringify(k)}]`, s);
        };
      } else return e;
    }
  };
  const filtered = (): Expr => {
    let e = postfix();
    while (isOp("|")) {
      i++;
      const name = toks[i++];
      if (!name || name.t !== "name" || !Object.hasOwn(FILTERS, name.v)) fail(`the filter ${JSON.stringify(name?.v ?? "")} is not supported (sprout knows ${Object.keys(FILTERS).join(", ")})`);
      const f = FILTERS[name!.v]!;
      const keepsUndefined = name!.v === "default" || name!.v === "d";
      const a = isOp("(") ? (i++, list(")")) : [];
      const base = e;
      e = (s) => {
        const v = base(s);
        return f(keepsUndefined ? v : defined(v, s), a.map((x) => x(s)), s);
      };
    }
    return e;
  };
  const sum = (): Expr => {
    let e = filtered();
    while (isOp("~") || isOp("+")) {
      const op = toks[i++]!.v;
      const a = e;
      const b = filtered();
      e = op === "~" ? (s) => toText(a(s), s) + toText(b(s), s) : (s) => add(a(s), b(s), s);
    }
    if (peek() && toks[i]!.t === "op" && ["-", "*", "/", "//", "%", "**"].includes(toks[i]!.v)) fail(`the operator "${toks[i]!.v}" is not supported`);
    return e;
  };
  const comparison = (): Expr => {
    const a = sum();
    const t = peek();
    if (t && t.t === "op" && ["==", "!=", "<", ">", "<=", ">="].includes(t.v)) {
      i++;
      const b = sum();
      return (s) => compare(t.v, defined(a(s), s), defined(b(s), s));
    }
    if (isWord("in") || (isWord("not") && toks[i + 1]?.t === "name" && toks[i + 1]?.v === "in")) {
      const neg = isWord("not");
      i += neg ? 2 : 1;
      const b = sum();
      return (s) => contains(defined(b(s), s), defined(a(s), s), s) !== neg;
    }
    if (isWord("is")) {
      i++;
      const neg = isWord("not") && (i++, true);
      const test = toks[i++];
      const tests = ["defined", "undefined", "none", "string", "number"];
      if (!test || !tests.includes(test.v)) fail(`the test "is ${test?.v ?? ""}" is not supported (sprout knows ${tests.join(", ")})`);
      return (s) => {
        const v = a(s);
        const r = test!.v === "defined" ? !(v instanceof Undefined) : test!.v === "undefined" ? v instanceof Undefined : test!.v === "none" ? v === null : test!.v === "string" ? typeof v === "string" : typeof v === "number";
        return r !== neg;
      };
    }
    return a;
  };
  const not = (): Expr => {
    if (isWord("not")) {
      i++;
      const e = not();
      return (s) => !isTruthy(e(s), s);
    }
    return comparison();
  };
  const and = (): Expr => {
    let e = not();
    while (isWord("and")) {
      i++;
      const a = e;
      const b = not();
      e = (s) => {
        const x = a(s);
        return isTruthy(x, s) ? b(s) : x;
      };
    }
    return e;
  };
  function or(): Expr {
    let e = and();
    while (isWord("or")) {
      i++;
      const a = e;
      const b = and();
      e = (s) => {
        const x = a(s);
        return isTruthy(x, s) ? x : b(s);
      };
    }
    return e;
  }
  const e = or();
  if (i < toks.length) fail(`unexpected ${JSON.stringify(toks[i]!.v)}`);
  return e;
}

function add(x: Value, y: Value, s: Scope): Value {
  x = defined(x, s);
  y = defined(y, s);
  if (typeof x === "number" && typeof y === "number") return x + y;
  if (Array.isArray(x) && Array.isArray(y)) return [...x, ...y];
  const text = (v: Value) => typeof v === "string" || v instanceof Undefined;
  if (text(x) && text(y)) return toText(x, s) + toText(y, s);
  throw new EvalError(`cannot add ${pyRepr(x)} and ${pyRepr(y)}`);
}

function callMethod(obj: Value, method: string, a: Value[], s: Scope): Value {
  obj = defined(obj, s);
  if (isMapping(obj)) {
    if (method === "items") return Object.entries(obj);
    if (method === "keys") return Object.keys(obj);
    if (method === "values") return Object.values(obj);
    if (method === "get") {
      const v = getAttr(obj, String(a[0]), String(a[0]), s);
      return v instanceof Undefined ? (a[1] ?? null) : v;
    }
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
  throw new EvalError(`cannot call .${method}() on ${pyRepr(obj)}`);
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

function contains(container: Value, item: Value, s: Scope): boolean {
  if (container instanceof Undefined) return false;
  if (typeof container === "string") {
    if (typeof item !== "string" && !(item instanceof Undefined)) throw new EvalError(`"in" with a string on its right needs a string on its left, not ${pyRepr(item)}`);
    return container.includes(toText(item, s));
  }
  if (Array.isArray(container)) return container.some((x) => JSON.stringify(x) === JSON.stringify(item));
  if (isMapping(container)) return Object.hasOwn(container, String(item));
  throw new EvalError(`"in" needs a list, a mapping or a string on its right, not ${pyRepr(container)}`);
}

// ---- statements ----
type Node =
  | { k: "text"; text: string }
  | { k: "out"; e: Expr; line: number }
  | { k: "if"; branches: Array<{ cond: Expr; body: Node[]; line: number }>; otherwise: Node[] }
  | { k: "for"; names: string[]; iter: Expr; body: Node[]; otherwise: Node[]; line: number }
  | { k: "set"; name: string; e: Expr; line: number };

function parse(toks: Tok[], options: JinjaOptions): Node[] {
  const withSet = options.set !== false;
  const supported = `if/elif/else/endif, for/else/endfor${withSet ? " and set" : ""}`;
  let i = 0;
  // Reads nodes up to one of the `ends` statements; returns them, that statement's word and its line.
  const block = (ends: string[], opener: { word: string; line: number } | null): { nodes: Node[]; end: string; body: string; line: number } => {
    const nodes: Node[] = [];
    while (i < toks.length) {
      const t = toks[i++]!;
      if (t.kind === "text") nodes.push({ k: "text", text: t.text });
      else if (t.kind === "out") nodes.push({ k: "out", e: parseExpr(t.body, t.line), line: t.line });
      else {
        const word = /^\w+/.exec(t.body)?.[0] ?? "";
        const rest = t.body.slice(word.length);
        if (ends.includes(word)) return { nodes, end: word, body: rest, line: t.line };
        if (word === "if") {
          const branches = [{ cond: parseExpr(rest, t.line), body: [] as Node[], line: t.line }];
          let otherwise: Node[] = [];
          for (;;) {
            const b = block(["elif", "else", "endif"], { word: "if", line: t.line });
            if (b.end === "elif") {
              branches[branches.length - 1]!.body = b.nodes;
              branches.push({ cond: parseExpr(b.body, b.line), body: [], line: b.line });
            } else if (b.end === "else") {
              branches[branches.length - 1]!.body = b.nodes;
              otherwise = block(["endif"], { word: "if", line: t.line }).nodes;
              break;
            } else {
              branches[branches.length - 1]!.body = b.nodes;
              break;
            }
          }
          nodes.push({ k: "if", branches, otherwise });
        } else if (word === "for") {
          const m = /^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+([\s\S]+)$/.exec(rest);
          if (!m) throw new TemplateError(`cannot read {% for ${rest.trim()} %}: write {% for x in list %}`, t.line);
          const iter = parseExpr(m[2]!, t.line);
          const body = block(["else", "endfor"], { word: "for", line: t.line });
          const otherwise = body.end === "else" ? block(["endfor"], { word: "for", line: t.line }).nodes : [];
          nodes.push({ k: "for", names: m[1]!.split(",").map((n) => n.trim()), iter, body: body.nodes, otherwise, line: t.line });
        } else if (word === "set" && withSet) {
          const m = /^\s*([A-Za-z_]\w*)\s*=([\s\S]+)$/.exec(rest);
          if (!m) throw new TemplateError(`cannot read {% set ${rest.trim()} %}: write {% set name = value %}`, t.line);
          nodes.push({ k: "set", name: m[1]!, e: parseExpr(m[2]!, t.line), line: t.line });
        } else if (["endif", "endfor", "elif", "else"].includes(word)) {
          throw new TemplateError(opener ? `"${t.body}" inside the "${opener.word}" of line ${opener.line}, which it does not belong to` : `"${t.body}" without its opening statement`, t.line);
        } else throw new TemplateError(`the statement "{% ${t.body} %}" is not supported (sprout renders ${supported})`, t.line);
      }
    }
    if (opener) throw new TemplateError(`the "${opener.word}" is never closed (no ${ends[ends.length - 1]})`, opener.line);
    return { nodes, end: "", body: "", line: 0 };
  };
  return block([], null).nodes;
}

/** Runs one node's evaluation, giving an evaluation error the line of its tag. */
function at<T>(line: number, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof EvalError) throw new TemplateError(err.message, line);
    throw err;
  }
}

function render(nodes: Node[], scope: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.k === "text") out.push(n.text);
    else if (n.k === "out") out.push(at(n.line, () => toText(n.e(scope), scope)));
    else if (n.k === "set") scope.vars[n.name] = at(n.line, () => n.e(scope));
    else if (n.k === "if") {
      const hit = n.branches.find((b) => at(b.line, () => isTruthy(b.cond(scope), scope)));
      render(hit ? hit.body : n.otherwise, scope, out);
    } else {
      const list = at(n.line, () => {
        const v = defined(n.iter(scope), scope);
        // An undefined list loops zero times, as in Jinja2.
        return v instanceof Undefined ? [] : items(v, '"for"');
      });
      if (list.length === 0) render(n.otherwise, scope, out);
      list.forEach((item, idx) => {
        const vars: Record<string, Value> = { ...scope.vars, loop: { index: idx + 1, index0: idx, first: idx === 0, last: idx === list.length - 1, length: list.length } };
        if (n.names.length === 1) vars[n.names[0]!] = item;
        else {
          if (!Array.isArray(item) || item.length !== n.names.length) throw new TemplateError(`cannot unpack ${pyRepr(item)} into ${n.names.join(", ")}`, n.line);
          n.names.forEach((name, j) => (vars[name] = item[j]));
        }
        render(n.body, { ...scope, vars }, out);
      });
    }
  }
}

/**
 * Renders a template's text after its header line (line 1 = the first line
 * given) with `data` as its variables. Returns the text and the variables that
 * were missing; throws TemplateError (with its line) on a syntax error, or on an
 * undefined variable when `undefinedVariables` is "error".
 */
export function renderJinjaBody(body: string, data: Record<string, unknown>, options: JinjaOptions = {}): { text: string; missing: string[] } {
  // Jinja2 makes every newline "\n" and drops one at the end; cloud-init adds one back if the source ended with one.
  const lines = body.split(/\r\n|\r|\n/);
  const trailing = lines.length > 1 && lines[lines.length - 1] === "";
  if (trailing) lines.pop();
  const nodes = parse(lex(lines.join("\n"), options.trimBlocks !== false), options);
  const scope: Scope = { vars: { ...data }, missing: new Set(), strict: options.undefinedVariables === "error", known: Object.keys(data) };
  const out: string[] = [];
  render(nodes, scope, out);
  return { text: out.join("") + (trailing ? "\n" : ""), missing: [...scope.missing] };
}

/**
 * Renders a `## template: jinja` document (the header line, if there, is
 * removed) with `data` as its variables. As renderJinjaBody, but a
 * TemplateError's line is a line of the document given.
 */
export function renderJinja(text: string, data: Record<string, unknown>, options: JinjaOptions = {}): { text: string; missing: string[] } {
  if (!hasJinjaHeader(text)) return renderJinjaBody(text, data, options);
  try {
    return renderJinjaBody(afterHeader(text), data, options);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(err.message, err.line + 1);
    throw err;
  }
}

/** The variables a template sees: the instance data, with v1's keys also at the top level (as cloud-init does). */
export function jinjaVariables(instance: Record<string, unknown>): Record<string, unknown> {
  const v1 = (instance.v1 && typeof instance.v1 === "object" ? instance.v1 : {}) as Record<string, unknown>;
  return { ...v1, ...instance };
}
