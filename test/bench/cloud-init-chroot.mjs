// A cached overlay layer with Debian's cloud-init installed on top of the e2e chroot,
// so `npm run bench` can time cloud-init on the same seed as sprout. Built once
// (apt-get inside the chroot, a few minutes), kept in /var/cache/sprout-test.
import { CACHE_DIR, ensureAptLayer, ensureChroot } from "../e2e/chroot-image.mjs";

/**
 * What the layer installs: cloud-init, and programs its modules call that a minimal
 * Debian lacks (chrony: the ntp module's preferred client, so neither agent installs it
 * from the network; gpg: cloud-init's apt_configure dearmors keys with it). The folder is
 * named after the list, so a new list builds a new layer and never replaces one in use.
 */
const PACKAGES = ["cloud-init", "chrony", "gpg"];
export const LAYER = `${CACHE_DIR}/cloud-init-layer${PACKAGES.length > 1 ? `+${PACKAGES.slice(1).join("+")}` : ""}`;

export function ensureCloudInitLayer() {
  return ensureAptLayer({
    path: LAYER,
    lowers: ensureChroot(),
    packages: PACKAGES,
    // No daemon runs in a compat machine: cloud-init's ntp module runs `service chrony restart`
    // (no systemd in the chroot), which would start chronyd; its init script is set aside.
    after: 'dpkg-divert --quiet --local --rename --add /etc/init.d/chrony && printf "#!/bin/sh\\necho \\"chrony \\$1: no daemon in a compat machine\\"\\n" > /etc/init.d/chrony && chmod 755 /etc/init.d/chrony',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(ensureCloudInitLayer() + "\n");
