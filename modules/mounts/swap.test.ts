// Swap sizes as cloud-init reads and suggests them, and the `swap:` key's bad values.
import { describe, expect, it } from "vitest";
import { isSwapArea, memTotal, parseSize, parseSwapConfig, suggestedSwapSize } from "./swap";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("swap sizes", () => {
  it("reads sizes as cloud-init's human2bytes does", () => {
    expect(parseSize("2G")).toBe(2 * GiB);
    expect(parseSize("512M")).toBe(512 * MiB);
    expect(parseSize(".5G")).toBe(GiB / 2);
    expect(parseSize("1.5G")).toBe(1.5 * GiB);
    expect(parseSize("2GB")).toBe(2 * GiB);
    expect(parseSize("10K")).toBe(10240);
    expect(parseSize("100")).toBe(100);
    expect(parseSize("100B")).toBe(100);
    expect(parseSize(10485760)).toBe(10485760);
    for (const bad of ["2 gigs", "2g", "-1G", "G", "", "1.2.3M", 1.5, -4, true, null]) expect(parseSize(bad), String(bad)).toBeNull();
  });

  it("suggests cloud-init's sizes for size: auto", () => {
    const lots = 1000 * GiB;
    expect(suggestedSwapSize(2 * GiB, null, lots)).toBe(2 * GiB); // below 4 GiB: as much as memory
    expect(suggestedSwapSize(8 * GiB, null, lots)).toBe(4 * GiB); // below 16 GiB: 4 GiB
    expect(suggestedSwapSize(64 * GiB, null, lots)).toBe(8 * GiB); // above: sqrt of GiB
    expect(suggestedSwapSize(24 * GiB, null, lots)).toBe(5 * GiB); // round(sqrt(24)) = 5
    expect(suggestedSwapSize(8 * GiB, null, 8 * GiB)).toBe(2 * GiB); // a quarter of the free space
    expect(suggestedSwapSize(8 * GiB, 10485760, lots)).toBe(10485760); // maxsize
    expect(suggestedSwapSize(8 * GiB, 100 * GiB, 10 * GiB)).toBe(4 * GiB); // maxsize capped at 90% of free: 9 GiB, min stays 4
    expect(suggestedSwapSize(8 * GiB, 100 * GiB, GiB)).toBe(Math.floor(GiB * 0.9));
  });

  it("reads MemTotal and recognises a swap area by its signature", () => {
    expect(memTotal("MemTotal:       24683468 kB\nMemFree: 1 kB\n")).toBe(24683468 * 1024);
    expect(memTotal("nothing")).toBeNull();
    const page = Buffer.alloc(4096);
    page.write("SWAPSPACE2", 4086, "latin1");
    expect(isSwapArea(page)).toBe(true);
    expect(isSwapArea(Buffer.alloc(4096))).toBe(false);
    expect(isSwapArea(Buffer.alloc(10))).toBe(false);
  });
});

describe("the swap key", () => {
  it("makes nothing without a size, as cloud-init", () => {
    for (const v of [undefined, null, {}, { filename: "/swapfile" }, { size: 0 }]) expect(parseSwapConfig(v)).toEqual({ config: null, error: null });
  });

  it("takes cloud-init's documented forms", () => {
    expect(parseSwapConfig({ filename: "/swapfile", size: "2G", maxsize: "2G" }).config).toEqual({ filename: "/swapfile", size: 2 * GiB, maxsize: 2 * GiB });
    expect(parseSwapConfig({ filename: "/my/swapfile", size: "auto", maxsize: 10485760 }).config).toEqual({ filename: "/my/swapfile", size: "auto", maxsize: 10485760 });
    expect(parseSwapConfig({ size: 1073741824 }).config).toEqual({ filename: "/swap.img", size: GiB, maxsize: null });
  });

  it("says what is wrong with a bad value and what to write", () => {
    expect(parseSwapConfig("2G").error).toMatch(/^swap is "2G", not a mapping: write it as \{filename: \/swap.img, size: 2G\}/);
    expect(parseSwapConfig({ size: "2 gigs" }).error).toBe('swap: size "2 gigs" is not a size: write auto, a number of bytes, or a number with K, M, G or T, like 2G or 512M; no swap file made');
    expect(parseSwapConfig({ size: "1G", maxsize: "lots" }).error).toMatch(/^swap: maxsize "lots" is not a size/);
    expect(parseSwapConfig({ size: "1G", filename: "swapfile" }).error).toMatch(/^swap: filename "swapfile" is not an absolute file path/);
    expect(parseSwapConfig({ size: "1G", filename: "/swap/" }).error).toMatch(/not an absolute file path/);
  });
});
