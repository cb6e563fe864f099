// The mounts module against a temporary target root (--root): the fstab it
// writes, the mount points it makes, a real swap file (fallocate and mkswap on
// a file under the root), and that nothing is mounted or swapped on when the
// target is not the running system. Real devices and a real mount -a:
// loop.test.ts.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CloudConfig, ModuleContext } from "../../agent/types";
import { formatProblem, validateCloudConfig } from "../../agent/schema/validate";
import { moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { mounts } from ".";

let root: TempRoot | null = null;
afterEach(() => {
  root?.cleanup();
  root = null;
});

const USER_FSTAB = "# /etc/fstab: static file system information.\nUUID=2f1c / ext4 errors=remount-ro 0 1\n/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n";

function setup(files: Record<string, string> = { "etc/fstab": USER_FSTAB }) {
  root = tempRoot(files);
  const rec = recordingHost(root.host());
  const ctx = moduleContext(root, { host: rec.host, stage: "network" });
  return { root, rec, ctx };
}
const fstabOf = (r: TempRoot) => readFileSync(join(r.dir, "etc/fstab"), "utf8");
const run = (cfg: CloudConfig, ctx: ModuleContext) => mounts.run(cfg, ctx);

describe("mounts on a --root target", () => {
  it("does nothing, and reads nothing, without its keys", async () => {
    const { root, rec, ctx } = setup({});
    expect(await run({ runcmd: ["true"] }, ctx)).toEqual({ status: "skipped", detail: "no mounts or swap" });
    // A NoCloud meta-data's block-device-mapping is not EC2's: no default mounts from it.
    const nocloud = moduleContext(root, { host: rec.host, stage: "network", metaData: { "block-device-mapping": { ephemeral0: "sdb" } } });
    expect((await run({}, nocloud)).status).toBe("skipped");
    expect(rec.runs).toEqual([]);
    expect(existsSync(join(root.dir, "etc/fstab"))).toBe(false);
  });

  it("writes cloud-init's documented example after the user's lines, makes the mount points, runs nothing", async () => {
    const { root, rec, ctx } = setup();
    const res = await run(
      {
        mounts: [
          ["/dev/ephemeral0", "/mnt", "auto", "defaults,noexec"],
          ["sdc", "/opt/data"],
          ["xvdh", "/opt/data", "auto", "defaults,nofail", "0", "0"],
          ["tmpfs", "/var/scratch", "tmpfs", "size=64m,mode=1777", 0, 0],
        ],
        mount_default_fields: [null, null, "auto", "defaults,nofail", "0", "2"],
      },
      ctx,
    );
    expect(res.errors).toEqual([]);
    expect(res.status).toBe("changed");
    expect(fstabOf(root)).toBe(
      USER_FSTAB +
        "/dev/ephemeral0\t/mnt\tauto\tdefaults,noexec,comment=cloudconfig\t0\t2\n" +
        "/dev/sdc\t/opt/data\tauto\tdefaults,nofail,comment=cloudconfig\t0\t2\n" +
        "/dev/xvdh\t/opt/data\tauto\tdefaults,nofail,comment=cloudconfig\t0\t0\n" +
        "tmpfs\t/var/scratch\ttmpfs\tsize=64m,mode=1777,comment=cloudconfig\t0\t0\n",
    );
    for (const d of ["mnt", "opt/data", "var/scratch"]) expect(statSync(join(root.dir, d)).isDirectory()).toBe(true);
    expect(res.detail).toMatch(/not mounted or swapped on: the target is not the running system/);
    expect(rec.runs).toEqual([]);
  });

  it("a rerun replaces only its own lines; the same config again changes nothing", async () => {
    const { root, ctx } = setup();
    await run({ mounts: [["vdb", "/data", "ext4"]] }, ctx);
    // The user adds a line of their own after the boot.
    writeFileSync(join(root.dir, "etc/fstab"), fstabOf(root) + "tmpfs /mine tmpfs defaults 0 0\n");
    const res = await run({ mounts: [["vdc", "/other", "xfs", "defaults,nofail"]] }, ctx);
    expect(res.status).toBe("changed");
    expect(fstabOf(root)).toBe(`${USER_FSTAB}tmpfs /mine tmpfs defaults 0 0\n/dev/vdc\t/other\txfs\tdefaults,nofail,comment=cloudconfig\t0\t2\n`);
    const before = statSync(join(root.dir, "etc/fstab"));
    const again = await run({ mounts: [["vdc", "/other", "xfs", "defaults,nofail"]] }, ctx);
    expect(again.status).toBe("unchanged");
    expect(statSync(join(root.dir, "etc/fstab")).ino).toBe(before.ino);
    // Entries that only remove leave the user's lines alone and take sprout's away.
    await run({ mounts: [["vdc"]] }, ctx);
    expect(fstabOf(root)).toBe(`${USER_FSTAB}tmpfs /mine tmpfs defaults 0 0\n`);
  });

  it("uses systemd's default options when the image boots with systemd, naming sprout's unit when it is installed", async () => {
    const { root, ctx } = setup({ "usr/lib/systemd/systemd": "", "lib/systemd/system/sprout-network.service": "[Unit]\n" });
    await run({ mounts: [["vdb", "/data"]] }, ctx);
    expect(fstabOf(root)).toBe("/dev/vdb\t/data\tauto\tdefaults,nofail,x-systemd.requires=sprout-network.service,_netdev,comment=cloudconfig\t0\t2\n");
  });

  it("bad entries are reported by number, the fstab keeps the user's lines, the good entries are written", async () => {
    const { root, ctx } = setup({ "etc/fstab": USER_FSTAB, "srv/taken": "a file" });
    const res = await run({ mounts: ["vdb /data", ["vdc", "data"], ["vdd", "/srv/taken"], ["vde", "/ok", "ext4"]], swap: { filename: "/swapfile", size: "lots" } }, ctx);
    expect(res.errors).toEqual([
      expect.stringMatching(/^mounts entry 1 is string "vdb \/data", not a list/),
      expect.stringMatching(/^mounts entry 2 \(vdc on data\): the mount point "data" is not an absolute path/),
      'swap: size "lots" is not a size: write auto, a number of bytes, or a number with K, M, G or T, like 2G or 512M; no swap file made',
      "mounts entry 3 (vdd on /srv/taken): cannot make the mount point /srv/taken (it is a file); not written (choose another mount point)",
    ]);
    expect(fstabOf(root)).toBe(`${USER_FSTAB}/dev/vde\t/ok\text4\tdefaults,nofail,comment=cloudconfig\t0\t2\n`);
    expect(readFileSync(join(root.dir, "srv/taken"), "utf8")).toBe("a file");
  });

  it("an /etc/fstab that cannot be read or written: a clear error, nothing half-done", async () => {
    const dirFstab = setup({ "etc/fstab/oops": "a directory where the file should be" });
    expect(await run({ mounts: [["vdb", "/data"]] }, dirFstab.ctx)).toMatchObject({ status: "unchanged", errors: [expect.stringMatching(/^cannot read \/etc\/fstab \(.*\); nothing changed \(fix the file and run the module again\)$/)] });
    root!.cleanup();
    const { root: r, ctx } = setup();
    // A mount point that climbs out of the root is refused, the rest written.
    const res = await run({ mounts: [["vdb", "/../../escape"], ["vdc", "/ok"]] }, ctx);
    expect(res.errors).toEqual([expect.stringMatching(/^mounts entry 1 \(vdb on \/\.\.\/\.\.\/escape\): cannot make the mount point .*; not written/)]);
    expect(fstabOf(r)).toBe(`${USER_FSTAB}/dev/vdc\t/ok\tauto\tdefaults,nofail,comment=cloudconfig\t0\t2\n`);
  });

  it("EC2: ephemeral0 and swap come from the meta-data's block-device-mapping, also as default mounts", async () => {
    const { root, rec } = setup({});
    const ctx = { ...moduleContext(root, { host: rec.host, stage: "network", metaData: { "block-device-mapping": { ami: "/dev/xvda", ephemeral0: "sdb", swap: "sdc", root: "/dev/xvda" } } }), datasource: "Ec2" };
    expect((await run({}, ctx)).status).toBe("changed");
    expect(fstabOf(root)).toBe("/dev/sdb\t/mnt\tauto\tdefaults,nofail,comment=cloudconfig\t0\t2\n/dev/sdc\tnone\tswap\tsw,comment=cloudconfig\t0\t0\n");
    await run({ mounts: [["ephemeral0", "/scratch", "ext4", "defaults,noatime"], ["swap"]] }, ctx);
    expect(fstabOf(root)).toBe("/dev/sdb\t/scratch\text4\tdefaults,noatime,comment=cloudconfig\t0\t2\n");
  });
});

describe("sprout schema", () => {
  const problems = (text: string) => validateCloudConfig(text, { file: "user-data", requireHeader: true }).filter((p) => p.severity === "error").map(formatProblem);

  it("accepts cloud-init's documented examples and the forms people write", () => {
    expect(problems("#cloud-config\nmounts:\n  - [ /dev/ephemeral0, /mnt, auto, \"defaults,noexec\" ]\n  - [ sdc, /opt/data ]\n  - [ xvdh, /opt/data, auto, \"defaults,nofail\", \"0\", \"0\" ]\n  - [ tmpfs, /tmp, tmpfs, \"size=1g\", 0, 0 ]\n  - [ swap, null ]\nmount_default_fields: [None, None, auto, \"defaults,nofail\", \"0\", \"2\"]\nswap:\n  filename: /my/swapfile\n  size: auto\n  maxsize: 10485760\n")).toEqual([]);
    expect(problems("#cloud-config\nswap: {filename: /swapfile, size: 2G, maxsize: 2G}\n")).toEqual([]);
  });

  it("names the line of an entry that is not a list, a field that is a mapping, a size that does not parse", () => {
    const p = problems("#cloud-config\nmounts:\n  - sdb /data\n  - [vdb, /data, ext4, {a: 1}]\nswap: {size: 2 gigs}\nmount_default_fields: [a, b]\n");
    expect(p).toHaveLength(4);
    expect(p[0]).toMatch(/^user-data:3:5: mounts\[0\]: expected a list/);
    expect(p[1]).toMatch(/^user-data:4:24: mounts\[1\]\[3\]: expected a string or an integer or null, got a mapping/);
    expect(p[2]).toMatch(/^user-data:5:\d+: swap.size: /);
    expect(p[3]).toMatch(/^user-data:6:1: mount_default_fields: must NOT have fewer than 6 items/);
  });
});

describe("swap files on a --root target (real fallocate and mkswap)", () => {
  const swapHeader = (p: string) => readFileSync(p).subarray(4086, 4096).toString("latin1");

  it("makes the file: 0600, a swap area of the size asked, an fstab line; not switched on", async () => {
    const { root, rec, ctx } = setup();
    // fallocate and mkswap on a file under the root are safe to run for real; swapon would not be.
    const realRuns = { ...ctx, host: { ...rec.host, run: root.host().run } };
    const res = await run({ swap: { filename: "/var/swap/swapfile", size: "8M" } }, realRuns);
    expect(res.errors).toEqual([]);
    const file = join(root.dir, "var/swap/swapfile");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).size).toBe(8 * 2 ** 20);
    expect(swapHeader(file)).toBe("SWAPSPACE2");
    expect(existsSync(`${file}.sprout-new`)).toBe(false);
    expect(fstabOf(root)).toBe(`${USER_FSTAB}/var/swap/swapfile\tnone\tswap\tsw,comment=cloudconfig\t0\t0\n`);
    expect(res.detail).toMatch(/\/var\/swap\/swapfile: 8 MiB swap file made/);
    // Again: the swap area is kept as it is, not made anew.
    const inode = statSync(file).ino;
    const again = await run({ swap: { filename: "/var/swap/swapfile", size: "16M" } }, realRuns);
    expect(again.status).toBe("unchanged");
    expect(statSync(file).ino).toBe(inode);
    expect(again.detail).toMatch(/already a swap area \(8 MiB\): kept/);
  });

  it("size auto: from the root's /proc/meminfo and the free space, at most maxsize", async () => {
    const { root, ctx } = setup({ "proc/meminfo": "MemTotal:       2000000 kB\n" });
    const res = await run({ swap: { filename: "/swap.img", size: "auto", maxsize: "4M" } }, { ...ctx, host: root.host() });
    expect(res.errors).toEqual([]);
    expect(statSync(join(root.dir, "swap.img")).size).toBe(4 * 2 ** 20);
    const noMem = setup();
    const r2 = await run({ swap: { size: "auto" } }, { ...noMem.ctx, host: noMem.root.host() });
    expect(r2.errors).toEqual(["swap: size auto needs the machine's memory size from /proc/meminfo, which a --root target does not have; give a size like 2G"]);
    expect(fstabOf(noMem.root)).toBe(USER_FSTAB);
  });

  it("never overwrites a file that is not a swap area, and removes a half-made one from an earlier boot", async () => {
    const { root, ctx } = setup({ "etc/fstab": USER_FSTAB, "swapfile": "precious data\n", "swap.img.sprout-new": "half made" });
    const res = await run({ swap: { filename: "/swapfile", size: "4M" }, mounts: [["vdb", "/data"]] }, { ...ctx, host: root.host() });
    expect(res.errors).toEqual(["swap: /swapfile exists and is not a swap area; not touched (remove it, or choose another filename)"]);
    expect(readFileSync(join(root.dir, "swapfile"), "utf8")).toBe("precious data\n");
    expect(fstabOf(root)).toBe(`${USER_FSTAB}/dev/vdb\t/data\tauto\tdefaults,nofail,comment=cloudconfig\t0\t2\n`);
    await run({ swap: { size: "4M" } }, { ...ctx, host: root.host() });
    expect(existsSync(join(root.dir, "swap.img.sprout-new"))).toBe(false);
    expect(swapHeader(join(root.dir, "swap.img"))).toBe("SWAPSPACE2");
  });

  it("a full disk: fallocate's ENOSPC is reported, no dd fills the disk, nothing is left behind", async () => {
    root = tempRoot({ "etc/fstab": USER_FSTAB });
    const rec = recordingHost(root.host(), { run: (argv) => (argv[0] === "fallocate" ? { code: 1, stderr: Buffer.from("fallocate: fallocate failed: No space left on device") } : {}) });
    const res = await run({ swap: { filename: "/swapfile", size: "4M" }, mounts: [["tmpfs", "/t", "tmpfs"]] }, moduleContext(root, { host: rec.host, stage: "network" }));
    expect(res.errors).toEqual(["swap: the disk holding /swapfile is full (fallocate: exit 1: fallocate: fallocate failed: No space left on device); no swap file made (free space, or set a smaller swap size)"]);
    expect(rec.runs.map((r) => r.argv[0])).toEqual(["fallocate"]);
    expect(existsSync(join(root.dir, "swapfile"))).toBe(false);
    expect(existsSync(join(root.dir, "swapfile.sprout-new"))).toBe(false);
    expect(fstabOf(root)).toBe(`${USER_FSTAB}tmpfs\t/t\ttmpfs\tdefaults,nofail,comment=cloudconfig\t0\t2\n`);
  });

  it("falls back to dd where fallocate is not supported, and removes the file when mkswap fails", async () => {
    root = tempRoot({});
    const rec = recordingHost(root.host(), {
      run: (argv) => (argv[0] === "fallocate" ? { code: 1, stderr: Buffer.from("fallocate: fallocate failed: Operation not supported") } : argv[0] === "mkswap" ? { code: 1, stderr: Buffer.from("mkswap: error: swap area needs to be at least 40 KiB") } : {}),
    });
    const res = await run({ swap: { filename: "/swapfile", size: "2M" } }, moduleContext(root, { host: rec.host, stage: "network" }));
    expect(rec.runs.map((r) => r.argv.join(" ").replace(root!.dir, "ROOT"))).toEqual(["fallocate -l 2M ROOT/swapfile.sprout-new", "dd if=/dev/zero of=ROOT/swapfile.sprout-new bs=1M count=2", "mkswap ROOT/swapfile.sprout-new"]);
    expect(res.errors).toEqual(["swap: mkswap /swapfile.sprout-new failed: mkswap: error: swap area needs to be at least 40 KiB; no swap file made"]);
    expect(existsSync(join(root.dir, "swapfile.sprout-new"))).toBe(false);
    expect(existsSync(join(root.dir, "etc/fstab"))).toBe(false);
  });
});
