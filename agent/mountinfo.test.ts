import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mountAt, parseMountinfo } from "./mountinfo";

const fixture = (name: string) => readFileSync(join(__dirname, "../test/fixtures/mountinfo", name), "utf8");

describe("parseMountinfo", () => {
  it("reads device, type and source of each mount, with escaped spaces", () => {
    const { entries, skipped } = parseMountinfo(fixture("cloud-lvm.txt"));
    expect(skipped).toBe(0);
    expect(mountAt(entries, "/")).toMatchObject({ majMin: "253:0", fsType: "ext4", source: "/dev/mapper/vg0-root", readOnly: false });
    expect(mountAt(entries, "/mnt/my data")).toMatchObject({ fsRoot: "/srv/with space", source: "/dev/vda1" });
    expect(mountAt(entries, "/mnt/ro/")).toMatchObject({ readOnly: true, source: "/dev/disk/by-label/data" });
    expect(mountAt(entries, "/var")).toBeNull();
  });

  it("keeps /dev/root with its major:minor and skips a malformed line", () => {
    const { entries, skipped } = parseMountinfo(fixture("dev-root.txt"));
    expect(skipped).toBe(1);
    expect(mountAt(entries, "/")).toMatchObject({ majMin: "254:1", source: "/dev/root" });
  });

  it("the last mount on a mount point wins", () => {
    const { entries } = parseMountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / / rw - xfs /dev/sda2 rw\n");
    expect(mountAt(entries, "/")!.source).toBe("/dev/sda2");
  });
});
