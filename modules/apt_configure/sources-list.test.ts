import { describe, expect, it } from "vitest";
import { debLineProblem, DEBIAN_TEMPLATE, disableSuites, renderBasic, renderTemplate } from "./sources-list";

const PARAMS = { RELEASE: "bookworm", codename: "bookworm", MIRROR: "http://m.example/debian", mirror: "http://m.example/debian", PRIMARY: "http://m.example/debian", primary: "http://m.example/debian", SECURITY: "http://s.example/debian-security", security: "http://s.example/debian-security" };

describe("apt_configure sources.list text", () => {
  it("renders Debian's template as cloud-init does (header line gone, -security suite, last newline kept)", async () => {
    const text = await renderTemplate(DEBIAN_TEMPLATE, PARAMS);
    expect(text.startsWith("## Note, this file is written by cloud-init")).toBe(true);
    expect(text.endsWith("deb-src http://m.example/debian bookworm-backports main\n")).toBe(true);
    const entries = text.split("\n").filter((l) => /^deb/.test(l));
    expect(entries).toEqual([
      "deb http://m.example/debian bookworm main",
      "deb-src http://m.example/debian bookworm main",
      "deb http://s.example/debian-security bookworm-security main",
      "deb-src http://s.example/debian-security bookworm-security main",
      "deb http://m.example/debian bookworm-updates main",
      "deb-src http://m.example/debian bookworm-updates main",
      "deb http://m.example/debian bookworm-backports main",
      "deb-src http://m.example/debian bookworm-backports main",
    ]);
    expect(await renderTemplate(DEBIAN_TEMPLATE, { ...PARAMS, codename: "buster" })).toContain("deb http://s.example/debian-security buster/updates main\n");
  });

  it("basic templates: $NAME and ${NAME}; an unknown name is an error listing the known ones; jinja with a header", async () => {
    expect(renderBasic("deb ${MIRROR} $RELEASE main", PARAMS)).toBe("deb http://m.example/debian bookworm main");
    expect(() => renderBasic("deb $MIRROR $RELASE main", PARAMS)).toThrow(/^the template uses \$RELASE, but only \$RELEASE, \$codename, \$MIRROR, .* are defined$/);
    expect(await renderTemplate("## template:jinja\ndeb {{ mirror }} {{ codename }} main\n", PARAMS)).toBe("deb http://m.example/debian bookworm main\n");
    await expect(renderTemplate("## template:jinja\ndeb {{ mirrorr }} main\n", PARAMS)).rejects.toThrow(/the template does not render: .*mirrorr/);
  });

  it("disable_suites comments out the suites, aliases and $RELEASE included, options in brackets skipped", () => {
    const src = "deb http://m/ bookworm main\ndeb [arch=amd64 trusted=yes] http://m/ bookworm-updates main\n# deb http://m/ bookworm-backports main\ndeb http://m/ bookworm-backports main\ndeb http://m/ mysuite main\n";
    expect(disableSuites(src, ["updates", "backports", "mysuite"], "bookworm")).toBe(
      "deb http://m/ bookworm main\n# suite disabled by cloud-init: deb [arch=amd64 trusted=yes] http://m/ bookworm-updates main\n# deb http://m/ bookworm-backports main\n# suite disabled by cloud-init: deb http://m/ bookworm-backports main\n# suite disabled by cloud-init: deb http://m/ mysuite main\n",
    );
    expect(disableSuites(src, ["$RELEASE"], "bookworm").split("\n")[0]).toBe("# suite disabled by cloud-init: deb http://m/ bookworm main");
  });

  it("knows a one-line deb entry from what apt would refuse", () => {
    for (const ok of ["deb http://m/debian bookworm main", "deb-src [signed-by=/k.gpg arch=amd64] https://m/ bookworm main contrib", "deb [ arch=amd64 ] http://m/ bookworm main", "deb file:/srv/repo ./", "# a comment", ""]) expect(debLineProblem(ok)).toBeNull();
    expect(debLineProblem("http://m/debian bookworm main")).toMatch(/is not a deb line/);
    expect(debLineProblem("Types: deb")).toMatch(/deb822/);
    expect(debLineProblem("deb m.example/debian bookworm main")).toMatch(/is not a URI/);
    expect(debLineProblem("deb http://m/debian")).toMatch(/has no suite/);
    expect(debLineProblem("deb http://m/debian bookworm")).toMatch(/has no component/);
    expect(debLineProblem("deb [signed-by] http://m/debian bookworm main")).toMatch(/key=value/);
  });
});
