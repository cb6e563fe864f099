// Boots one seed (a NoCloud seed by default; an OVF environment, or an EC2 metadata
// service on 127.0.0.1) twice on the same lower layers (the cached e2e chroot with
// Debian's cloud-init layer on top): once with cloud-init's four stages, once with
// `sprout boot`, each in its own overlay, mount/pid/uts namespace and chroot. After
// each boot, still inside the namespace, it asks the agent for its status, checks the
// sudoers files with visudo, and test/compat/collect.mjs lists what the boot changed.
// Only the upper layers are written; /dev holds only the harmless character devices
// (no disks: a cloud-config's `mkfs /dev/vdb` must never reach the test machine's).
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUNDLE } from "../helpers/cli";
// @ts-expect-error -- plain .mjs helper shared with the command line
import { ensureChroot } from "../e2e/chroot-image.mjs";
// @ts-expect-error -- plain .mjs helper shared with the bench
import { ensureCloudInitLayer } from "../bench/cloud-init-chroot.mjs";
// @ts-expect-error -- plain .mjs helper, like the cloud-init layer's
import { ensureIfupdownLayer } from "./ifupdown-layer.mjs";
import type { RawSnapshot } from "./effects";

export type Agent = "cloud-init" | "sprout";

export interface Seed {
  /** NoCloud meta-data, laid in cloud-init's NoCloud seed folder (the default source). */
  metaData?: string;
  userData?: string | Uint8Array;
  vendorData?: string | Uint8Array;
  /** Extra files laid into the machine before the boot (both agents alike). */
  files?: Record<string, string>;
  /**
   * Boot without a network: a network namespace of its own with only `lo` up. For
   * seeds that make either agent reach out (apt_configure runs apt-get update after
   * adding sources): nothing leaves the machine, and the failure is quick.
   */
  offline?: boolean;
  /** The seed's network-config. Cases with one (or with nics) boot with ifupdown installed, in a network namespace of their own. */
  networkConfig?: string;
  /** NICs the machine shows in /sys/class/net (name -> MAC, with a carrier): plain files, the chroot has no sysfs. */
  nics?: Record<string, string>;
  /**
   * An OVF environment document instead of a NoCloud seed: laid in cloud-init's OVF seed
   * file (/var/lib/cloud/seed/ovf-env.xml), which both agents' OVF datasource reads first,
   * or given through guestinfo (see ovfTransport). datasource_list is [OVF, None] for both.
   */
  ovfEnv?: string | Uint8Array;
  /**
   * How the OVF environment reaches the machine: cloud-init's seed file (the default), or
   * VMware's guestinfo.ovfEnv through a stand-in vmware-rpctool in /usr/bin. Both agents
   * look there when no seed file exists; cloud-init reads the network-config property
   * only from a transport (guestinfo or ISO), never from the seed file.
   */
  ovfTransport?: "seed-file" | "guestinfo";
  /**
   * An EC2 metadata service on 127.0.0.1 instead of a NoCloud seed: its base URL
   * (test/imds-mock). Both agents get datasource_list [Ec2, None] and this one URL in
   * datasource.Ec2.metadata_urls.
   */
  ec2MetadataUrl?: string;
}

/** The datasource a seed is for, and the system config both agents get to use it (and nothing else). */
export function sourceConfig(seed: Seed): { cloudInit: string; sprout: string } {
  if (seed.ec2MetadataUrl !== undefined) {
    const url = JSON.stringify(seed.ec2MetadataUrl);
    if (!/^"http:\/\/(127\.0\.0\.1|\[::1\])[:/"]/.test(url)) throw new Error(`compat: an EC2 metadata service must be on 127.0.0.1 or ::1, not ${url}`);
    // strict_id false: the chroot has no DMI, so cloud-init cannot tell it is on EC2 (as sprout, forced by datasource_list).
    return {
      cloudInit: `datasource_list: [Ec2, None]\ndatasource:\n  Ec2:\n    metadata_urls: [${url}]\n    strict_id: false\n    timeout: 5\n    max_wait: 30\n`,
      sprout: `datasource_list: [Ec2, None]\ndatasource:\n  Ec2:\n    metadata_urls: [${url}]\n`,
    };
  }
  const list = seed.ovfEnv !== undefined ? "[OVF, None]" : "[NoCloud, None]";
  return { cloudInit: `datasource_list: ${list}\n`, sprout: `datasource_list: ${list}\n` };
}

export interface BootRecord {
  agent: Agent;
  bootCode: number | null;
  bootOutput: string;
  statusCode: number | null;
  statusOutput: string;
  visudoCode: number | null;
  kernelHostname: string;
  snapshot: RawSnapshot;
}

/** Why the compat suite cannot run here, or null when it can. */
export function compatUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "the compat suite needs root (overlay mounts, chroot, namespaces)";
  for (const tool of ["debootstrap", "unshare", "chroot", "ip"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `the compat suite needs ${tool}: run test/install-deps.sh`;
  }
  if (!existsSync(BUNDLE)) return "dist/sprout.js is missing: run npm run build";
  return null;
}

const CLOUD_INIT_BOOT = "cloud-init init --local; cloud-init init; cloud-init modules --mode config; cloud-init modules --mode final";
const SPROUT_BOOT = "node /usr/lib/sprout/sprout.js boot";
const COLLECT = join(__dirname, "collect.mjs");
const SSHD_CONFIG = readFileSync(join(__dirname, "fixtures/sshd_config"), "utf8");
// What debootstrap writes on a machine without a hosts file of its own (the chroot has none).
const ETC_HOSTS = "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n";

const INNER = `set -u
lower=$1 upper=$2 work=$3 merged=$4 out=$5 boot=$6 status=$7 collect=$8 node=$9 offline=\${10}
if [ "$offline" = offline ]; then ip link set lo up || exit 91; fi
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$merged" || exit 90
mount -t proc proc "$merged/proc"
mount --bind "$out/cmdline" "$merged/proc/cmdline"
mount -t tmpfs -o mode=0755 tmpfs "$merged/run"
mount -t tmpfs -o mode=0755 tmpfs "$merged/dev"
for n in null zero full random urandom tty; do : > "$merged/dev/$n"; mount --bind "/dev/$n" "$merged/dev/$n"; done
ln -s /proc/self/fd "$merged/dev/fd"
hostname localhost
chroot "$merged" sh -c "$boot" > "$out/boot.out" 2>&1; echo $? > "$out/boot.rc"
chroot "$merged" sh -c "$status" > "$out/status.out" 2>&1; echo $? > "$out/status.rc"
chroot "$merged" visudo -c > "$out/visudo.out" 2>&1; echo $? > "$out/visudo.rc"
hostname > "$out/hostname"
umount "$merged/proc/cmdline" "$merged/proc"
for n in null zero full random urandom tty; do umount "$merged/dev/$n"; done
umount "$merged/dev" "$merged/run"
"$node" "$collect" "$merged" "$upper" "$lower" > "$out/snapshot.json"
`;

function lay(upper: string, path: string, content: string | Uint8Array, mode = 0o644): void {
  const p = join(upper, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

/** Runs argv to its end (killed at timeoutMs); async so the test runner's own messages get through. */
function runToEnd(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ status: number | null; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ status: null, stderr, error: e.message });
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

/**
 * The environment both agents start with, as a systemd unit has it: no variables of
 * the test runner (its PATH would reach the machine's scripts).
 */
const BOOT_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

/** One boot of `agent` on `seed` in a fresh overlay; everything it leaves is removed. */
export async function bootWith(agent: Agent, seed: Seed, timeoutMs = 240_000): Promise<BootRecord> {
  const networked = seed.networkConfig !== undefined || seed.nics !== undefined;
  // ifupdown makes both agents pick the ENI renderer (cloud-init's Debian default).
  const lowers = `${networked ? `${ensureIfupdownLayer()}:` : ""}${ensureCloudInitLayer()}:${ensureChroot()}`;
  const dir = mkdtempSync("/var/tmp/sprout-compat-");
  try {
    const upper = join(dir, "upper");
    const out = join(dir, "out");
    for (const d of ["upper", "work", "merged", "out"]) mkdirSync(join(dir, d));
    writeFileSync(join(out, "cmdline"), "root=/dev/vda1 ro console=ttyS0\n");
    // What both machines have before the boot: an ssh server's config (the chroot has
    // only the client), an /etc/hosts, and the seed in cloud-init's NoCloud seed folder.
    lay(upper, "/etc/ssh/sshd_config", SSHD_CONFIG);
    lay(upper, "/etc/hosts", ETC_HOSTS);
    if (seed.metaData !== undefined) lay(upper, "/var/lib/cloud/seed/nocloud/meta-data", seed.metaData);
    if (seed.ovfEnv !== undefined) {
      if (seed.ovfTransport === "guestinfo") {
        // As open-vm-tools' vmware-rpctool answers: the value on stdout, exit 1 for any other request (no such key).
        const b64 = Buffer.from(seed.ovfEnv).toString("base64").replace(/.{76}/g, "$&\n");
        lay(upper, "/usr/bin/vmware-rpctool", `#!/bin/sh\n[ "$1" = "info-get guestinfo.ovfEnv" ] || exit 1\nbase64 -d <<'EOF'\n${b64}\nEOF\n`, 0o755);
      } else lay(upper, "/var/lib/cloud/seed/ovf-env.xml", seed.ovfEnv);
      // The DMI product name of a vSphere VM. cloud-init 22.4.2's OVF datasource needs one:
      // without it (the chroot has no sysfs) it finds the environment, then fails in
      // _get_subplatform ('NoneType' object has no attribute 'lower') and falls back to None.
      lay(upper, "/sys/class/dmi/id/product_name", "VMware Virtual Platform\n");
    }
    if (seed.userData !== undefined) lay(upper, "/var/lib/cloud/seed/nocloud/user-data", seed.userData);
    if (seed.vendorData !== undefined) lay(upper, "/var/lib/cloud/seed/nocloud/vendor-data", seed.vendorData);
    if (seed.networkConfig !== undefined) lay(upper, "/var/lib/cloud/seed/nocloud/network-config", seed.networkConfig);
    for (const [name, mac] of Object.entries(seed.nics ?? {})) {
      // name_assign_type 4 (renamed by udev): cloud-init's fallback would otherwise wait for udev, which the chroot lacks.
      for (const [attr, value] of Object.entries({ address: mac, carrier: "1", operstate: "up", name_assign_type: "4", addr_assign_type: "0", type: "1" })) lay(upper, `/sys/class/net/${name}/${attr}`, `${value}\n`);
    }
    // cloud-init's Ec2 datasource checks that each metadata URL resolves, and first looks
    // up names that must not exist to detect DNS redirection (util.is_resolvable): with
    // the image's resolver those queries would leave the machine. On 127.0.0.1, where
    // nothing answers DNS, they fail at once; both agents get the same file.
    if (seed.ec2MetadataUrl !== undefined) lay(upper, "/etc/resolv.conf", "nameserver 127.0.0.1\n");
    for (const [p, c] of Object.entries(seed.files ?? {})) lay(upper, p, c);
    // Only the seed: neither agent may probe a link-local metadata service. `locale: false`
    // is what sprout does without a `locale` key (leave the system's locale alone); without
    // it cloud-init would set en_US.UTF-8, which fails on these machines (none is generated).
    // A seed's own `locale:` still reaches cloud-init (user-data wins). docs/compat.md.
    const source = sourceConfig(seed);
    if (agent === "cloud-init") {
      lay(upper, "/etc/cloud/cloud.cfg.d/99-compat.cfg", `${source.cloudInit}locale: false\n`);
    } else {
      lay(upper, "/usr/lib/sprout/sprout.js", readFileSync(BUNDLE), 0o755);
      lay(upper, "/usr/bin/sprout", '#!/bin/sh\nexec node /usr/lib/sprout/sprout.js "$@"\n', 0o755);
      lay(upper, "/etc/sprout/config.d/99-compat.yaml", source.sprout);
    }
    const boot = agent === "cloud-init" ? CLOUD_INIT_BOOT : SPROUT_BOOT;
    const status = agent === "cloud-init" ? "cloud-init status --long" : "node /usr/lib/sprout/sprout.js status";
    const r = await runToEnd(
      // A network namespace of its own for the offline and the network cases (cloud-init renames NICs with `ip link`, which must never reach this machine's).
      ["unshare", "--uts", "--ipc", "--mount", "--pid", ...(seed.offline || networked ? ["--net"] : []), "--fork", "--propagation", "private", "sh", "-c", INNER, "inner", lowers, upper, join(dir, "work"), join(dir, "merged"), out, boot, status, COLLECT, process.execPath, seed.offline ? "offline" : "online"],
      BOOT_ENV,
      timeoutMs,
    );
    const read = (f: string) => (existsSync(join(out, f)) ? readFileSync(join(out, f), "utf8") : "");
    const code = (f: string) => (read(f).trim() === "" ? null : Number(read(f).trim()));
    if (r.status !== 0 || !read("snapshot.json")) {
      throw new Error(`compat harness: the ${agent} machine did not run (exit ${r.status}${r.error ? `, ${r.error}` : ""}): ${r.stderr}\n${read("boot.out")}`);
    }
    return {
      agent,
      bootCode: code("boot.rc"),
      bootOutput: read("boot.out"),
      statusCode: code("status.rc"),
      statusOutput: read("status.out"),
      visudoCode: code("visudo.rc"),
      kernelHostname: read("hostname").trim(),
      snapshot: JSON.parse(read("snapshot.json")) as RawSnapshot,
    };
  } finally {
    spawnSync("umount", ["-R", join(dir, "merged")], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
}

