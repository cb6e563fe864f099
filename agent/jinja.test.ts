// The Jinja engine against Python's Jinja2 rendering as cloud-init does
// (test/fixtures/jinja2/cases.json, made by cases.py there), and its options.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderJinja, renderJinjaBody, TemplateError } from "./jinja";

const cases = JSON.parse(readFileSync(join(__dirname, "../test/fixtures/jinja2/cases.json"), "utf8")) as Array<{ name: string; template: string; params: Record<string, unknown>; expected: string }>;

describe("jinja: renders as Jinja2 renders in cloud-init", () => {
  for (const c of cases) {
    it(c.name, () => expect(renderJinjaBody(c.template, c.params).text).toBe(c.expected));
  }
  it("a variable that is not there is reported by its path", () => {
    expect(renderJinjaBody("{{ nope }} {{ d.nope }} {{ ok | default('x') }}", { d: {} }).missing.sort()).toEqual(["d.nope", "nope"]);
  });
});

describe("jinja: options", () => {
  const strict = { undefinedVariables: "error" } as const;
  it("undefinedVariables: error names the variable and the ones there are; `is defined` and `default` still work", () => {
    expect(() => renderJinjaBody("a\n{{ server }}", { servers: [], pools: [] }, strict)).toThrowError(new TemplateError('the template uses "server", but only servers, pools are defined', 2));
    expect(() => renderJinjaBody("{% if nope %}x{% endif %}", {}, strict)).toThrow(/the template uses "nope", but no variables are defined/);
    expect(() => renderJinjaBody("{% for s in nope %}{% endfor %}", { a: 1 }, strict)).toThrow(/"nope"/);
    expect(() => renderJinjaBody("{{ l[5] }}", { l: [1] }, strict)).toThrow(/the template uses "l\[5\]", which is not there/);
    expect(renderJinjaBody("{{ nope | default('d') }}{% if nope is defined %}x{% endif %}", {}, strict).text).toBe("d");
  });
  it("trimBlocks: false keeps the newline after a block tag", () => {
    expect(renderJinjaBody("{% if true %}\na\n{% endif %}\nb\n", {}, { trimBlocks: false }).text).toBe("\na\n\nb\n");
    expect(renderJinjaBody("{% if true %}\na\n{% endif %}\nb\n", {}).text).toBe("a\nb\n");
  });
  it("set: false makes {% set %} an unsupported statement", () => {
    expect(renderJinjaBody("{% set x = 1 %}{{ x }}", {}).text).toBe("1");
    expect(() => renderJinjaBody("{% set x = 1 %}", {}, { set: false })).toThrow(/the statement "\{% set x = 1 %\}" is not supported \(sprout renders if\/elif\/else\/endif, for\/else\/endfor\)/);
  });
});

describe("jinja: errors name the construct and its line", () => {
  const line = (text: string) => {
    try {
      renderJinja(text, { l: [1], s: "x" });
    } catch (err) {
      if (err instanceof TemplateError) return `${err.line}: ${err.message}`;
      throw err;
    }
    return "rendered";
  };
  it("lines count from the document, header included", () => {
    expect(line("## template: jinja\na\n{{ l | map('x') }}")).toMatch(/^3: the filter "map" is not supported/);
    expect(line("a\n{{ l | map('x') }}")).toMatch(/^2: /);
  });
  it("unclosed tags and blocks, stray ends, bad values", () => {
    expect(line("a\n{{ s")).toBe('2: "{{" is never closed with "}}"');
    expect(line("{% if s %}\n{% for x in l %}\n{% endif %}")).toBe('3: "endif" inside the "for" of line 2, which it does not belong to');
    expect(line("\n{% if s %}x")).toBe('2: the "if" is never closed (no endif)');
    expect(line("{% endfor %}")).toBe('1: "endfor" without its opening statement');
    expect(line("{% include 'x' %}")).toMatch(/^1: the statement "\{% include 'x' %\}" is not supported/);
    expect(line("\n{{ l + s }}")).toBe("2: cannot add [1] and 'x'");
    expect(line("{% for x in 5 %}{% endfor %}")).toBe('1: "for" needs a list, a mapping or a string, not 5');
    expect(line("{% for a, b in l %}{% endfor %}")).toBe("1: cannot unpack 1 into a, b");
    expect(line("{{ 2 * 3 }}")).toMatch(/^1: the operator "\*" is not supported/);
    expect(line("{{ s.nosuch() }}")).toBe("1: cannot call .nosuch() on 'x'");
  });
  it("names on the prototype of an object are not variables", () => {
    expect(renderJinjaBody("{{ constructor }} {{ d.toString }} {{ l.length }}", { d: {}, l: [] }).text).toBe("CI_MISSING_JINJA_VAR/constructor CI_MISSING_JINJA_VAR/toString CI_MISSING_JINJA_VAR/length");
  });
});
