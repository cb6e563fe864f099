import { describe, expect, it } from "vitest";
import { utf8Text } from "./utf8";

describe("utf8Text", () => {
  it("tells UTF-8 from other bytes exactly as a strict TextDecoder does", () => {
    const strict = (b: Buffer) => {
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(b);
      } catch {
        return null;
      }
    };
    const cases: Buffer[] = [Buffer.from("\uFEFFa real \uFFFD and 🌱"), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xc0, 0x80])];
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b += a < 0x80 ? 37 : 1) cases.push(Buffer.from([a, b]));
    let seed = 1;
    for (let i = 0; i < 20000; i++) {
      const bytes = Buffer.alloc(1 + (i % 5));
      for (let j = 0; j < bytes.length; j++) bytes[j] = (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 2 === 0 ? 0x80 + (seed % 0x78) : seed % 256;
      cases.push(bytes);
    }
    for (const c of cases) expect(utf8Text(c), c.toString("hex")).toBe(strict(c));
  });


  it("drops a leading BOM, as TextDecoder does", () => {
    expect(utf8Text(Buffer.from("\uFEFFinstance-id: x"))).toBe("instance-id: x");
  });
});
