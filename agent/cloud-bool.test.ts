import { describe, expect, it } from "vitest";
import { isFalse, isTrue } from "./cloud-bool";

// cloud-init 22.4.2's util.py: TRUE_STRINGS = ("true", "1", "on", "yes"), FALSE_STRINGS = ("off", "0", "no", "false").
describe("cloud-init's yes/no readings", () => {
  it("is_false: false and its four words, in any case and spacing; nothing else", () => {
    expect([false, "off", "0", " No ", "FALSE"].map(isFalse)).toEqual([true, true, true, true, true]);
    expect([true, "n", "", null, undefined, "disabled"].map(isFalse)).toEqual([false, false, false, false, false, false]);
  });
  it("is_true / translate_bool: true, 1 and their four words; not y", () => {
    expect([true, 1, "true", " YES", "on", "1"].map(isTrue)).toEqual([true, true, true, true, true, true]);
    expect([false, 0, 2, "y", "no", "", null].map(isTrue)).toEqual([false, false, false, false, false, false, false]);
  });
});
