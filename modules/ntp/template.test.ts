// ntp's templates through cloud-init's templater (agent/templater.ts) against Python's
// Jinja2 (fixtures/jinja2-cases.json is its output, made by fixtures/jinja2-cases.py)
// and cloud-init's basic renderer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderTemplate as render, TemplateError } from "../../agent/templater";
import { TEMPLATE_OPTIONS } from "./templates";

type TemplateParams = Record<string, unknown>;
const renderTemplate = (text: string, params: TemplateParams) => render(text, params, TEMPLATE_OPTIONS);

const cases = JSON.parse(readFileSync(join(__dirname, "fixtures/jinja2-cases.json"), "utf8")) as Array<{ name: string; template: string; params: TemplateParams; expected: string }>;

describe("ntp templates: the Jinja2 subset renders as Jinja2 does", () => {
  for (const c of cases) {
    it(c.name, async () => expect(await renderTemplate(c.template, c.params)).toBe(c.expected));
  }
});

describe("ntp templates: the header line", () => {
  it("no header: cloud-init's basic renderer, $name and ${name} as Python prints the value", async () => {
    expect(await renderTemplate("server ${servers} $pools\n", { servers: ["a", "b"], pools: [] })).toBe("server ['a', 'b'] []\n");
    expect(await renderTemplate("## template:basic\nx $servers\n", { servers: ["a"] })).toBe("x ['a']\n");
  });
  it("an unknown template type, or an unknown $name, is an error", async () => {
    await expect(renderTemplate("## template:mako\nx\n", {})).rejects.toThrow(/template type "mako"/);
    await expect(renderTemplate("x $hostname\n", { servers: [] })).rejects.toThrow(TemplateError);
  });
  it("unsupported syntax is an error naming it, not text in the file", async () => {
    await expect(renderTemplate("## template:jinja\n{{ servers|map('upper') }}\n", { servers: [] })).rejects.toThrow(/the filter "map" is not supported/);
    await expect(renderTemplate("## template:jinja\n{% set x = 1 %}\n", {})).rejects.toThrow(/the statement "\{% set x = 1 %\}" is not supported/);
    await expect(renderTemplate("## template:jinja\n{{ servers\n", { servers: [] })).rejects.toThrow(/line 1: "\{\{" is never closed/);
    await expect(renderTemplate("## template:jinja\n{% endfor %}\n", {})).rejects.toThrow(/without its opening statement/);
  });
});
