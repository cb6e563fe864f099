// Builds (once) and caches a Debian bookworm chroot for the e2e tests, made with
// debootstrap from the mirror apt already uses on this machine. Debian's own
// nodejs (18) is installed in it, so the e2e tests also prove the bundle runs there.
// Usage: node test/e2e/chroot-image.mjs  -> prints the chroot path.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, mkdirSync, writeFileSync } from "node:fs";

export const CACHE_DIR = process.env.SPROUT_TEST_CACHE || "/var/cache/sprout-test";
export const CHROOT = `${CACHE_DIR}/chroot-bookworm`;
const VERSION = "3"; // bump when the package list changes
const PACKAGES = ["nodejs", "openssh-client", "passwd", "sudo", "iproute2", "procps", "tzdata", "rsyslog", "grub-common", "e2fsprogs"];

/** The Debian mirror apt is configured with (never a host name written in the repo). */
export function aptMirror() {
  const files = ["/etc/apt/sources.list", ...(existsSync("/etc/apt/sources.list.d") ? readdirSync("/etc/apt/sources.list.d").map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  for (const f of files) {
    if (!/\.(list|sources)$/.test(f) || !existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822 && !/security/.test(deb822[1])) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line) return line[1];
  }
  throw new Error("no Debian mirror found in /etc/apt/sources.list*; configure apt first");
}

export function ensureChroot() {
  const stamp = `${CHROOT}/.sprout-chroot-version`;
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === VERSION) return CHROOT;
  if (process.getuid?.() !== 0) throw new Error("building the e2e chroot needs root (debootstrap)");
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${CHROOT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const mirror = aptMirror();
  process.stderr.write(`e2e: building a bookworm chroot with debootstrap from ${mirror} (a few minutes, once)\n`);
  execFileSync("debootstrap", ["--variant=minbase", `--include=${PACKAGES.join(",")}`, "bookworm", tmp, mirror], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 20 * 60 * 1000,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  writeFileSync(`${tmp}/.sprout-chroot-version`, VERSION + "\n");
  rmSync(CHROOT, { recursive: true, force: true });
  renameSync(tmp, CHROOT);
  return CHROOT;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureChroot() + "\n");
}
