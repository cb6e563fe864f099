// A cached overlay layer with Debian's ifupdown on top of the cloud-init layer, for
// the network-config cases: cloud-init renders /etc/network/interfaces.d only where
// ifupdown is installed (its ENI renderer's availability check: ifup, ifdown,
// ifquery and /etc/network/interfaces), and sprout makes the same choice. Built once
// (apt-get inside the chroot), kept in /var/cache/sprout-test beside the others.
import { ensureAptLayer, ensureChroot } from "../e2e/chroot-image.mjs";
import { ensureCloudInitLayer } from "../bench/cloud-init-chroot.mjs";

/** The layer for the cloud-init layer below it: named after it, so a new cloud-init layer gets a new one. */
export function ensureIfupdownLayer() {
  const base = ensureCloudInitLayer();
  // Only what the package installed: apt's lists and caches stay out of the layer.
  return ensureAptLayer({ path: `${base}.ifupdown`, lowers: `${base}:${ensureChroot()}`, packages: ["ifupdown"], dropAptState: true });
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(ensureIfupdownLayer() + "\n");
