// The qemu side of the VM tests and the VM bench: the cached image (rebuilt when
// sprout's .deb changes), cidata seed ISOs, and one bounded qemu boot with the
// serial console in a file. Plain .mjs so `npm run bench` can use it without a
// TypeScript loader.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(new URL("../..", import.meta.url).pathname);
export const CACHE = process.env.SPROUT_TEST_CACHE || "/var/cache/sprout-test";
export const IMAGE = join(CACHE, "image/sprout-bookworm.raw");
const STAMP = `${IMAGE}.deb-sha256`;

const have = (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/** Why VM tests cannot run here, or null. */
export function vmUnavailable() {
  if (process.getuid?.() !== 0) return "VM tests need root (the image build runs mmdebstrap in root mode)";
  for (const [tool, pkg] of [["qemu-system-x86_64", "qemu-system-x86"], ["qemu-img", "qemu-utils"], ["xorriso", "xorriso"], ["mmdebstrap", "mmdebstrap"], ["dpkg-buildpackage", "dpkg-dev"], ["dh", "debhelper"]]) {
    if (!have(tool)) return `VM tests need ${tool}: apt-get install ${pkg} (test/install-deps.sh)`;
  }
  return null;
}

/** The image if one is built (for the bench, which never builds). */
export function builtImage() {
  return existsSync(IMAGE) ? IMAGE : null;
}

/**
 * spawn, awaited: the builds take minutes, and a test worker blocked in spawnSync
 * that long loses its connection to vitest.
 */
function run(cmd, args, { timeoutMs, inheritStderr = false, cwd } = {}) {
  return new Promise((res) => {
    const p = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", inheritStderr ? "inherit" : "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr?.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGTERM"), timeoutMs);
    p.on("close", (status) => {
      clearTimeout(timer);
      res({ status, stdout, stderr });
    });
  });
}

/** Builds sprout's .deb, then the image unless the cached one has this very .deb and recipe. */
export async function ensureImage(log = (t) => process.stderr.write(t)) {
  const version = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version;
  const b = await run("sh", [join(REPO, "packaging/build-deb"), "--no-lintian"], { cwd: REPO, timeoutMs: 600_000 });
  if (b.status !== 0) throw new Error(`packaging/build-deb failed:\n${b.stdout}${b.stderr}`);
  const deb = join(REPO, `dist/sprout_${version}_all.deb`);
  // What the package installs and runs, not its dates: every file but the docs and
  // man pages (dated by the last commit), and the maintainer scripts.
  const tree = join(CACHE, "image/.deb-contents");
  rmSync(tree, { recursive: true, force: true });
  // dpkg-deb -R makes the folder, not its parents: a fresh machine has no image folder yet.
  mkdirSync(join(CACHE, "image"), { recursive: true });
  const x = await run("sh", ["-c", 'dpkg-deb -R "$1" "$2" && cd "$2" && find . -type f ! -path "./usr/share/doc/*" ! -path "./usr/share/man/*" ! -name control ! -name md5sums | LC_ALL=C sort | xargs sha256sum', "sh", deb, tree], { timeoutMs: 120_000 });
  rmSync(tree, { recursive: true, force: true });
  if (x.status !== 0) throw new Error(`cannot read ${deb}: ${x.stderr}`);
  // And the image's recipe: a package added to packaging/image/build must rebuild a cached image.
  const recipe = ["packaging/image/build", "packaging/image/customize"].map((f) => readFileSync(join(REPO, f))).join("\0");
  const sum = createHash("sha256").update(x.stdout).update(recipe).digest("hex");
  if (existsSync(IMAGE) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === sum) return IMAGE;
  log(`vm: building the image for this sprout .deb (mmdebstrap, a few minutes)\n`);
  rmSync(STAMP, { force: true });
  const r = await run("sh", [join(REPO, "packaging/image/build"), "--deb", deb, "--out", IMAGE], { timeoutMs: 1_800_000, inheritStderr: true });
  if (r.status !== 0) throw new Error(`packaging/image/build failed (exit ${r.status}); its output is above`);
  writeFileSync(STAMP, sum + "\n");
  return IMAGE;
}

/** A NoCloud seed ISO (volume id cidata): `sprout seed nocloud` when the bundle has it, else xorriso. */
export function seedIso(dir, files) {
  const src = join(dir, "seed");
  mkdirSync(src, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(src, name), content);
  const iso = join(dir, "seed.iso");
  const bundle = join(REPO, "dist/sprout.js");
  const viaSprout = spawnSync(process.execPath, [bundle, "seed", "nocloud", "--help"], { encoding: "utf8" });
  if (viaSprout.status === 0) {
    const args = ["seed", "nocloud", "--meta-data", join(src, "meta-data"), "--user-data", join(src, "user-data"), "-o", iso];
    const r = spawnSync(process.execPath, [bundle, ...args], { encoding: "utf8" });
    if (r.status === 0 && existsSync(iso)) return { iso, made: "sprout seed nocloud" };
    process.stderr.write(`vm: sprout seed nocloud failed (${r.stderr.trim()}); using xorriso\n`);
  }
  const r = spawnSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", "cidata", "-J", "-r", "-o", iso, src], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`xorriso failed: ${r.stderr}`);
  return { iso, made: "xorriso -V cidata" };
}

/** The per-connection forwarder to 127.0.0.1 for qemu's guestfwd (see the file). */
export const GUESTFWD = join(REPO, "test/vm/guestfwd.cjs");

/** restricted user networking whose guest reaches `addr:guestPort` and it leads to 127.0.0.1:hostPort, one forwarder per connection. */
export function guestfwdNic({ net, addr, guestPort, hostPort }) {
  return `user,model=virtio-net-pci,restrict=on,net=${net},guestfwd=tcp:${addr}:${guestPort}-cmd:${process.execPath} ${GUESTFWD} ${hostPort}`;
}

/** A copy-on-write disk over the image, `sizeGiB` large (larger than the image: the guest grows into it). */
export function overlayDisk(dir, image, sizeGiB) {
  const disk = join(dir, "disk.qcow2");
  const r = spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image, "-F", "raw", disk, `${sizeGiB}G`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`qemu-img create failed: ${r.stderr}`);
  return disk;
}

/**
 * Boots qemu (TCG, no network unless `nic` gives restricted user networking whose
 * guestfwd rules lead only to 127.0.0.1, serial console to a file; `smbios` sets the
 * firmware's tables, e.g. the DMI an EC2 instance shows) until the guest powers
 * off, `until` matches the console, or `timeoutMs` passes (then it is killed).
 * Resolves with the console text, how it ended, and host-side times of each marker line.
 */
export function bootVm({ dir, disks, timeoutMs = 900_000, memoryMiB = 1024, until = null, nic = null, smbios = null }) {
  const serial = join(dir, "serial.log");
  // A NIC only as restricted user networking: the guest reaches nothing but what a guestfwd rule sends to 127.0.0.1.
  if (nic !== null && !/(^|,)restrict=on(,|$)/.test(nic)) throw new Error(`bootVm: a NIC must be restricted user networking (restrict=on), not ${nic}`);
  if (nic !== null && [...nic.matchAll(/guestfwd=[^,]*?-(tcp:[^,]*|cmd:[^,]*)/g)].some((m) => !m[1].startsWith("tcp:127.0.0.1:") && !m[1].startsWith(`cmd:${process.execPath} ${GUESTFWD} `))) {
    throw new Error(`bootVm: guestfwd may only lead to 127.0.0.1 (tcp:127.0.0.1:PORT, or cmd: with test/vm/guestfwd.cjs): ${nic}`);
  }
  const args = ["-accel", "tcg", "-m", String(memoryMiB), "-smp", "1", "-nic", nic ?? "none", "-no-reboot", "-display", "none", "-monitor", "none", "-serial", `file:${serial}`];
  if (smbios !== null) args.push("-smbios", smbios);
  for (const d of disks) {
    if (d.cdrom) args.push("-drive", `file=${d.file},media=cdrom,readonly=on`);
    else args.push("-drive", `file=${d.file},if=virtio,format=${d.format ?? "qcow2"}`);
  }
  const t0 = Date.now();
  return new Promise((resolvePromise) => {
    const q = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    q.stderr.on("data", (d) => (stderr += d));
    const seen = {};
    let ended = null;
    const poll = setInterval(() => {
      const text = existsSync(serial) ? readFileSync(serial, "latin1") : "";
      for (const m of text.matchAll(/(SPROUT-VM-[A-Z-]+)/g)) seen[m[1]] ??= Date.now() - t0;
      if (until && until.test(text) && !ended) {
        ended = "matched";
        q.kill("SIGKILL");
      }
    }, 500);
    const timer = setTimeout(() => {
      ended ??= "timeout";
      q.kill("SIGKILL");
    }, timeoutMs);
    q.on("close", (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      const console_ = existsSync(serial) ? readFileSync(serial, "latin1") : "";
      resolvePromise({ console: console_, ended: ended ?? (code === 0 ? "poweroff" : `qemu exit ${code}`), stderr, ms: Date.now() - t0, markersMs: seen });
    });
  });
}

/** Lines "SPROUT-VM-<NAME> value" from the console, by name (the last of each). */
export function markers(consoleText) {
  const out = {};
  // Not anchored at the line start: the serial getty's "login:" prompt may precede a marker.
  for (const m of consoleText.replace(/\r/g, "").matchAll(/SPROUT-VM-([A-Z-]+) ?(.*)$/gm)) out[m[1]] = (out[m[1]] ? out[m[1]] + "\n" : "") + m[2];
  return out;
}

/**
 * user-data for the boot scenario: hostname, a file, a marker on the console from
 * runcmd, and a report unit ordered after sprout-final.service that prints
 * `sprout status` (its --wait must return at once there), the root size and
 * systemd's boot timestamps (systemd-analyze's sources: systemd-analyze itself
 * refuses while this unit is still a boot job), then powers off.
 */
export function reportUserData({ hostname = "vm-sprout" } = {}) {
  return `#cloud-config
hostname: ${hostname}
write_files:
  - path: /var/tmp/vm-written
    content: written-by-sprout
  - path: /etc/systemd/system/sprout-vm-report.service
    content: |
      [Unit]
      Description=report sprout's boot on the serial console (VM test)
      After=sprout-final.service sprout.target
      [Service]
      Type=oneshot
      ExecStart=/bin/sh /var/tmp/vm-report
  - path: /var/tmp/vm-report
    content: |
      exec > /dev/ttyS0 2>&1
      echo
      timeout 60 sprout status --wait --timeout 30 > /tmp/status.txt; echo "SPROUT-VM-STATUS-EXIT $?"
      sed 's/^/SPROUT-VM-STATUS /' /tmp/status.txt
      echo "SPROUT-VM-STATUS-JSON $(sprout status --format json | tr -d '\\n')"
      echo "SPROUT-VM-ROOT-MB $(df -B1M --output=size / | tail -n 1 | tr -d ' ')"
      echo "SPROUT-VM-UPTIME $(cut -d' ' -f1 /proc/uptime) $(date +%s.%N)"
      echo "SPROUT-VM-SYSTEMD $(systemctl show -P InitRDTimestampMonotonic) $(systemctl show -P UserspaceTimestampMonotonic) $(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)"
      echo "SPROUT-VM-ROOTDEV $(findmnt -n -o SOURCE,LABEL /)"
      echo "SPROUT-VM-KEYS $(cat /home/*/.ssh/authorized_keys 2>/dev/null | awk '{print $NF}' | sort | tr '\\n' ' ')"
      echo "SPROUT-VM-DONE"
      systemctl poweroff
runcmd:
  - [sh, -c, 'echo "SPROUT-VM-MARKER host=$(hostname) file=$(cat /var/tmp/vm-written)" > /dev/ttyS0']
  - [systemctl, daemon-reload]
  - [systemctl, start, --no-block, sprout-vm-report.service]
`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write((await ensureImage()) + "\n");
