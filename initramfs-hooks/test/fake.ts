// A fake initramfs for running the real scripts with sh: SPROUT_ROOT holds
// /proc, /sys, /conf, /run, /etc; stub commands on PATH play blkid, mount,
// umount, udevadm, sleep and dropbear from a small device table, and log
// every call to CALLS so a test sees what the script did.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HOOKS = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const LOCAL_TOP = join(HOOKS, "initramfs-tools/scripts/local-top/sprout-rescue");
export const PANIC = join(HOOKS, "initramfs-tools/scripts/panic/sprout-dropbear");
export const HOOK = join(HOOKS, "initramfs-tools/hooks/sprout-rescue");

export interface Device {
  /** /sys/block name; a partition is "vdb1" with parent "vdb". */
  name: string;
  parent?: string;
  label?: string;
  type?: string;
  uuid?: string;
  /** Files at the top of its filesystem; a value "->target" makes a symlink. */
  files?: Record<string, string>;
  /** mount fails with this message. */
  mountError?: string;
  size?: string;
}

// Device table lookups by the device path the scripts pass (/dev/vdb).
const BLKID = `#!/bin/sh
echo "blkid $*" >>"$CALLS"
dev_dir() { echo "$FAKE/devs/$(echo "\${1#/dev/}" | tr / !)"; }
tag() { [ -r "$1/$2" ] && cat "$1/$2"; }
matches() { # dir TAG=value
	_t="\${2%%=*}" _v="\${2#*=}"
	[ -r "$1/$_t" ] && [ "$(cat "$1/$_t")" = "$_v" ]
}
value="" token="" dev="" list1=0 out=""
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out="$2"; shift ;;
	-s) value="$2"; shift ;;
	-t) token="$2"; shift ;;
	-l) list1=1 ;;
	*) dev="$1" ;;
	esac
	shift
done
if [ -n "$dev" ]; then
	d=$(dev_dir "$dev")
	[ -d "$d" ] || exit 2
	if [ -n "$token" ]; then matches "$d" "$token" || exit 2; fi
	if [ -n "$value" ]; then tag "$d" "$value" || exit 2; exit 0; fi
	[ -r "$d/TYPE" ] || exit 2
	echo "$dev"
	exit 0
fi
# No device: search the whole table, in its sorted order (blkid -l takes the first).
found=1
for d in "$FAKE"/devs/*; do
	[ -d "$d" ] || continue
	if matches "$d" "$token"; then
		echo "/dev/$(basename "$d" | tr ! /)"
		found=0
		[ "$list1" = 1 ] && break
	fi
done
exit $found
`;

const MOUNT = `#!/bin/sh
echo "mount $*" >>"$CALLS"
dev="" dir=""
while [ $# -gt 0 ]; do
	case "$1" in
	-t | -o) shift ;;
	-*) ;;
	*) if [ -z "$dev" ]; then dev="$1"; else dir="$1"; fi ;;
	esac
	shift
done
d="$FAKE/devs/$(echo "\${dev#/dev/}" | tr / !)"
if [ -r "$d/mount-error" ]; then cat "$d/mount-error" >&2; exit 32; fi
[ -d "$d/fs" ] && cp -a "$d/fs/." "$dir/"
exit 0
`;

const UMOUNT = `#!/bin/sh
echo "umount $*" >>"$CALLS"
for a; do case "$a" in -*) ;; *) find "$a" -mindepth 1 -delete ;; esac; done
`;

// Time passes only when the script sleeps: uptime advances by the sleep.
const SLEEP = `#!/bin/sh
echo "sleep $*" >>"$CALLS"
read -r up _ <"$SPROUT_ROOT/proc/uptime"
echo "$(( \${up%%.*} + \${1%%.*} )).00 0.00" >"$SPROUT_ROOT/proc/uptime"
`;

const LOGGER = (name: string) => `#!/bin/sh\necho "${name} $*" >>"$CALLS"\n`;

export class FakeInitramfs {
  readonly dir = mkdtempSync(join(tmpdir(), "sprout-initramfs-"));
  readonly root = join(this.dir, "root");
  readonly bin = join(this.dir, "bin");
  readonly fake = join(this.dir, "fake");
  readonly calls = join(this.dir, "calls");
  env: Record<string, string> = {};

  constructor(opts: { cmdline?: string; stubs?: string[] } = {}) {
    for (const d of ["proc", "sys/block", "conf", "run", "etc/sprout", "dev"]) mkdirSync(join(this.root, d), { recursive: true });
    mkdirSync(this.bin);
    mkdirSync(join(this.fake, "devs"), { recursive: true });
    writeFileSync(join(this.root, "proc/cmdline"), `${opts.cmdline ?? "root=LABEL=cloudimg-rootfs ro console=ttyS0"}\n`);
    writeFileSync(join(this.root, "proc/uptime"), "100.00 50.00\n");
    writeFileSync(this.calls, "");
    const stubs: Record<string, string> = { blkid: BLKID, mount: MOUNT, umount: UMOUNT, sleep: SLEEP, udevadm: LOGGER("udevadm") };
    for (const name of opts.stubs ?? Object.keys(stubs)) this.stub(name, stubs[name] ?? LOGGER(name));
  }

  stub(name: string, text: string) {
    writeFileSync(join(this.bin, name), text);
    chmodSync(join(this.bin, name), 0o755);
  }

  file(path: string, text: string) {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
    writeFileSync(join(this.root, path), text);
  }

  read(path: string): string {
    const p = join(this.root, path);
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  device(dev: Device) {
    const sys = dev.parent ? join(this.root, "sys/block", dev.parent, dev.name) : join(this.root, "sys/block", dev.name);
    mkdirSync(sys, { recursive: true });
    if (dev.parent) writeFileSync(join(sys, "partition"), "1\n");
    writeFileSync(join(sys, "size"), `${dev.size ?? "65536"}\n`);
    const d = join(this.fake, "devs", dev.name);
    mkdirSync(d, { recursive: true });
    if (dev.label !== undefined) writeFileSync(join(d, "LABEL"), dev.label);
    if (dev.type ?? dev.label) writeFileSync(join(d, "TYPE"), dev.type ?? "ext4");
    if (dev.uuid) writeFileSync(join(d, "UUID"), dev.uuid);
    if (dev.mountError) writeFileSync(join(d, "mount-error"), dev.mountError);
    const fs = join(d, "fs");
    mkdirSync(join(fs, "sbin"), { recursive: true });
    const files = dev.files ?? { "sbin/init": "#!/bin/sh\n" };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(fs, p)), { recursive: true });
      if (text.startsWith("->")) spawnSync("ln", ["-s", text.slice(2), join(fs, p)]);
      else writeFileSync(join(fs, p), text);
    }
  }

  callLog(): string[] {
    return readFileSync(this.calls, "utf8").split("\n").filter(Boolean);
  }

  /** Runs a script with sh in the fake tree; PATH is the stubs, then the base tools. */
  run(script: string, args: string[] = [], env: Record<string, string> = {}) {
    return this.sh([script, ...args], env);
  }

  /**
   * sh with these arguments (e.g. ["-c", code]) in the same environment as run.
   * Asynchronous, so a slow machine does not stall the test worker's event loop.
   */
  sh(argv: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((ok) => {
      const child = spawn("sh", argv, {
        env: {
          PATH: `${this.bin}:/usr/bin:/bin`,
          SPROUT_ROOT: this.root,
          FAKE: this.fake,
          CALLS: this.calls,
          ROOT: "LABEL=cloudimg-rootfs",
          ...this.env,
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        ok({ code, stdout, stderr });
      });
    });
  }

  /** Sources a shell-style KEY='value' file with sh and returns what it set. */
  sourceEnv(path: string): Record<string, string> {
    const r = spawnSync("sh", ["-c", 'set -a; . "$1" && env', "sh", join(this.root, path)], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    const out: Record<string, string> = {};
    for (const line of r.stdout.split("\n")) {
      const m = /^(RESCUE_[A-Z_]+|ROOT[A-Z]*|FSTYPE)=(.*)$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
    return out;
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function resolveOnPath(cmd: string): string | null {
  const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { encoding: "utf8", env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  return r.status === 0 ? r.stdout.trim() : null;
}
