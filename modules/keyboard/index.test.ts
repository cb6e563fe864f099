import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { keyboard, keyboardFile } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

// keyboard-configuration's file as Debian's installer leaves it.
const DEBIAN_FILE = '# KEYBOARD CONFIGURATION FILE\n\n# Consult the keyboard(5) manual page.\n\nXKBMODEL="pc105"\nXKBLAYOUT="us"\nXKBVARIANT=""\nXKBOPTIONS=""\n\nBACKSPACE="guess"\n';
const SYMBOLS = { "/usr/share/X11/xkb/symbols/us": "x", "/usr/share/X11/xkb/symbols/de": "x", "/usr/share/X11/xkb/symbols/fr": "x" };

describe("keyboard", () => {
  it("sets the four settings in /etc/default/keyboard, keeping the file's other lines (cloud-init's documented example)", async () => {
    root = tempRoot({ "/etc/default/keyboard": DEBIAN_FILE, ...SYMBOLS });
    const res = await keyboard.run({ keyboard: { layout: "de", model: "pc105", variant: "nodeadkeys", options: "compose:rwin" } }, moduleContext(root, "config"));
    expect(res).toEqual({ status: "changed", detail: "de (nodeadkeys), model pc105, options compose:rwin" });
    expect(root.host().root.readText("/etc/default/keyboard")).toBe(DEBIAN_FILE.replace('XKBLAYOUT="us"', 'XKBLAYOUT="de"').replace('XKBVARIANT=""', 'XKBVARIANT="nodeadkeys"').replace('XKBOPTIONS=""', 'XKBOPTIONS="compose:rwin"'));
    expect((await keyboard.run({ keyboard: { layout: "de", variant: "nodeadkeys", options: "compose:rwin" } }, moduleContext(root, "config"))).status).toBe("unchanged");
  });

  it("makes the file when the image has none, with the model's default; several layouts", async () => {
    root = tempRoot(SYMBOLS);
    const res = await keyboard.run({ keyboard: { layout: "us,de" } }, moduleContext(root, "config"));
    expect(res.status).toBe("changed");
    expect(root.host().root.readText("/etc/default/keyboard")).toBe(DEBIAN_FILE.replace('XKBLAYOUT="us"', 'XKBLAYOUT="us,de"'));
  });

  it("adds a setting the file lacks, before its end", () => {
    expect(keyboardFile('XKBLAYOUT="us"\n', { XKBMODEL: "pc105", XKBLAYOUT: "de", XKBVARIANT: "", XKBOPTIONS: "" })).toBe('XKBLAYOUT="de"\nXKBMODEL="pc105"\nXKBVARIANT=""\nXKBOPTIONS=""\n');
  });

  it("refuses a layout the machine does not have (with a did-you-mean), a missing layout and shell in a value; nothing is written", async () => {
    root = tempRoot({ "/etc/default/keyboard": DEBIAN_FILE, ...SYMBOLS });
    const ctx = moduleContext(root, "config");
    expect((await keyboard.run({ keyboard: { layout: "dee" } }, ctx)).errors).toEqual(['keyboard.layout "dee" is not a layout in /usr/share/X11/xkb/symbols (did you mean de?); nothing was written']);
    expect((await keyboard.run({ keyboard: { model: "pc105" } }, ctx)).errors).toEqual(["keyboard.layout is required, e.g. layout: de; nothing was written"]);
    expect((await keyboard.run({ keyboard: { layout: "de", options: '"; rm -rf / #' } }, ctx)).errors![0]).toMatch(/keyboard\.options .* is not an XKB name/);
    expect((await keyboard.run({ keyboard: "de" }, ctx)).errors![0]).toMatch(/keyboard must be a mapping with layout/);
    expect(root.host().root.readText("/etc/default/keyboard")).toBe(DEBIAN_FILE);
  });

  it("takes any layout when the machine has no xkb-data to check against", async () => {
    root = tempRoot();
    expect((await keyboard.run({ keyboard: { layout: "sv" } }, moduleContext(root, "config"))).status).toBe("changed");
  });
});
