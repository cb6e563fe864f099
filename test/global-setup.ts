// Before the tests, in vitest's main process: builds dist/sprout.js once (CLI and e2e
// tests run the real bundle), and fills the test caches a fresh machine lacks. A cache
// built inside a test file would block that worker for minutes (debootstrap, apt-get in
// the chroot), past the 60 s in which vitest's worker must answer the main process, and
// the run ends "Timeout calling onTaskUpdate" with every test passed; two workers would
// also build the same chroot at once.
import { execFileSync, spawnSync } from "node:child_process";
// @ts-expect-error -- plain .mjs helper shared with the command line
import { ensureChroot } from "./e2e/chroot-image.mjs";
// @ts-expect-error -- plain .mjs helper shared with the bench
import { ensureCloudInitLayer } from "./bench/cloud-init-chroot.mjs";
import { debianRootUnavailable } from "./helpers/debian-root";
import { unpackedDeb } from "./helpers/unpacked-deb";

/** The packages tests run unpacked (agent/network/real-tools, modules/ntp/real-clients). */
const UNPACKED_DEBS = ["netplan.io", "libnetplan0", "chrony", "systemd-timesyncd"];

export default function setup(): void {
  execFileSync(process.execPath, ["packaging/bundle.mjs"], { stdio: "inherit" });
  // Without root or debootstrap the tests that need these skip, and say why.
  if (debianRootUnavailable() !== null) return;
  ensureChroot();
  ensureCloudInitLayer();
  if (spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) for (const pkg of UNPACKED_DEBS) unpackedDeb(pkg);
}
