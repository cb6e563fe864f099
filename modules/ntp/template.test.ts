// The template renderer against Python's Jinja2 (fixtures/jinja2-cases.json is its
// output, made by fixtures/jinja2-cases.py) and cloud-init's basic renderer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderTemplate, TemplateError, type TemplateParams } from "./template";

const cases = JSON.parse(readFileSync(join(__dirname, "fixtures/jinja2-cases.json"), "utf8")) as Array<{ name: string; template: string; params: TemplateParams; expected: string }>;

describe("ntp templates: the Jinja2 subset renders as Jinja2 does", () => {
  for (const c of cases) {
    it(c.name, () => expect(renderTemplate(c.template, c.params)).toBe(c.expected));
  }
});

describe("ntp templates: the header line", () => {
  it("no header: cloud-init's basic renderer, $name and ${name} as Python prints the value", () => {
    expect(renderTemplate("server ${servers} $pools\n", { servers: ["a", "b"], pools: [] })).toBe("server ['a', 'b'] []\n");
    expect(renderTemplate("## template:basic\nx $servers\n", { servers: ["a"] })).toBe("x ['a']\n");
  });
  it("an unknown template type, or an unknown $name, is an error", () => {
    expect(() => renderTemplate("## template:mako\nx\n", {})).toThrow(/template type "mako"/);
    expect(() => renderTemplate("x $hostname\n", { servers: [] })).toThrow(TemplateError);
  });
  it("unsupported syntax is an error naming it, not text in the file", () => {
    expect(() => renderTemplate("## template:jinja\n{{ servers|map('upper') }}\n", { servers: [] })).toThrow(/the filter "map" is not supported/);
    expect(() => renderTemplate("## template:jinja\n{% set x = 1 %}\n", {})).toThrow(/the statement "\{% set x = 1 %\}" is not supported/);
    expect(() => renderTemplate("## template:jinja\n{{ servers\n", { servers: [] })).toThrow(/line 1: "\{\{" is never closed/);
    expect(() => renderTemplate("## template:jinja\n{% endfor %}\n", {})).toThrow(/without its opening statement/);
  });
});
