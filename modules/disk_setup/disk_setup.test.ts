// disk_setup and fs_setup: the layouts and choices worked out without a disk, then the
// module on real loop devices (sfdisk, blkid, mkfs of this machine), run as on the
// running system. It acts only on the loop devices each test makes and names.
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { createHost } from "../../agent/host";
import { moduleContext } from "../../test/helpers/module-context";
import { loopUnavailable, Scratch, sh } from "../../test/helpers/loop";
import { tempRoot } from "../../test/helpers/target";
import { diskSetup } from ".";
import { findDeviceNode, mkfsArgv, parseFsDefinition, type FsDefinition } from "./fs";
import { GPT_TYPES, layoutMatches, parseDiskDefinition, parseSfdiskJson, sfdiskScript, type DiskDefinition } from "./layout";

describe("disk_setup layouts (no disk)", () => {
  it("makes cloud-init's sizes: each partition its percent of the disk, the last the rest", () => {
    const def = parseDiskDefinition({ table_type: "mbr", layout: [33, [33, 82], 34] }, "disk_setup.x") as DiskDefinition;
    expect(sfdiskScript(def, 1_000_000)).toBe("label: dos\nsize=330000, type=83\nsize=330000, type=82\ntype=83\n");
    const gpt = parseDiskDefinition({ table_type: "gpt", layout: [[50, 8200], 50] }, "disk_setup.x") as DiskDefinition;
    expect(sfdiskScript(gpt, 1000)).toBe(`label: gpt\nsize=500, type=${GPT_TYPES["8200"]}\ntype=${GPT_TYPES["8300"]}\n`);
    expect(sfdiskScript(parseDiskDefinition({ layout: true }, "d") as DiskDefinition, 1000)).toBe("label: dos\ntype=83\n");
    // cloud-init's documented swap disk: an MBR id on GPT is taken as its GPT code (82 -> 8200)
    expect(sfdiskScript(parseDiskDefinition({ table_type: "gpt", layout: [[100, 82]] }, "d") as DiskDefinition, 1000)).toBe(`label: gpt\ntype=${GPT_TYPES["8200"]}\n`);
  });

  it("refuses definitions that cannot be made, saying what to write", () => {
    const err = (raw: unknown) => (parseDiskDefinition(raw, "disk_setup.vdb") as { error: string }).error;
    expect(err({ table_type: "lvm", layout: true })).toBe('disk_setup.vdb.table_type "lvm" is not mbr or gpt');
    expect(err({ layout: [60, 60] })).toMatch(/adds up to 120%/);
    expect(err({ layout: [20, 20, 20, 20, 20] })).toMatch(/an MBR table takes 4/);
    expect(err({ table_type: "gpt", layout: [[50, "zz99"], 50] })).toMatch(/not a GPT type sprout knows/);
    expect(err({ layout: [[50]] })).toMatch(/layout\[0\] must be a size in percent/);
    expect(err("yes")).toMatch(/must be a mapping/);
    expect(parseDiskDefinition({ layout: false }, "d")).toEqual({ tableType: "mbr", layout: null, overwrite: false });
  });

  it("knows a table that already is the layout asked for (count, and the types given)", () => {
    const present = parseSfdiskJson(JSON.stringify({ partitiontable: { label: "dos", partitions: [{ type: "83" }, { type: "82" }] } }));
    expect(layoutMatches(parseDiskDefinition({ layout: [50, [50, 82]] }, "d") as DiskDefinition, present)).toBe(true);
    expect(layoutMatches(parseDiskDefinition({ layout: [50, [50, 83]] }, "d") as DiskDefinition, present)).toBe(false);
    expect(layoutMatches(parseDiskDefinition({ layout: true }, "d") as DiskDefinition, present)).toBe(true);
    expect(layoutMatches(parseDiskDefinition({ layout: true, table_type: "gpt" }, "d") as DiskDefinition, present)).toBe(false);
    expect(layoutMatches(parseDiskDefinition({ layout: true }, "d") as DiskDefinition, null)).toBe(false);
  });
});

describe("fs_setup choices (no disk)", () => {
  const fs = (raw: Record<string, unknown>) => parseFsDefinition({ device: "/dev/vdb", filesystem: "ext4", ...raw }, "fs_setup[0]") as FsDefinition;
  const disk = { path: "/dev/vdb", type: "disk", fstype: "", label: "" };

  it("partition auto: reuses a partition with that label and type, else the first without a filesystem", () => {
    const entries = [disk, { path: "/dev/vdb1", type: "part", fstype: "ext4", label: "other" }, { path: "/dev/vdb2", type: "part", fstype: "", label: "" }];
    expect(findDeviceNode("/dev/vdb", entries, fs({ label: "data", partition: "auto" }))).toEqual({ device: "/dev/vdb2", reuse: false });
    expect(findDeviceNode("/dev/vdb", entries, fs({ label: "other", partition: "auto" }))).toEqual({ device: "/dev/vdb1", reuse: true });
    // any: a matching type is enough
    expect(findDeviceNode("/dev/vdb", entries, fs({ label: "data", partition: "any" }))).toEqual({ device: "/dev/vdb1", reuse: true });
    // an unpartitioned, empty disk is used whole; a full one gives nothing
    expect(findDeviceNode("/dev/vdb", [disk], fs({ partition: "auto" }))).toEqual({ device: "/dev/vdb", reuse: false });
    expect(findDeviceNode("/dev/vdb", [disk, { path: "/dev/vdb1", type: "part", fstype: "xfs", label: "" }], fs({ partition: "auto" }))).toEqual({ device: null, reuse: false });
    expect(findDeviceNode("/dev/vdb", [disk, { path: "/dev/vdb1", type: "part", fstype: "ntfs", label: "" }], fs({ partition: "any", replace_fs: "ntfs" }))).toEqual({ device: "/dev/vdb1", reuse: false });
  });

  it("builds mkfs's command line: label, force flag, extra options", () => {
    expect(mkfsArgv("/sbin/mkfs.ext4", fs({ label: "data", extra_opts: ["-m", "0"] }), "/dev/vdb1", false)).toEqual(["/sbin/mkfs.ext4", "-L", "data", "-m", "0", "/dev/vdb1"]);
    expect(mkfsArgv("/sbin/mkfs.xfs", fs({ filesystem: "xfs" }), "/dev/vdb", true)).toEqual(["/sbin/mkfs.xfs", "-f", "/dev/vdb"]);
    expect((parseFsDefinition({ filesystem: "ext4" }, "fs_setup[1]") as { error: string }).error).toMatch(/has no device/);
    expect((parseFsDefinition({ device: "/dev/vdb", partition: "first" }, "fs_setup[1]") as { error: string }).error).toMatch(/not auto, any, none or a partition number/);
  });

  it("touches no disk under --root (an image being built)", async () => {
    const root = tempRoot();
    try {
      const res = await diskSetup.run({ disk_setup: { "/dev/vdb": { layout: true } }, fs_setup: [{ device: "/dev/vdb", filesystem: "ext4" }] }, moduleContext(root, "network"));
      expect(res).toEqual({ status: "skipped", detail: "the target is not the running system: its disks are not this machine's, so none is touched", errors: [] });
    } finally {
      root.cleanup();
    }
  });
});

const noLoop = loopUnavailable();

describe.skipIf(noLoop !== null)(`disk_setup and fs_setup on loop devices${noLoop ? ` (${noLoop})` : ""}`, () => {
  let scratch: Scratch | null = null;
  afterEach(() => {
    scratch?.cleanup();
    scratch = null;
  });
  const run = (cfg: Record<string, unknown>) => diskSetup.run(cfg, moduleContext(createHost({ root: "/", logFile: null }), "network"));
  const blkid = (dev: string) => spawnSync("blkid", ["-p", "-o", "export", dev], { encoding: "utf8" }).stdout;
  const table = (dev: string) => JSON.parse(sh(["sfdisk", "--json", dev])).partitiontable;

  it("partitions an empty disk (MBR, a swap partition), makes ext4 and swap by label, and does nothing the second time", async () => {
    scratch = new Scratch();
    const d = scratch.disk("data", 64);
    const cfg = {
      device_aliases: { datadisk: d.loop },
      disk_setup: { datadisk: { table_type: "mbr", layout: [50, [50, 82]], overwrite: false } },
      fs_setup: [
        { label: "data", filesystem: "ext4", device: "datadisk", partition: "auto" },
        { label: "swap", filesystem: "swap", device: "datadisk", partition: 2 },
      ],
    };
    const res = await run(cfg);
    expect(res.errors).toEqual([]);
    expect(res.status).toBe("changed");
    const t = table(d.loop);
    expect(t.label).toBe("dos");
    expect(t.partitions.map((p: { type: string }) => p.type)).toEqual(["83", "82"]);
    expect(blkid(`${d.loop}p1`)).toMatch(/^LABEL=data$/m);
    expect(blkid(`${d.loop}p1`)).toMatch(/^TYPE=ext4$/m);
    expect(blkid(`${d.loop}p2`)).toMatch(/^TYPE=swap$/m);
    const uuid = /^UUID=(.*)$/m.exec(blkid(`${d.loop}p1`))![1];
    const again = await run(cfg);
    expect(again.errors).toEqual([]);
    expect(again.status).toBe("unchanged");
    expect(/^UUID=(.*)$/m.exec(blkid(`${d.loop}p1`))![1]).toBe(uuid);
  });

  it("cloud-init's documented example (aliases pointed at two loop disks): GPT halves, a cmd of its own, a swap disk", async () => {
    scratch = new Scratch();
    const a = scratch.disk("alias", 64);
    const b = scratch.disk("swapdisk", 32);
    const res = await run({
      device_aliases: { my_alias: a.loop, swap_disk: b.loop },
      disk_setup: { my_alias: { table_type: "gpt", layout: [50, 50], overwrite: true }, swap_disk: { table_type: "gpt", layout: [[100, 82]], overwrite: true } },
      fs_setup: [
        { label: "fs1", filesystem: "ext4", device: "my_alias.1", cmd: "mkfs -t %(filesystem)s -L %(label)s %(device)s" },
        { label: "fs2", device: "my_alias.2", filesystem: "ext4" },
        { label: "swap", device: "swap_disk.1", filesystem: "swap" },
      ],
    });
    expect(res.errors).toEqual([]);
    expect(table(a.loop).partitions).toHaveLength(2);
    expect(table(b.loop).partitions.map((p: { type: string }) => p.type)).toEqual([GPT_TYPES["8200"]]);
    expect(blkid(`${a.loop}p1`)).toMatch(/^LABEL=fs1$/m);
    expect(blkid(`${a.loop}p2`)).toMatch(/^LABEL=fs2$/m);
    expect(blkid(`${b.loop}p1`)).toMatch(/^TYPE=swap$/m);
  });

  it("GPT with one partition (layout: true)", async () => {
    scratch = new Scratch();
    const d = scratch.disk("gpt", 32);
    const res = await run({ disk_setup: { [d.loop]: { table_type: "gpt", layout: true } }, fs_setup: [{ device: d.loop, partition: 1, filesystem: "ext4", label: "one" }] });
    expect(res.errors).toEqual([]);
    expect(table(d.loop)).toMatchObject({ label: "gpt", partitions: [{ type: GPT_TYPES["8300"] }] });
    expect(blkid(`${d.loop}p1`)).toMatch(/^LABEL=one$/m);
  });

  it("leaves a disk with data alone: no new table over a filesystem, no mkfs over another filesystem", async () => {
    scratch = new Scratch();
    const d = scratch.disk("used", 32);
    scratch.mkfs(d.loop, "ext4", "precious");
    const res = await run({ disk_setup: { [d.loop]: { layout: true } }, fs_setup: [{ device: d.loop, partition: "none", filesystem: "xfs", label: "new" }] });
    expect(res.detail).toContain(`${d.loop} has a ext4 filesystem labelled precious: not partitioned (overwrite: true replaces it)`);
    expect(res.errors).toEqual([`fs_setup[0]: ${d.loop} has a ext4 filesystem labelled precious; not formatted (set overwrite: true to replace it, or name another device)`]);
    expect(blkid(d.loop)).toMatch(/^LABEL=precious$/m);
    // overwrite: true is the user saying the data may go
    const forced = await run({ fs_setup: [{ device: d.loop, partition: "none", filesystem: "ext4", label: "new", overwrite: true }] });
    expect(forced.errors).toEqual([]);
    expect(blkid(d.loop)).toMatch(/^LABEL=new$/m);
  });

  it("layout: remove wipes the table and the partitions' filesystems", async () => {
    scratch = new Scratch();
    const d = scratch.disk("wipe", 32, { kind: "gpt", parts: [null] });
    scratch.mkfs(d.parts[0]!, "ext4", "old");
    const res = await run({ disk_setup: { [d.loop]: { layout: "remove" } } });
    expect(res).toMatchObject({ status: "changed", errors: [] });
    expect(spawnSync("sfdisk", ["--json", d.loop]).status).not.toBe(0);
    expect(blkid(d.loop)).toBe("");
  });

  it("names what it cannot do: a device that does not exist, a partition, a missing mkfs", async () => {
    scratch = new Scratch();
    const d = scratch.disk("parted", 32, { kind: "mbr", parts: [null] });
    const res = await run({
      disk_setup: { "/dev/sprout-no-such-disk": { layout: true }, [d.parts[0]!]: { layout: true }, ephemeral0: { layout: true } },
      fs_setup: [{ device: d.loop, partition: 1, filesystem: "nosuchfs" }, { device: d.loop, partition: 3, filesystem: "ext4" }],
    });
    expect(res.errors).toEqual([
      "disk_setup./dev/sprout-no-such-disk: /dev/sprout-no-such-disk is not a block device here; not partitioned",
      `disk_setup.${d.parts[0]}: ${d.parts[0]} is a partition, not a whole disk; not partitioned`,
      "fs_setup[0]: cannot make nosuchfs: no mkfs.nosuchfs here (install its tools, e.g. xfsprogs or btrfs-progs); no filesystem made",
      `fs_setup[1]: ${d.loop} has no partition 3; no filesystem made`,
    ]);
    // A seed written for EC2 names ephemeral0; on this (NoCloud) machine it is skipped, not an error.
    expect(res.detail).toContain("disk_setup.ephemeral0: the datasource names no such device (ephemeral0); skipped");
  });
});
