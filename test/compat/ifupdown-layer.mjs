// A cached overlay layer with Debian's ifupdown on top of the cloud-init layer, for
// the network-config cases: cloud-init renders /etc/network/interfaces.d only where
// ifupdown is installed (its ENI renderer's availability check: ifup, ifdown,
// ifquery and /etc/network/interfaces), and sprout makes the same choice. Built once
// (apt-get inside the chroot), kept in /var/cache/sprout-test beside the others.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, renameSync, writeFileSync } from "node:fs";
import { CACHE_DIR, ensureChroot } from "../e2e/chroot-image.mjs";
import { ensureCloudInitLayer } from "../bench/cloud-init-chroot.mjs";

/** The layer for the cloud-init layer below it: named after it, so a new cloud-init layer gets a new one. */
export function ensureIfupdownLayer() {
  const base = ensureCloudInitLayer();
  const IFUPDOWN_LAYER = `${base}.ifupdown`;
  if (existsSync(`${IFUPDOWN_LAYER}/.complete`)) return IFUPDOWN_LAYER;
  const lowers = `${base}:${ensureChroot()}`;
  const work = mkdtempSync(`${CACHE_DIR}/ifupdown-build-`);
  const upper = `${work}/upper`;
  for (const d of ["upper", "work", "merged"]) mkdirSync(`${work}/${d}`);
  const script = `set -e
mount -t overlay overlay -o lowerdir=${lowers},upperdir=${upper},workdir=${work}/work ${work}/merged
mount -t proc proc ${work}/merged/proc
mount --rbind /dev ${work}/merged/dev
cp /etc/resolv.conf ${work}/merged/etc/resolv.conf 2>/dev/null || true
printf '#!/bin/sh\\nexit 101\\n' > ${work}/merged/usr/sbin/policy-rc.d && chmod +x ${work}/merged/usr/sbin/policy-rc.d
chroot ${work}/merged sh -c 'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ifupdown >/dev/null'
rm -f ${work}/merged/usr/sbin/policy-rc.d
umount -l ${work}/merged/dev ${work}/merged/proc
umount ${work}/merged
`;
  execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { stdio: ["ignore", "inherit", "inherit"], timeout: 20 * 60 * 1000 });
  // Only what the package installed: apt's lists and caches stay out of the layer.
  rmSync(`${upper}/var/lib/apt/lists`, { recursive: true, force: true });
  rmSync(`${upper}/var/cache`, { recursive: true, force: true });
  writeFileSync(`${upper}/.complete`, "ok\n");
  rmSync(IFUPDOWN_LAYER, { recursive: true, force: true });
  renameSync(upper, IFUPDOWN_LAYER);
  rmSync(work, { recursive: true, force: true });
  return IFUPDOWN_LAYER;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(ensureIfupdownLayer() + "\n");
