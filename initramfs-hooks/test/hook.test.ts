// hooks/sprout-rescue run with sh and initramfs-tools' real hook-functions,
// into a temporary DESTDIR, reading a fake system /etc (SPROUT_ROOT).
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HOOK, resolveOnPath } from "./fake.js";

const HOOK_FUNCTIONS = "/usr/share/initramfs-tools/hook-functions";
const why = !existsSync(HOOK_FUNCTIONS)
  ? "initramfs-tools-core is not installed"
  : !resolveOnPath("dropbear") || !resolveOnPath("dropbearkey")
    ? "dropbear-bin is not installed"
    : !resolveOnPath("ssh-keygen")
      ? "openssh-client is not installed"
      : null;
if (why) console.warn(`skipping the initramfs hook tests: ${why} (sh test/install-deps.sh)`);

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(files: Record<string, string>) {
  dir = mkdtempSync(join(tmpdir(), "sprout-hook-"));
  const sys = join(dir, "system");
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(sys, p)), { recursive: true });
    writeFileSync(join(sys, p), text, { mode: 0o600 });
  }
  mkdirSync(join(sys, "etc/sprout/initramfs"), { recursive: true });
  return { sys, dest: join(dir, "dest") };
}

// Asynchronous, so a slow machine does not stall the test worker's event loop.
function runHook(sys: string, dest: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  mkdirSync(dest, { recursive: true });
  return new Promise((ok) => {
    execFile(
      "sh", [HOOK],
      { timeout: 120_000, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", DESTDIR: dest, verbose: "n", SPROUT_ROOT: sys } },
      (err, stdout, stderr) => ok({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const has = (dest: string, p: string) => existsSync(join(dest, p)) || existsSync(join(dest, "usr", p));
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv1QmvdXbZ2ZmWmq2Zw5n2s6mXh3o0i9mJ8d1K6Qz9x user@laptop";

describe.skipIf(why !== null)("hooks/sprout-rescue", () => {
  it("answers prereqs", async () => {
    const r = spawnSync("sh", [HOOK, "prereqs"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("");
  });

  it("copies util-linux blkid and rescue.conf; with DROPBEAR=never nothing of dropbear", async () => {
    const { sys, dest } = setup({ "etc/sprout/rescue.conf": "RESCUE_LABEL=FIXIT\nDROPBEAR=never\n", "etc/sprout/initramfs/authorized_keys": KEY });
    const r = await runHook(sys, dest);
    expect(r.status, r.stderr).toBe(0);
    expect(has(dest, "sbin/blkid")).toBe(true);
    expect(readFileSync(join(dest, "etc/sprout/rescue.conf"), "utf8")).toContain("RESCUE_LABEL=FIXIT");
    expect(has(dest, "sbin/dropbear")).toBe(false);
    expect(existsSync(join(dest, "etc/sprout/initramfs/authorized_keys"))).toBe(false);
  });

  it("includes dropbear with DROPBEAR=n, so sprout.dropbear=1 can start it, with the system's host key converted", async () => {
    const hostKey = join(mkdtempSync(join(tmpdir(), "sprout-hostkey-")), "k");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    const { sys, dest } = setup({
      "etc/sprout/rescue.conf": "DROPBEAR=n\n",
      "etc/sprout/initramfs/authorized_keys": `# keys of instance i-123\n${KEY}\n`,
      "etc/ssh/ssh_host_ed25519_key": readFileSync(hostKey, "utf8"),
    });
    const r = await runHook(sys, dest);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(has(dest, "sbin/dropbear")).toBe(true);
    // Key lines only: a comment may name people or hosts.
    expect(readFileSync(join(dest, "etc/sprout/initramfs/authorized_keys"), "utf8")).toBe(`${KEY}\n`);
    const converted = join(dest, "etc/dropbear/dropbear_ed25519_host_key");
    expect(statSync(converted).mode & 0o777).toBe(0o600);
    // Same public key as the system's sshd: clients keep their known_hosts.
    const pub = spawnSync("dropbearkey", ["-y", "-f", converted], { encoding: "utf8" }).stdout;
    const sshPub = readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    expect(pub).toContain(sshPub);
    expect(existsSync(join(dest, "etc/dropbear/dropbear_rsa_host_key"))).toBe(false);
    expect(readFileSync(join(dest, "etc/passwd"), "utf8")).toBe("root:x:0:0:root:/run/sprout/dropbear-home:/bin/sh\n");
    expect(readFileSync(join(dest, "etc/profile"), "utf8")).toContain("/run/sprout/initramfs-banner");
    expect(readFileSync(join(dest, "bin/sprout-continue"), "utf8")).toContain("/scripts/panic/sprout-dropbear continue");
    rmSync(dirname(hostKey), { recursive: true, force: true });
  });

  it("generates one host key when the system has none, and keeps it for the next build", async () => {
    const { sys, dest } = setup({ "etc/sprout/initramfs/authorized_keys": KEY });
    expect((await runHook(sys, dest)).status).toBe(0);
    const kept = join(sys, "etc/sprout/initramfs/dropbear_ed25519_host_key");
    const first = readFileSync(join(dest, "etc/dropbear/dropbear_ed25519_host_key"));
    expect(readFileSync(kept)).toEqual(first);
    const dest2 = join(dir, "dest2");
    expect((await runHook(sys, dest2)).status).toBe(0);
    expect(readFileSync(join(dest2, "etc/dropbear/dropbear_ed25519_host_key"))).toEqual(first);
  });

  it("leaves dropbear out without authorized_keys, and warns only when DROPBEAR=y asked for it", async () => {
    let { sys, dest } = setup({ "etc/sprout/rescue.conf": "DROPBEAR=y\n" });
    let r = await runHook(sys, dest);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("warning: DROPBEAR=y in rescue.conf but");
    expect(r.stderr).toContain("authorized_keys has no key");
    expect(has(dest, "sbin/dropbear")).toBe(false);
    expect(has(dest, "sbin/blkid")).toBe(true);
    rmSync(dir, { recursive: true, force: true });

    ({ sys, dest } = setup({ "etc/sprout/initramfs/authorized_keys": "# no keys yet\n" }));
    r = await runHook(sys, dest);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(has(dest, "sbin/dropbear")).toBe(false);
  });
});
