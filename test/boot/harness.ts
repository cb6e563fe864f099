// Boots a real Debian kernel and an initramfs built by the real mkinitramfs
// under qemu (TCG, no network but an optional forward from 127.0.0.1), with
// disks made by mkfs -d. Used by the boot tests in this folder.
//
// Large artefacts live outside the repository in CACHE: the kernel package is
// fetched with apt-get download and unpacked with dpkg-deb -x, never installed.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const HOOKS = join(REPO, "initramfs-hooks");
export const CACHE = process.env.SPROUT_TEST_CACHE ?? "/var/cache/sprout-test";

const TOOLS = [
  "qemu-system-x86_64", "mkinitramfs", "unshare", "mkfs.ext4", "mkfs.vfat", "dpkg-deb", "depmod",
  "apt-get", "apt-cache", "busybox", "ssh", "ssh-keygen", "dropbear", "dropbearkey",
];

function which(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { stdio: "ignore", env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    return true;
  } catch {
    return false;
  }
}

/** Why the boot tests cannot run here, or null when they can. */
export function cannotBoot(): string | null {
  if (process.platform !== "linux" || process.arch !== "x64") return "boot tests need an x86_64 Linux host";
  if (process.getuid?.() !== 0) return "boot tests need root (mount namespaces for mkinitramfs)";
  const missing = TOOLS.filter((t) => !which(t));
  if (missing.length) return `boot tests need: ${missing.join(", ")} (sh test/install-deps.sh installs them)`;
  return null;
}

export interface Kernel { kver: string; tree: string; vmlinuz: string }

/** The kernel linux-image-amd64 points at, unpacked in CACHE (fetched once). */
export function ensureKernel(): Kernel {
  let pkg: string | undefined;
  try {
    const deps = execFileSync("apt-cache", ["depends", "linux-image-amd64"], { encoding: "utf8" });
    pkg = /Depends:\s*(linux-image-\d\S*)/.exec(deps)?.[1];
  } catch {
    // No apt lists: fall back to whatever kernel is cached already.
  }
  const base = join(CACHE, "kernel");
  if (!pkg) {
    const cached = existsSync(base) ? readdirSync(base).filter((d) => existsSync(join(base, d, ".complete"))) : [];
    if (!cached.length) throw new Error("no kernel: apt-cache depends linux-image-amd64 found none; run apt-get update");
    pkg = cached.sort().at(-1)!;
  }
  const kver = pkg.replace(/^linux-image-/, "");
  const dir = join(base, pkg);
  const kernel = { kver, tree: join(dir, "tree"), vmlinuz: join(dir, "tree", "boot", `vmlinuz-${kver}`) };
  if (existsSync(join(dir, ".complete"))) return kernel;

  // Unpack next to the final place and rename, so an interrupted run leaves
  // no half kernel behind that a later run would trust.
  mkdirSync(base, { recursive: true });
  const work = mkdtempSync(join(base, ".partial-"));
  try {
    execFileSync("apt-get", ["download", "-q", pkg], { cwd: work, stdio: "pipe" });
    const deb = readdirSync(work).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    execFileSync("dpkg-deb", ["-x", join(work, deb), join(work, "tree")]);
    rmSync(join(work, deb));
    // The package has no modules.dep (postinst makes it); modprobe needs it.
    execFileSync("depmod", ["-b", join(work, "tree"), kver]);
    writeFileSync(join(work, ".complete"), `${pkg}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return kernel;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sprout-boot-${prefix}-`));
}

export interface InitramfsOptions {
  /** Files under the fake system root the hook reads (etc/sprout/rescue.conf, etc/ssh/...). */
  systemFiles: Record<string, string>;
  /** Extra modules besides virtio_pci, virtio_blk, ext4. */
  modules?: string[];
}

/** An initramfs built by mkinitramfs with our hook and scripts copied in unchanged. */
export function buildInitramfs(kernel: Kernel, work: string, opts: InitramfsOptions): string {
  const conf = join(work, "initramfs-tools");
  const src = join(HOOKS, "initramfs-tools");
  for (const f of ["hooks/sprout-rescue", "scripts/local-top/sprout-rescue", "scripts/panic/sprout-dropbear"]) {
    mkdirSync(dirname(join(conf, f)), { recursive: true });
    copyFileSync(join(src, f), join(conf, f));
    chmodSync(join(conf, f), 0o755);
  }
  // MODULES=list keeps the image small, so the TCG boot stays near 10 s.
  writeFileSync(join(conf, "initramfs.conf"), "MODULES=list\nBUSYBOX=y\nCOMPRESS=zstd\nFSTYPE=auto\nRUNSIZE=10%\n");
  writeFileSync(join(conf, "modules"), ["virtio_pci", "virtio_blk", "ext4", ...(opts.modules ?? [])].join("\n") + "\n");
  const sys = join(work, "system");
  for (const [path, text] of Object.entries(opts.systemFiles)) {
    mkdirSync(dirname(join(sys, path)), { recursive: true });
    writeFileSync(join(sys, path), text, { mode: 0o600 });
  }
  const out = join(work, "initrd.img");
  execFileSync("sh", [join(REPO, "test/boot/build-initramfs.sh"), kernel.tree, kernel.kver, conf, out], {
    env: { ...process.env, SPROUT_ROOT: sys },
    stdio: "pipe",
  });
  return out;
}

export interface DiskOptions {
  label: string;
  /** Printed by the disk's init, so a test sees which root booted. */
  id: string;
  uuid?: string;
  /** Extra files at the top of the filesystem (e.g. DONE). */
  files?: string[];
  fs?: "ext4" | "vfat";
}

// The init every test disk carries: says which disk it is and what the
// initramfs left in /run/sprout/rescue.env, then powers off (qemu then exits).
const INIT = `#!/bin/busybox sh
echo "SPROUT-TEST-ROOT=$(/bin/busybox cat /etc/sprout-test-disk)"
echo "SPROUT-TEST-ENV-BEGIN"
/bin/busybox cat /run/sprout/rescue.env
echo "SPROUT-TEST-ENV-END"
/bin/busybox poweroff -f
`;

export function makeDisk(work: string, opts: DiskOptions): string {
  const img = join(work, `${opts.id}.img`);
  if (opts.fs === "vfat") {
    execFileSync("mkfs.vfat", ["-C", "-n", opts.label, img, "8192"], { stdio: "pipe" });
    return img;
  }
  const dir = join(work, `${opts.id}.d`);
  for (const d of ["bin", "sbin", "dev", "proc", "sys", "run", "root", "etc", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim(), join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  writeFileSync(join(dir, "etc/sprout-test-disk"), `${opts.id}\n`);
  writeFileSync(join(dir, "sbin/init"), INIT, { mode: 0o755 });
  for (const f of opts.files ?? []) writeFileSync(join(dir, f), "");
  const args = ["-q", "-F", "-L", opts.label, "-d", dir];
  if (opts.uuid) args.push("-U", opts.uuid);
  execFileSync("mkfs.ext4", [...args, img, "32M"], { stdio: "pipe" });
  return img;
}

export { freePort } from "../helpers/free-port";

export interface VmOptions {
  kernel: Kernel;
  initrd: string;
  disks: string[];
  append: string;
  /** Forward 127.0.0.1:sshPort to the guest's port 22 (user networking, restricted). */
  sshPort?: number;
  /** Hard limit: qemu is killed after it. */
  timeoutMs: number;
  log: string;
}

export interface Vm {
  /** Resolves when qemu has exited (by itself or killed at the time limit). */
  exited: Promise<{ code: number | null; killed: boolean; log: string }>;
  /** Polls the serial log until it matches, or rejects when qemu exits or after ms. */
  waitFor(re: RegExp, ms: number): Promise<string>;
  kill(): void;
  output(): string;
}

export function startVm(o: VmOptions): Vm {
  const args = [
    "-accel", "tcg", "-m", "512", "-smp", "1",
    "-display", "none", "-monitor", "none", "-serial", `file:${o.log}`, "-no-reboot",
    "-kernel", o.kernel.vmlinuz, "-initrd", o.initrd,
    // panic=1 (in o.append) with -no-reboot makes a failed boot end qemu.
    "-append", `console=ttyS0 ${o.append}`,
  ];
  args.push("-nic", o.sshPort ? `user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22` : "none");
  // snapshot=on: the images are shared by scenarios and must not change.
  for (const d of o.disks) args.push("-drive", `file=${d},format=raw,if=virtio,snapshot=on`);
  writeFileSync(o.log, "");
  const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  let killed = false;
  const kill = () => {
    if (child.exitCode === null && !child.killed) {
      killed = true;
      child.kill("SIGKILL");
    }
  };
  const timer = setTimeout(kill, o.timeoutMs);
  const output = () => readFileSync(o.log, "utf8") + (stderr ? `\n[qemu stderr]\n${stderr}` : "");
  let done = false;
  const exited = new Promise<{ code: number | null; killed: boolean; log: string }>((ok) => {
    child.on("exit", (code) => {
      clearTimeout(timer);
      done = true;
      ok({ code, killed, log: output() });
    });
  });
  const waitFor = async (re: RegExp, ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      const text = output();
      if (re.test(text)) return text;
      if (done) throw new Error(`qemu exited before ${re} appeared; serial log:\n${text}`);
      if (Date.now() > end) throw new Error(`${re} did not appear within ${ms} ms; serial log:\n${text}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  return { exited, waitFor, kill, output };
}

/** Boots to the end (the test init powers off; a failed boot ends by panic=1). */
export async function bootOnce(o: VmOptions) {
  const r = await startVm(o).exited;
  if (r.killed) throw new Error(`qemu killed after ${o.timeoutMs} ms; serial log:\n${r.log}`);
  return r.log;
}

/** Which test disk the kernel ended up running, from its init's line. */
export function bootedRoot(log: string): string | null {
  return /SPROUT-TEST-ROOT=(\S+)/.exec(log)?.[1] ?? null;
}

/** /run/sprout/rescue.env as the booted root saw it, parsed as the agent would. */
export function rescueEnv(log: string): Record<string, string> {
  const m = /SPROUT-TEST-ENV-BEGIN\r?\n([\s\S]*?)SPROUT-TEST-ENV-END/.exec(log);
  if (!m) return {};
  const env: Record<string, string> = {};
  for (const line of m[1].split(/\r?\n/)) {
    const kv = /^([A-Z_]+)=(.*)$/.exec(line);
    if (!kv) continue;
    // Values are single-quoted with ' written as '\'' (see the script's header).
    env[kv[1]] = kv[2].replace(/^'(.*)'$/, "$1").replace(/'\\''/g, "'");
  }
  return env;
}
