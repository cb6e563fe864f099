// Real block devices for tests: image files on loop devices, partitioned with
// sfdisk/sgdisk, with filesystems made by mkfs, mounted. No udev runs on the
// test machines, so partition nodes come from `partx -a`. Everything made is
// undone by cleanup() (unmount, detach, remove), which tests call in finally.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], timeout: 120_000 });
}

/** Null when loop devices work here, else why not (the tests that need them skip with it). */
export function loopUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "loop device tests need root";
  for (const tool of ["losetup", "partx", "sfdisk", "mkfs.ext4"]) if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  const dir = mkdtempSync(join(tmpdir(), "sprout-loopcheck-"));
  try {
    execFileSync("truncate", ["-s", "1M", join(dir, "probe.img")]);
    const r = spawnSync("losetup", ["--find", "--show", join(dir, "probe.img")], { encoding: "utf8" });
    if (r.status !== 0) return `cannot attach a loop device: ${r.stderr.trim()}`;
    spawnSync("losetup", ["-d", r.stdout.trim()]);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Online ext4 resize needs CAP_SYS_RESOURCE, which some containers drop (this machine's does). */
export function hasCapSysResource(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? (BigInt("0x" + m[1]) & (1n << 24n)) !== 0n : false;
}

export interface Disk {
  image: string;
  /** /dev/loopN */
  loop: string;
  /** /dev/loopNp1, ... in partition order. */
  parts: string[];
}

/**
 * Loop devices, their partitions and the page cache of block devices are one
 * per machine: two test files growing, relabelling and mounting loop devices at
 * once made each other flaky (a checker reading a stale superblock, a disk
 * "busy" with another file's partition). A Scratch holds this lock from
 * creation to cleanup, so loop device tests run one at a time (two test runs at
 * once share the loop devices too).
 */
const LOCK = join(tmpdir(), "sprout-loop-tests.lock");
const pause = new Int32Array(new SharedArrayBuffer(4));

function lockLoopDevices(): void {
  for (let waited = 0; ; waited += 100) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(LOCK, "pid"), "utf8")) || 0;
      } catch {
        // not written yet: the holder is between mkdir and writing its pid
      }
      let alive = true;
      try {
        if (owner > 0) process.kill(owner, 0);
      } catch {
        alive = false;
      }
      // A holder that died (killed test run) or one that takes absurdly long does not block forever.
      if (!alive || waited > 600_000) rmSync(LOCK, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 100);
    }
  }
}

export class Scratch {
  readonly dir: string;
  private loops: string[] = [];
  private mounts: string[] = [];

  constructor() {
    lockLoopDevices();
    this.dir = mkdtempSync(join(tmpdir(), "sprout-disk-"));
  }

  /**
   * A disk image of `sizeMiB` on a loop device. `table` partitions it: sizes in MiB
   * (null = the rest of the disk). The partition nodes are created with partx.
   */
  disk(name: string, sizeMiB: number, table: { kind: "mbr" | "gpt"; parts: Array<number | null> } | null = null): Disk {
    const image = join(this.dir, `${name}.img`);
    sh(["truncate", "-s", `${sizeMiB}M`, image]);
    if (table?.kind === "mbr") sh(["sfdisk", "--quiet", image], "label: dos\n" + table.parts.map((s) => (s === null ? ",,L\n" : `,${s}M,L\n`)).join(""));
    if (table?.kind === "gpt") {
      const args = table.parts.flatMap((s, i) => ["-n", `${i + 1}:0:${s === null ? "0" : `+${s}M`}`, "-t", `${i + 1}:8300`]);
      sh(["sgdisk", ...args, image]);
    }
    const loop = sh(["losetup", "--find", "--show", "--partscan", image]).trim();
    this.loops.push(loop);
    const parts: string[] = [];
    if (table) {
      spawnSync("partx", ["-a", loop]);
      for (let i = 1; i <= table.parts.length; i++) {
        const p = `${loop}p${i}`;
        if (!existsSync(p)) throw new Error(`partition node ${p} did not appear after partx -a`);
        parts.push(p);
      }
    }
    return { image, loop, parts };
  }

  /** Makes the image file bigger and tells the loop device (the disk of a resized cloud volume). */
  enlarge(d: Disk, sizeMiB: number): void {
    sh(["truncate", "-s", `${sizeMiB}M`, d.image]);
    sh(["losetup", "--set-capacity", d.loop]);
  }

  mkfs(dev: string, fs: "ext4" | "xfs" | "btrfs", label?: string): void {
    if (fs === "ext4") sh(["mkfs.ext4", "-q", "-F", ...(label ? ["-L", label] : []), dev]);
    else if (fs === "xfs") sh(["mkfs.xfs", "-q", "-f", ...(label ? ["-L", label] : []), dev]);
    else sh(["mkfs.btrfs", "-q", "-f", ...(label ? ["-L", label] : []), dev]);
  }

  mount(dev: string, at: string, opts: string[] = []): void {
    sh(["mount", ...opts, dev, at]);
    this.mounts.push(at);
  }

  /** Unmounts `at` in cleanup(): for mounts the code under test made. */
  track(at: string): void {
    this.mounts.push(at);
  }

  umount(at: string): void {
    sh(["umount", at]);
    this.mounts = this.mounts.filter((m) => m !== at);
  }

  /**
   * Waits until no mount namespace on the machine still has `dev` mounted. A namespace
   * made while it was mounted (another test's `unshare --mount` chroot, running in
   * parallel) holds a copy of the mount, so the filesystem is not really unmounted (an
   * xfs log stays dirty) until that namespace ends. Bounded: throws after `timeoutMs`.
   */
  static waitUntilUnmountedEverywhere(dev: string, timeoutMs = 60_000): void {
    // By major:minor, and by source device: btrfs shows an anonymous device number instead.
    const majMin = ` ${Scratch.majMin(dev)} `;
    const source = new RegExp(` - \\S+ ${dev.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const holders: string[] = [];
      const seen = new Set<string>();
      for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
          const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
          if (seen.has(ns)) continue;
          seen.add(ns);
          const mounts = readFileSync(`/proc/${pid}/mountinfo`, "utf8");
          if (mounts.includes(majMin) || source.test(mounts)) holders.push(pid);
        } catch {
          // the process ended meanwhile
        }
      }
      if (holders.length === 0) return;
      if (Date.now() > until) throw new Error(`${dev} is still mounted in the mount namespace of pid ${holders.join(", ")} after ${timeoutMs / 1000} s`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }

  /** major:minor of a block device, as mountinfo shows it. */
  static majMin(dev: string): string {
    return readFileSync(`/sys/class/block/${dev.replace("/dev/", "")}/dev`, "utf8").trim();
  }

  cleanup(): void {
    for (const m of this.mounts.reverse()) if (spawnSync("umount", [m]).status !== 0) spawnSync("umount", ["-l", m]);
    for (const l of this.loops.reverse()) {
      spawnSync("partx", ["-d", l]);
      spawnSync("losetup", ["-d", l]);
    }
    this.mounts = [];
    this.loops = [];
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(LOCK, { recursive: true, force: true });
  }
}
