import { describe, expect, it } from "vitest";
import { cmdlineValue, parseCmdline } from "./cmdline";

describe("parseCmdline", () => {
  it("splits words and key=value pairs", () => {
    const c = parseCmdline("BOOT_IMAGE=/vmlinuz root=UUID=abc ro quiet console=ttyS0\n");
    expect(c.args).toEqual([
      { key: "BOOT_IMAGE", value: "/vmlinuz" },
      { key: "root", value: "UUID=abc" },
      { key: "ro", value: null },
      { key: "quiet", value: null },
      { key: "console", value: "ttyS0" },
    ]);
    expect(c.warnings).toEqual([]);
  });

  it("keeps a quoted ds= argument with semicolons whole (the GRUB-quoted form)", () => {
    const c = parseCmdline('root=/dev/vda1 "ds=nocloud;s=http://127.0.0.1:8000/seed/;h=web1" ro');
    expect(cmdlineValue(c, "ds")).toBe("nocloud;s=http://127.0.0.1:8000/seed/;h=web1");
    expect(parseCmdline("ds=nocloud;s=file:///seed/").args[0]!.value).toBe("nocloud;s=file:///seed/");
    expect(cmdlineValue(parseCmdline('ds="nocloud;i=a b"'), "ds")).toBe("nocloud;i=a b");
  });

  it("lets the last occurrence win and stops at --", () => {
    const c = parseCmdline("a=1 a=2 -- a=3");
    expect(cmdlineValue(c, "a")).toBe("2");
  });

  it("reads an unterminated quote to the end and warns", () => {
    const c = parseCmdline('ro "ds=nocloud;s=file:///x/ quiet');
    expect(cmdlineValue(c, "ds")).toBe("nocloud;s=file:///x/ quiet");
    expect(c.warnings[0]).toMatch(/unterminated quote/);
  });

  it("handles an empty command line", () => {
    expect(parseCmdline("").args).toEqual([]);
  });
});
