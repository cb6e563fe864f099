// The fstab planning of the mounts module, pure: cloud-init's documented
// examples, the normalising rules, bad entries, and the rewrite of owned lines.
import { describe, expect, it } from "vitest";
import type { DeviceView } from "./devices";
import { resolveDeviceName } from "./devices";
import { builtinDefaultFields, ownedLine, ownedLines, parseDefaultFields, planMounts, renderFstab, type PlanInput } from "./fstab";

/** A machine whose block devices are `devices` (partitions as disk -> its partitions) and whose meta-data maps `bdm`. */
function view(devices: string[] = [], bdm: Record<string, string> | null = null, partitions: Record<string, string[]> = {}): DeviceView {
  return {
    canCheck: true,
    isBlockDevice: (p) => devices.includes(p) || Object.values(partitions).some((ps) => ps.includes(p)),
    isPartitionOf: (part, disk) => (partitions[disk] ?? []).includes(part),
    mapName: (n) => {
      const d = bdm?.[n];
      return d ? (d.startsWith("/") ? d : `/dev/${d}`) : null;
    },
  };
}
const unchecked: DeviceView = { ...view(), canCheck: false };
const DEFAULTS = builtinDefaultFields(null, false);
const plan = (mounts: unknown, more: Partial<PlanInput> = {}) => planMounts({ mounts, defaults: DEFAULTS, view: view(), aliases: {}, fstab: "", defaultMounts: false, ...more });
const fields = (p: ReturnType<typeof planMounts>) => p.lines.map((l) => l.fields.join(" "));

describe("device names", () => {
  it("puts /dev/ before kernel short names, and leaves LABEL=, tmpfs, nfs and paths as written", () => {
    const v = view(["/dev/sdb", "/dev/xvdh", "/dev/vdc1"]);
    expect(resolveDeviceName("sdb", v, {})).toEqual({ kind: "device", spec: "/dev/sdb", exists: true, note: undefined });
    expect(resolveDeviceName("xvdh", v, {})).toMatchObject({ spec: "/dev/xvdh", exists: true });
    expect(resolveDeviceName("vdc1", v, {})).toMatchObject({ spec: "/dev/vdc1", exists: true });
    expect(resolveDeviceName("sr0", v, {})).toMatchObject({ spec: "/dev/sr0", exists: false });
    for (const s of ["LABEL=data", "UUID=0a1b", "tmpfs", "nfs.example:/export", "/srv/image.img", "//server/share"]) expect(resolveDeviceName(s, v, {})).toEqual({ kind: "as-written", spec: s });
  });

  it("takes partition 1 of a partitioned disk, NAME.N as partition N, and aliases", () => {
    const v = view([], null, { "/dev/vdb": ["/dev/vdb1", "/dev/vdb2"], "/dev/nvme1n1": ["/dev/nvme1n1p1"] });
    expect(resolveDeviceName("/dev/vdb", v, {})).toMatchObject({ spec: "/dev/vdb1", exists: true });
    expect(resolveDeviceName("/dev/vdb.2", v, {})).toMatchObject({ spec: "/dev/vdb2", exists: true });
    expect(resolveDeviceName("/dev/nvme1n1", v, {})).toMatchObject({ spec: "/dev/nvme1n1p1", exists: true });
    expect(resolveDeviceName("data_disk", v, { data_disk: "/dev/vdb" })).toMatchObject({ spec: "/dev/vdb1" });
    expect(resolveDeviceName("/dev/vdb.3", v, {})).toMatchObject({ spec: "/dev/vdb3", exists: false });
  });

  it("maps ephemeral0 (or ephemeral) and swap through the block-device-mapping, else drops them", () => {
    const v = view(["/dev/xvdb", "/dev/xvdc"], { ephemeral0: "xvdb", swap: "/dev/xvdc" });
    expect(resolveDeviceName("ephemeral0", v, {})).toMatchObject({ kind: "device", spec: "/dev/xvdb", exists: true });
    expect(resolveDeviceName("ephemeral", v, {})).toMatchObject({ spec: "/dev/xvdb" });
    expect(resolveDeviceName("swap", v, {})).toMatchObject({ spec: "/dev/xvdc" });
    expect(resolveDeviceName("ephemeral1", v, {})).toEqual({ kind: "unmapped", name: "ephemeral1" });
    expect(resolveDeviceName("swap", view(), {})).toEqual({ kind: "unmapped", name: "swap" });
  });

  it("checks nothing where the devices cannot be seen (--root): names are normalised and written", () => {
    expect(resolveDeviceName("sdc", unchecked, {})).toMatchObject({ spec: "/dev/sdc", exists: null });
    expect(resolveDeviceName("sdc.1", unchecked, {})).toMatchObject({ spec: "/dev/sdc1", exists: null });
    expect(resolveDeviceName("/dev/nvme1n1.1", unchecked, {})).toMatchObject({ spec: "/dev/nvme1n1p1", exists: null });
  });
});

describe("planning the fstab lines", () => {
  it("cloud-init's documented example: short names, defaults from mount_default_fields, quoted and unquoted numbers", () => {
    // As the example writes them: Python's None, a string in YAML.
    const defaults = parseDefaultFields(["None", "None", "auto", "defaults,nofail", "0", "2"], DEFAULTS);
    expect(defaults).toEqual({ fields: [null, null, "auto", "defaults,nofail", "0", "2"], error: null });
    const p = planMounts({
      mounts: [
        ["/dev/ephemeral0", "/mnt", "auto", "defaults,noexec"],
        ["sdc", "/opt/data"],
        ["xvdh", "/opt/data", "auto", "defaults,nofail", "0", 0],
      ],
      defaults: defaults.fields,
      view: unchecked,
      aliases: {},
      fstab: "",
      defaultMounts: false,
    });
    expect(p.errors).toEqual([]);
    expect(fields(p)).toEqual(["/dev/ephemeral0 /mnt auto defaults,noexec 0 2", "/dev/sdc /opt/data auto defaults,nofail 0 2", "/dev/xvdh /opt/data auto defaults,nofail 0 0"]);
  });

  it("fills missing and null fields from the defaults, and marks owned lines", () => {
    const p = plan([["/dev/vdb", "/data", null, null, 1]]);
    expect(fields(p)).toEqual(["/dev/vdb /data auto defaults,nofail 1 2"]);
    expect(ownedLine(p.lines[0]!.fields)).toBe("/dev/vdb\t/data\tauto\tdefaults,nofail,comment=cloudconfig\t1\t2");
    expect(builtinDefaultFields("sprout-network.service", true)[3]).toBe("defaults,nofail,x-systemd.requires=sprout-network.service,_netdev");
    expect(builtinDefaultFields(null, true)[3]).toBe("defaults,nofail,_netdev");
  });

  it("an entry without a mount point removes the earlier entries of its device and keeps its default mount out", () => {
    const v = view(["/dev/xvdb", "/dev/xvdc"], { ephemeral0: "xvdb", swap: "xvdc" });
    const p = plan([["xvdb", "/first"], ["tmpfs", "/t", "tmpfs"], ["ephemeral0"], ["swap", null], ["xvdb", "/later"]], { view: v, defaultMounts: true });
    expect(fields(p)).toEqual(["tmpfs /t tmpfs defaults,nofail 0 2", "/dev/xvdb /later auto defaults,nofail 0 2"]);
    // Without the removals the defaults come in: ephemeral0 on /mnt and the swap device.
    expect(fields(plan([], { view: v, defaultMounts: true }))).toEqual(["/dev/xvdb /mnt auto defaults,nofail 0 2", "/dev/xvdc none swap sw 0 0"]);
  });

  it("default mounts only for devices the machine has and no line of the user's names", () => {
    const v = view(["/dev/xvdb"], { ephemeral0: "xvdb", swap: "xvdc" });
    expect(fields(plan([], { view: v, defaultMounts: true, fstab: "/dev/xvdb /scratch ext4 defaults 0 2\n" }))).toEqual([]);
    expect(fields(plan([], { view: v, defaultMounts: true }))).toEqual(["/dev/xvdb /mnt auto defaults,nofail 0 2"]);
  });

  it("skips, with a note, ephemeral names the datasource does not map and devices the user's fstab already has", () => {
    const p = plan([["ephemeral0", "/mnt"], ["/dev/vdb", "/data"], ["tmpfs", "/run/x", "tmpfs"]], { view: view(["/dev/vdb"]), fstab: "# mine\n/dev/vdb /srv ext4 defaults 0 2\n" });
    expect(fields(p)).toEqual(["tmpfs /run/x tmpfs defaults,nofail 0 2"]);
    expect(p.errors).toEqual([]);
    expect(p.notes.join("\n")).toMatch(/mounts entry 1 \(ephemeral0 on \/mnt\): skipped: the datasource's block-device-mapping has no ephemeral0/);
    expect(p.notes.join("\n")).toMatch(/mounts entry 2 \(\/dev\/vdb on \/data\): skipped: \/etc\/fstab already has a line for \/dev\/vdb \(\/dev\/vdb \/srv ext4 defaults 0 2\)/);
  });

  it("reports each bad entry by its number and what to do, and applies the others", () => {
    const p = plan([
      "/dev/vdb /data ext4",
      { device: "/dev/vdb" },
      [],
      ["a", "/b", "c", "d", "0", "0", "extra"],
      ["/dev/vdc", "data"],
      ["/dev/vdd", "/d", "ext4", "defaults, nofail"],
      ["/dev/vde", "/e", "ext4", "defaults", "zero", "2"],
      ["/dev/vdf", "/f", "ext4", { opts: 1 }],
      [null, "/g"],
      ["#x", "/h"],
      ["/dev/vdi", "/i\nx"],
      ["/dev/vdj", ""],
      ["tmpfs", "/ok", "tmpfs", "size=1m"],
    ]);
    expect(fields(p)).toEqual(["tmpfs /ok tmpfs size=1m 0 2"]);
    const e = p.errors;
    expect(e).toHaveLength(12);
    expect(e[0]).toMatch(/^mounts entry 1 is string "\/dev\/vdb \/data ext4", not a list: write it as \[device, mount point/);
    expect(e[1]).toMatch(/^mounts entry 2 is a mapping, not a list/);
    expect(e[2]).toMatch(/^mounts entry 3 has 0 fields/);
    expect(e[3]).toMatch(/^mounts entry 4 has 7 fields/);
    expect(e[4]).toMatch(/^mounts entry 5 \(\/dev\/vdc on data\): the mount point "data" is not an absolute path \(write it like \/data\); skipped$/);
    expect(e[5]).toMatch(/entry 6 .*field 4 "defaults, nofail" contains a blank/);
    expect(e[6]).toMatch(/entry 7 .*field 5 "zero" is not a number/);
    expect(e[7]).toMatch(/^mounts entry 8: field 4 is a mapping/);
    expect(e[8]).toMatch(/^mounts entry 9 has no device/);
    expect(e[9]).toMatch(/entry 10 .*starts with #/);
    expect(e[10]).toMatch(/entry 11 .*line break/);
    expect(e[11]).toMatch(/entry 12 .*field 2 is empty/);
  });

  it("a mounts value that is not a list, and mount_default_fields that are not six values", () => {
    expect(plan("sdb /data").errors[0]).toMatch(/^mounts is string "sdb \/data": it must be a list of entries/);
    for (const bad of ["auto", [null, null, "auto"], [null, null, "auto", { a: 1 }, "0", "2"]]) {
      const d = parseDefaultFields(bad, DEFAULTS);
      expect(d.fields).toBe(DEFAULTS);
      expect(d.error).toMatch(/^mount_default_fields .*: it must be a list of 6 values .*; the built-in defaults \(auto defaults,nofail 0 2\) are used$/);
    }
  });

  it("swap entries may name none as their mount point; blanks in paths are octal-escaped", () => {
    const p = plan([["/dev/vdb2", "none", "swap", "sw", "0", "0"], ["/srv/my disk.img", "/mnt/my data", "ext4", "loop"]]);
    expect(p.errors).toEqual([]);
    expect(p.lines.map((l) => ownedLine(l.fields))).toEqual(["/dev/vdb2\tnone\tswap\tsw,comment=cloudconfig\t0\t0", "/srv/my\\040disk.img\t/mnt/my\\040data\text4\tloop,comment=cloudconfig\t0\t2"]);
  });
});

describe("rewriting /etc/fstab", () => {
  const user = "# /etc/fstab: static file system information.\nUUID=abc / ext4 errors=remount-ro 0 1\n\n/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n";

  it("keeps the user's lines in place and appends the owned ones", () => {
    const first = renderFstab(user, ["/dev/vdb\t/data\text4\tdefaults,comment=cloudconfig\t0\t2"]);
    expect(first).toBe(`${user}/dev/vdb\t/data\text4\tdefaults,comment=cloudconfig\t0\t2\n`);
    // A rerun replaces only the owned lines, wherever they were.
    const edited = first + "tmpfs /added-later tmpfs defaults 0 0\n";
    const second = renderFstab(edited, ["/dev/vdc\t/other\text4\tdefaults,comment=cloudconfig\t0\t2"]);
    expect(second).toBe(`${user}tmpfs /added-later tmpfs defaults 0 0\n/dev/vdc\t/other\text4\tdefaults,comment=cloudconfig\t0\t2\n`);
    expect(ownedLines(second)).toEqual(["/dev/vdc\t/other\text4\tdefaults,comment=cloudconfig\t0\t2"]);
    expect(renderFstab(second, [])).toBe(`${user}tmpfs /added-later tmpfs defaults 0 0\n`);
  });

  it("writes a file that did not exist, and adds the newline a user's last line lacks", () => {
    expect(renderFstab("", ["a\tb\tc\td,comment=cloudconfig\t0\t0"])).toBe("a\tb\tc\td,comment=cloudconfig\t0\t0\n");
    expect(renderFstab("UUID=x / ext4 defaults 0 1", ["a"])).toBe("UUID=x / ext4 defaults 0 1\na\n");
  });
});
