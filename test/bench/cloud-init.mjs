// sprout against cloud-init on the same NoCloud seed (test/bench/seed), each in a
// fresh copy of the same Debian chroot: the time from the first stage's start to
// the end of the final stage, measured by a shell inside the chroot, so both pay
// their interpreter's start-up and nothing of the namespace set-up. Each is installed
// as its package leaves it: cloud-init with its Python byte code compiled, sprout
// with the code cache and start-up snapshot its postinst makes
// (packaging/bin/warm-code-cache, untimed), started as `sprout` (/usr/bin/sprout).
// Needs root; the cloud-init layer is built on first use (a few minutes).
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ensureChroot } from "../e2e/chroot-image.mjs";
import { ensureCloudInitLayer } from "./cloud-init-chroot.mjs";

const RUNS = 5;
const seed = new URL("./seed", import.meta.url).pathname;
// What the package's postinst runs at install: the machine boots with its code cache made.
const WARM = new URL("../../packaging/bin/warm-code-cache", import.meta.url).pathname;
// As the package installs them: /usr/bin/sprout starts Node from the start-up snapshot
// warm-code-cache makes for Debian's Node 18 (see packaging/bin/startup-snapshot.js).
const SNAPSHOT_ENTRY = new URL("../../packaging/bin/startup-snapshot.js", import.meta.url).pathname;
const WRAPPER = new URL("../../packaging/bin/sprout", import.meta.url).pathname;
const CPU_ID = new URL("../../packaging/bin/cpu-id.sh", import.meta.url).pathname;

function timeInChroot(lowers, bundle, command, prepare = "true") {
  const dir = mkdtempSync("/var/tmp/sprout-bench-ci-");
  try {
    for (const d of ["upper", "work", "merged"]) mkdirSync(`${dir}/${d}`);
    cpSync(seed, `${dir}/upper/var/lib/cloud/seed/nocloud`, { recursive: true });
    mkdirSync(`${dir}/upper/usr/lib/sprout`, { recursive: true });
    mkdirSync(`${dir}/upper/usr/bin`, { recursive: true });
    cpSync(bundle, `${dir}/upper/usr/lib/sprout/sprout.js`);
    cpSync(WARM, `${dir}/upper/usr/lib/sprout/warm-code-cache`);
    cpSync(SNAPSHOT_ENTRY, `${dir}/upper/usr/lib/sprout/startup-snapshot.js`);
    cpSync(CPU_ID, `${dir}/upper/usr/lib/sprout/cpu-id.sh`);
    cpSync(WRAPPER, `${dir}/upper/usr/bin/sprout`);
    chmodSync(`${dir}/upper/usr/bin/sprout`, 0o755);
    writeFileSync(`${dir}/cmdline`, "root=/dev/vda1 ro\n");
    const script = `set -e
mount -t overlay overlay -o lowerdir=${lowers},upperdir=${dir}/upper,workdir=${dir}/work ${dir}/merged
mount -t proc proc ${dir}/merged/proc
mount --bind ${dir}/cmdline ${dir}/merged/proc/cmdline
mount -t tmpfs tmpfs ${dir}/merged/run
mount --rbind /dev ${dir}/merged/dev
chroot ${dir}/merged sh -c '${prepare} >/dev/null 2>&1; s=$(date +%s%N); ${command} >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000 ))'
`;
    const out = execFileSync("unshare", ["--uts", "--ipc", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c", script], { encoding: "utf8", timeout: 300_000 });
    return Number(out.trim().split("\n").pop()) / 1000;
  } finally {
    spawnSync("umount", ["-R", `${dir}/merged`], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench({ stats, bundle }) {
  if (process.getuid?.() !== 0) return { bench: "sprout-vs-cloud-init", skipped: "needs root (chroot, overlay mounts)" };
  const chroot = ensureChroot();
  const layer = ensureCloudInitLayer();
  const sproutMs = [];
  const cloudInitMs = [];
  const ciCommand = "cloud-init init --local && cloud-init init && cloud-init modules --mode config && cloud-init modules --mode final";
  for (let i = 0; i < RUNS + 1; i++) {
    const s = timeInChroot(`${layer}:${chroot}`, bundle, "sprout boot --quiet", "sh /usr/lib/sprout/warm-code-cache");
    const c = timeInChroot(`${layer}:${chroot}`, bundle, ciCommand);
    if (i > 0) {
      sproutMs.push(s);
      cloudInitMs.push(c);
    }
  }
  const sp = stats(sproutMs);
  const ci = stats(cloudInitMs);
  const ciVersion = readFileSync(`${layer}/usr/lib/python3/dist-packages/cloudinit/version.py`, "utf8").match(/__VERSION__ = "([^"]+)"/)?.[1] ?? "?";
  return {
    bench: "sprout-vs-cloud-init",
    runs: RUNS,
    seed: "test/bench/seed",
    cloud_init_version: ciVersion,
    sprout_boot_median_ms: sp.median,
    cloud_init_all_stages_median_ms: ci.median,
    speedup: Math.round((ci.median / sp.median) * 10) / 10,
  };
}
