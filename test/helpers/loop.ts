// Real block devices for tests: image files on loop devices, partitioned with
// sfdisk/sgdisk, with filesystems made by mkfs, mounted. No udev runs on the
// test machines, so partition nodes come from `partx -a`. Everything made is
// undone by cleanup() (unmount, detach, remove), which tests call in finally.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
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

export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), "sprout-disk-"));
  private loops: string[] = [];
  private mounts: string[] = [];

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

  mkfs(dev: string, fs: "ext4" | "xfs", label?: string): void {
    if (fs === "ext4") sh(["mkfs.ext4", "-q", "-F", ...(label ? ["-L", label] : []), dev]);
    else sh(["mkfs.xfs", "-q", "-f", ...(label ? ["-L", label] : []), dev]);
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
  }
}
