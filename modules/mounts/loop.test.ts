// The mounts module with real parts: an ext4 filesystem on a loop device that
// the module's own `mount -a` mounts at a mount point from `mounts:`, a tmpfs,
// and a swap file on a loop-mounted ext4 that is mkswap'd and really switched
// on (then off again). The module runs on "/" in a private mount namespace
// (test/helpers/live-root.ts): /etc is an overlay there and /run a tmpfs,
// so the machine's own /etc/fstab and mounts are never touched. A small
// filesystem that cannot hold the swap file asked for is the full disk.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHost } from "../../agent/host";
import { parseMountinfo } from "../../agent/mountinfo";
import { loopUnavailable, Scratch, sh } from "../../test/helpers/loop";
import { moduleContext } from "../../test/helpers/module-context";
import { runModuleLive, type LiveOutput } from "../../test/helpers/live-root";
import { mounts } from ".";

function unavailable(): string | null {
  const loop = loopUnavailable();
  if (loop) return loop;
  if (spawnSync("unshare", ["--mount", "true"]).status !== 0) return "unshare --mount does not work here";
  for (const tool of ["mkswap", "swapon", "fallocate"]) if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  return null;
}
const why = unavailable();
if (why) console.warn(`mounts loop device tests skipped: ${why}`);
const itLoop = why ? it.skip : it;

let scratch: Scratch | null = null;
afterEach(() => {
  // A driver that died before its swapoff must not leave swap on the machine.
  if (scratch) for (const l of readFileSync("/proc/swaps", "utf8").split("\n").slice(1)) if (l.startsWith(`${scratch.dir}/`)) spawnSync("swapoff", [l.split(/\s+/)[0]!]);
  scratch?.cleanup();
  scratch = null;
});

const mountedAt = (out: LiveOutput, dir: string) => parseMountinfo(out.mountinfo).entries.filter((m) => m.mountPoint === dir);

describe("mounts on the running system (loop devices, a private mount namespace)", () => {
  itLoop("mount -a mounts a real ext4 loop device and a tmpfs from mounts:, keeps and mounts the user's line, switches the swap file on", () => {
    const s = (scratch = new Scratch());
    const data = s.disk("data", 32);
    s.mkfs(data.loop, "ext4", "sproutdata");
    mkdirSync(join(s.dir, "prep"));
    s.mount(data.loop, join(s.dir, "prep"));
    writeFileSync(join(s.dir, "prep/marker"), "on the ext4 loop device\n");
    s.umount(join(s.dir, "prep"));
    // The swap file goes on a filesystem of its own, never on the machine's root.
    const swapDisk = s.disk("swapfs", 48);
    s.mkfs(swapDisk.loop, "ext4");
    mkdirSync(join(s.dir, "swapfs"));
    s.mount(swapDisk.loop, join(s.dir, "swapfs"));
    const m = join(s.dir, "mnt");
    const userLine = `tmpfs ${m}/user tmpfs size=1m 0 0`;
    mkdirSync(`${m}/user`, { recursive: true });
    const out = runModuleLive(s.dir, {
      module: "mounts",
      cfg: {
        mounts: [
          [data.loop, `${m}/data`, "ext4", "defaults,nofail"],
          ["tmpfs", `${m}/scratch`, "tmpfs", "size=4m,mode=1777"],
          ["/dev/sprout-no-such-disk", `${m}/gone`, "ext4", "defaults"],
          ["/dev/sprout-later-disk", `${m}/later`],
        ],
        swap: { filename: `${s.dir}/swapfs/swapfile`, size: "16M" },
      },
      etc: { fstab: `# the user's fstab\n${userLine}\n` },
      systemd: true,
      read: [`${m}/data/marker`],
    });
    expect(out.result.errors).toEqual([
      `mounts entry 3 (/dev/sprout-no-such-disk on ${m}/gone): /dev/sprout-no-such-disk does not exist, and without nofail in its options the next boot would wait for it and stop; not written (add nofail, or attach the disk and boot again)`,
    ]);
    expect(out.result.status).toBe("changed");
    expect(out.fstab).toBe(
      `# the user's fstab\n${userLine}\n` +
        `${data.loop}\t${m}/data\text4\tdefaults,nofail,comment=cloudconfig\t0\t2\n` +
        `tmpfs\t${m}/scratch\ttmpfs\tsize=4m,mode=1777,comment=cloudconfig\t0\t2\n` +
        `/dev/sprout-later-disk\t${m}/later\tauto\tdefaults,nofail,_netdev,comment=cloudconfig\t0\t2\n` +
        `${s.dir}/swapfs/swapfile\tnone\tswap\tsw,comment=cloudconfig\t0\t0\n`,
    );
    expect(out.result.detail).toMatch(/\/dev\/sprout-later-disk does not exist now; written \(nofail\)/);
    // The real mounts, made by the module's mount -a.
    expect(mountedAt(out, `${m}/data`).map((e) => `${e.fsType} ${e.source}`)).toEqual([`ext4 ${data.loop}`]);
    expect(out.read[`${m}/data/marker`]).toBe("on the ext4 loop device\n");
    expect(mountedAt(out, `${m}/scratch`).map((e) => e.fsType)).toEqual(["tmpfs"]);
    expect(mountedAt(out, `${m}/user`).map((e) => e.fsType)).toEqual(["tmpfs"]);
    expect(mountedAt(out, `${m}/gone`)).toEqual([]);
    // The swap file: made, 0600, a swap area, switched on (the driver switched it off again).
    const swapfile = `${s.dir}/swapfs/swapfile`;
    expect(out.swaps.split("\n").some((l) => l.startsWith(`${swapfile} `))).toBe(true);
    expect(statSync(swapfile).mode & 0o777).toBe(0o600);
    expect(readFileSync(swapfile).subarray(4086, 4096).toString("latin1")).toBe("SWAPSPACE2");
    expect(readFileSync("/proc/swaps", "utf8")).not.toContain(swapfile);
    expect(out.result.detail).toMatch(/swapon .*swapfile; mount -a/);
    // systemd "runs" the namespace: told to read the new fstab.
    expect(readFileSync(join(s.dir, "systemctl.calls"), "utf8")).toBe("daemon-reload\n");
    // Nothing of it reached the machine.
    expect(readFileSync("/etc/fstab", "utf8")).not.toContain("comment=cloudconfig");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`${m}/data`);
  });

  itLoop("a mount that fails in mount -a is reported with mount's own words; the fstab is written", () => {
    const s = (scratch = new Scratch());
    const data = s.disk("data", 32);
    s.mkfs(data.loop, "ext4");
    const m = join(s.dir, "mnt");
    const out = runModuleLive(s.dir, { module: "mounts", cfg: { mounts: [[data.loop, `${m}/data`, "vfat", "defaults"]] }, etc: { fstab: "" }, systemd: false, read: [] });
    expect(out.result.errors).toHaveLength(1);
    expect(out.result.errors![0]).toMatch(/^mount -a failed \(exit 32: mount: .*data.*\); the fstab lines are written: fix the entry it names and run `mount -a`$/);
    expect(out.fstab).toBe(`${data.loop}\t${m}/data\tvfat\tdefaults,comment=cloudconfig\t0\t2\n`);
    expect(mountedAt(out, `${m}/data`)).toEqual([]);
    expect(() => readFileSync(join(s.dir, "systemctl.calls"))).toThrow(/ENOENT/);
  });

  itLoop("a partitioned loop disk named without its partition mounts partition 1, as cloud-init; a rerun changes and runs nothing", () => {
    const s = (scratch = new Scratch());
    const disk = s.disk("parted", 48, { kind: "gpt", parts: [24, null] });
    s.mkfs(disk.parts[0]!, "ext4", "first");
    const m = join(s.dir, "mnt");
    const out = runModuleLive(s.dir, { module: "mounts", cfg: { mounts: [[disk.loop, `${m}/p`, "ext4", "defaults,nofail"]] }, etc: { fstab: "" }, systemd: true, read: [], runs: 2 });
    expect(out.results[0]!.errors).toEqual([]);
    expect(out.results[0]!.detail).toMatch(/; mount -a/);
    // The second run: the line is there and mounted, so no mount -a and no reload.
    expect(out.result).toMatchObject({ status: "unchanged", errors: [] });
    expect(out.result.detail).not.toMatch(/mount -a/);
    expect(readFileSync(join(s.dir, "systemctl.calls"), "utf8")).toBe("daemon-reload\n");
    expect(out.fstab).toBe(`${disk.parts[0]}\t${m}/p\text4\tdefaults,nofail,comment=cloudconfig\t0\t2\n`);
    expect(mountedAt(out, `${m}/p`).map((e) => e.source)).toEqual([disk.parts[0]]);
  });

  itLoop("a full disk: a swap file larger than the free space is refused with the numbers; nothing is left", async () => {
    const s = (scratch = new Scratch());
    const small = s.disk("small", 16);
    s.mkfs(small.loop, "ext4");
    const root = join(s.dir, "root");
    mkdirSync(join(root, "srv"), { recursive: true });
    s.mount(small.loop, join(root, "srv"));
    const h = createHost({ root, logFile: null });
    const res = await mounts.run({ swap: { filename: "/srv/swapfile", size: "64M" }, mounts: [["tmpfs", "/t", "tmpfs"]] }, moduleContext(h, "network"));
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatch(/^swap: \/srv\/swapfile needs 64 MiB but \/srv has \d+ MiB free; no swap file made \(free space, or set a smaller swap size\)$/);
    expect(sh(["ls", "-A", join(root, "srv")]).trim()).toBe("lost+found");
    expect(readFileSync(join(root, "etc/fstab"), "utf8")).toBe("tmpfs\t/t\ttmpfs\tdefaults,nofail,comment=cloudconfig\t0\t2\n");
  });
  itLoop("a full disk under /etc: the fstab stays as it was, and the error says so", async () => {
    const s = (scratch = new Scratch());
    const small = s.disk("etc", 8);
    s.mkfs(small.loop, "ext4");
    const root = join(s.dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    s.mount(small.loop, join(root, "etc"));
    const userFstab = "UUID=2f1c / ext4 errors=remount-ro 0 1\n";
    writeFileSync(join(root, "etc/fstab"), userFstab);
    // Every block taken: big writes until the disk is full, then small ones for the rest.
    spawnSync("dd", ["if=/dev/zero", `of=${join(root, "etc/fill")}`, "bs=64k"], { stdio: "ignore" });
    spawnSync("dd", ["if=/dev/zero", `of=${join(root, "etc/fill")}`, "bs=1k", "oflag=append", "conv=notrunc"], { stdio: "ignore" });
    const res = await mounts.run({ mounts: [["tmpfs", "/t", "tmpfs"]] }, moduleContext(createHost({ root, logFile: null }), "network"));
    expect(res.errors).toEqual([expect.stringMatching(/^cannot write \/etc\/fstab \(.*ENOSPC.*\); it is unchanged and nothing was mounted/)]);
    expect(readFileSync(join(root, "etc/fstab"), "utf8")).toBe(userFstab);
    expect(sh(["ls", "-A", join(root, "etc")]).trim().split("\n").sort()).toEqual(["fill", "fstab", "lost+found"]);
  });
});
