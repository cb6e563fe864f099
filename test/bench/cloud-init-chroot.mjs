// A cached overlay layer with Debian's cloud-init installed on top of the e2e chroot,
// so `npm run bench` can time cloud-init on the same seed as sprout. Built once
// (apt-get inside the chroot, a few minutes), kept in /var/cache/sprout-test.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, renameSync, writeFileSync } from "node:fs";
import { ensureChroot, CACHE_DIR } from "../e2e/chroot-image.mjs";

/**
 * What the layer installs: cloud-init, and programs its modules call that a minimal
 * Debian lacks (chrony: the ntp module's preferred client, so neither agent installs it
 * from the network; gpg: cloud-init's apt_configure dearmors keys with it). The folder is
 * named after the list, so a new list builds a new layer and never replaces one in use.
 */
const PACKAGES = ["cloud-init", "chrony", "gpg"];
export const LAYER = `${CACHE_DIR}/cloud-init-layer${PACKAGES.length > 1 ? `+${PACKAGES.slice(1).join("+")}` : ""}`;

export function ensureCloudInitLayer() {
  if (existsSync(`${LAYER}/.complete`)) return LAYER;
  const lower = ensureChroot();
  const work = mkdtempSync(`${CACHE_DIR}/ci-build-`);
  const upper = `${work}/upper`;
  for (const d of ["upper", "work", "merged"]) mkdirSync(`${work}/${d}`);
  const script = `set -e
mount -t overlay overlay -o lowerdir=${lower},upperdir=${upper},workdir=${work}/work ${work}/merged
mount -t proc proc ${work}/merged/proc
mount --rbind /dev ${work}/merged/dev
cp /etc/resolv.conf ${work}/merged/etc/resolv.conf 2>/dev/null || true
printf '#!/bin/sh\\nexit 101\\n' > ${work}/merged/usr/sbin/policy-rc.d && chmod +x ${work}/merged/usr/sbin/policy-rc.d
chroot ${work}/merged sh -c 'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${PACKAGES.join(" ")} >/dev/null'
# No daemon runs in a compat machine: cloud-init's ntp module runs \`service chrony restart\`
# (no systemd in the chroot), which would start chronyd; its init script is set aside.
chroot ${work}/merged sh -c 'dpkg-divert --quiet --local --rename --add /etc/init.d/chrony && printf "#!/bin/sh\\necho \\"chrony \\$1: no daemon in a compat machine\\"\\n" > /etc/init.d/chrony && chmod 755 /etc/init.d/chrony'
`;
  execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { stdio: ["ignore", "inherit", "inherit"], timeout: 20 * 60 * 1000 });
  writeFileSync(`${upper}/.complete`, "ok\n");
  rmSync(LAYER, { recursive: true, force: true });
  renameSync(upper, LAYER);
  rmSync(work, { recursive: true, force: true });
  return LAYER;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(ensureCloudInitLayer() + "\n");
