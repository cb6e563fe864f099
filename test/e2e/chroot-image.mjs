// Builds (once) and caches a Debian bookworm chroot for the e2e tests, made with
// debootstrap from the mirror apt already uses on this machine. Debian's own
// nodejs (18) is installed in it, so the e2e tests also prove the bundle runs there.
// Usage: node test/e2e/chroot-image.mjs  -> prints the chroot path.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, mkdirSync, writeFileSync } from "node:fs";

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

/**
 * A cached overlay layer over `lowers` (colon-separated, top first) with `packages`
 * installed by apt-get inside the chroot, no service started (policy-rc.d), then `after`
 * (shell, run as root inside the merged tree) when given. `dropAptState` leaves apt's
 * lists and caches out of the layer. Kept at `path` once complete; an interrupted build
 * leaves nothing a later run trusts.
 */
export function ensureAptLayer({ path, lowers, packages, after = "", dropAptState = false }) {
  if (existsSync(`${path}/.complete`)) return path;
  const work = mkdtempSync(`${CACHE_DIR}/layer-build-`);
  const upper = `${work}/upper`;
  for (const d of ["upper", "work", "merged"]) mkdirSync(`${work}/${d}`);
  const merged = `${work}/merged`;
  const script = `set -e
mount -t overlay overlay -o lowerdir=${lowers},upperdir=${upper},workdir=${work}/work ${merged}
mount -t proc proc ${merged}/proc
mount --rbind /dev ${merged}/dev
cp /etc/resolv.conf ${merged}/etc/resolv.conf 2>/dev/null || true
printf '#!/bin/sh\\nexit 101\\n' > ${merged}/usr/sbin/policy-rc.d && chmod +x ${merged}/usr/sbin/policy-rc.d
chroot ${merged} sh -c 'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${packages.join(" ")} >/dev/null'
rm -f ${merged}/usr/sbin/policy-rc.d
${after ? `chroot ${merged} sh -c '${after.replace(/'/g, `'\\''`)}'` : ""}
`;
  try {
    execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { stdio: ["ignore", "inherit", "inherit"], timeout: 20 * 60 * 1000 });
    if (dropAptState) {
      rmSync(`${upper}/var/lib/apt/lists`, { recursive: true, force: true });
      rmSync(`${upper}/var/cache`, { recursive: true, force: true });
    }
    writeFileSync(`${upper}/.complete`, "ok\n");
    rmSync(path, { recursive: true, force: true });
    renameSync(upper, path);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return path;
}
