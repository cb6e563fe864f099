import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { BEGIN, END, fallbackStanza, updateMenuLst } from "./menu-lst";
import { grubFallback, grubFallbackBootOk, readGrubenv } from ".";
import { parseGrubenv } from "./grubenv";

const REPO = resolve(__dirname, "../..");
const GRUB_D = join(REPO, "packaging/grub/42_sprout_fallback");
const HOOK = join(REPO, "packaging/kernel/z50-sprout-dist-kernel");

const USER_MENU = `# menu.lst edited by a person
default 0
timeout 3
## my notes: keep the serial console
title Debian GNU/Linux, kernel 6.1.0-9-amd64
root (hd0,0)
kernel /boot/vmlinuz-6.1.0-9-amd64 root=/dev/xvda1 ro console=hvc0
initrd /boot/initrd.img-6.1.0-9-amd64

title My own entry
root (hd0,0)
kernel /boot/vmlinuz-custom root=/dev/xvda1 ro
`;

describe("menu.lst (pure)", () => {
  it("models the stanza on the first entry", () => {
    expect(fallbackStanza(USER_MENU, true)).toBe(`${BEGIN}\ntitle Fallback kernel (the one this image was built with)\nroot (hd0,0)\nkernel /boot/dist-kernel/vmlinuz root=/dev/xvda1 ro console=hvc0\ninitrd /boot/dist-kernel/initrd.img\n${END}`);
    expect(fallbackStanza("title x\nroot (hd0,1)\nkernel /vmlinuz-6 root=LABEL=r\n", false)).toBe(`${BEGIN}\ntitle Fallback kernel (the one this image was built with)\nroot (hd0,1)\nkernel /dist-kernel/vmlinuz root=LABEL=r\n${END}`);
    expect(fallbackStanza("default 0\n", true)).toEqual({ error: expect.stringMatching(/no title entry/) });
  });

  it("a file without markers that a person edited keeps every line; the stanza goes after them; a second run changes nothing", () => {
    const stanza = fallbackStanza(USER_MENU, true) as string;
    const once = updateMenuLst(USER_MENU, stanza) as { text: string };
    expect(once.text.startsWith(USER_MENU)).toBe(true);
    expect(once.text.slice(USER_MENU.length)).toBe(`\n${stanza}\n`);
    expect(updateMenuLst(once.text, fallbackStanza(once.text, true) as string)).toEqual({ text: once.text });
    const noNewline = USER_MENU.trimEnd();
    expect((updateMenuLst(noNewline, stanza) as { text: string }).text.startsWith(noNewline + "\n")).toBe(true);
  });

  it("replaces only what is between the markers, lines after them stay", () => {
    const menu = `${USER_MENU}\n${BEGIN}\ntitle old\nkernel /old\n${END}\n# after\ntitle Later\n`;
    const res = updateMenuLst(menu, `${BEGIN}\nNEW\n${END}`) as { text: string };
    expect(res.text).toBe(`${USER_MENU}\n${BEGIN}\nNEW\n${END}\n# after\ntitle Later\n`);
  });

  it("broken markers: an error, the file untouched", () => {
    expect(updateMenuLst(`${USER_MENU}${BEGIN}\n`, "x")).toEqual({ error: expect.stringMatching(/markers are broken \(1 BEGIN and 0 END lines\); left as it is/) });
    expect(updateMenuLst(`${END}\n${BEGIN}\n`, "x")).toEqual({ error: expect.stringMatching(/END before BEGIN/) });
  });
});

const roots: TempRoot[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  cleanups.splice(0).forEach((f) => f());
  roots.splice(0).forEach((r) => r.cleanup());
});

function machine(extra: Record<string, string> = {}): TempRoot {
  const r = tempRoot({
    "/proc/sys/kernel/osrelease": "6.1.0-9-amd64\n",
    "/boot/vmlinuz-6.1.0-9-amd64": "KERNEL-IMAGE-BYTES",
    "/boot/initrd.img-6.1.0-9-amd64": "INITRD-BYTES",
    "/boot/grub/menu.lst": USER_MENU,
    ...extra,
  });
  mkdirSync(join(r.dir, "etc/grub.d"), { recursive: true });
  copyFileSync(GRUB_D, join(r.dir, "etc/grub.d/42_sprout_fallback"));
  roots.push(r);
  return r;
}
const run = (r: TempRoot, cfg: Record<string, unknown> = {}) => grubFallback.run(cfg, moduleContext(r.host(), "config"));
const ino = (r: TempRoot, p: string) => statSync(join(r.dir, p)).ino;

describe("the grub_fallback module", () => {
  it("links the running kernel and initrd, records them, writes the menu.lst stanza; then verifies without changes", async () => {
    const r = machine();
    const first = await run(r);
    expect(first.errors).toEqual([]);
    expect(first.status).toBe("changed");
    expect(ino(r, "/boot/dist-kernel/vmlinuz")).toBe(ino(r, "/boot/vmlinuz-6.1.0-9-amd64"));
    expect(ino(r, "/boot/dist-kernel/initrd.img")).toBe(ino(r, "/boot/initrd.img-6.1.0-9-amd64"));
    expect(readFileSync(join(r.dir, "var/lib/sprout/dist-kernel.env"), "utf8")).toMatch(/^DIST_KERNEL='\/boot\/vmlinuz-6.1.0-9-amd64'\nDIST_INITRD='\/boot\/initrd.img-6.1.0-9-amd64'$/m);
    expect(readFileSync(join(r.dir, "etc/sprout/grub-fallback.conf"), "utf8")).toMatch(/^SPROUT_FALLBACK_AUTO=y$/m);
    const menu = readFileSync(join(r.dir, "boot/grub/menu.lst"), "utf8");
    expect(menu.startsWith(USER_MENU)).toBe(true);
    expect(menu).toContain("kernel /boot/dist-kernel/vmlinuz root=/dev/xvda1 ro console=hvc0");
    expect(first.detail).toMatch(/update-grub not run \(the target is not the running system\)/);
    const second = await run(r);
    expect(second).toMatchObject({ status: "unchanged", errors: [] });
    expect(readFileSync(join(r.dir, "boot/grub/menu.lst"), "utf8")).toBe(menu);
  });

  it("once per image: a newer running kernel does not move the links; a removed kernel package leaves them intact", async () => {
    const r = machine();
    await run(r);
    r.write("/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
    r.write("/boot/vmlinuz-6.1.0-13-amd64", "NEW-KERNEL");
    rmSync(join(r.dir, "boot/vmlinuz-6.1.0-9-amd64"));
    rmSync(join(r.dir, "boot/initrd.img-6.1.0-9-amd64"));
    expect(await run(r)).toMatchObject({ status: "unchanged", errors: [] });
    expect(readFileSync(join(r.dir, "boot/dist-kernel/vmlinuz"), "utf8")).toBe("KERNEL-IMAGE-BYTES");
    expect(readFileSync(join(r.dir, "boot/dist-kernel/initrd.img"), "utf8")).toBe("INITRD-BYTES");
  });

  it("a link lost and its kernel gone: a clear error", async () => {
    const r = machine();
    await run(r);
    rmSync(join(r.dir, "boot/dist-kernel/vmlinuz"));
    rmSync(join(r.dir, "boot/vmlinuz-6.1.0-9-amd64"));
    expect((await run(r)).errors).toEqual([expect.stringMatching(/\/boot\/dist-kernel\/vmlinuz is missing and \/boot\/vmlinuz-6.1.0-9-amd64 is gone: the fallback entry cannot boot/)]);
  });

  it("says when the GRUB 2 script is not installed; off means off", async () => {
    const r = machine();
    rmSync(join(r.dir, "etc/grub.d/42_sprout_fallback"));
    expect((await run(r)).detail).toMatch(/42_sprout_fallback is missing, so GRUB 2 has no fallback entry/);
    const off = machine();
    expect(await run(off, { grub_fallback: { enabled: false } })).toMatchObject({ status: "skipped" });
    expect(existsSync(join(off.dir, "boot/dist-kernel"))).toBe(false);
    await run(off, { grub_fallback: { auto_fallback: false } });
    expect(readFileSync(join(off.dir, "etc/sprout/grub-fallback.conf"), "utf8")).toMatch(/^SPROUT_FALLBACK_AUTO=n$/m);
  });

  it("a menu.lst with broken markers is left as it is", async () => {
    const broken = `${USER_MENU}${BEGIN}\ntitle half\n`;
    const r = machine({ "/boot/grub/menu.lst": broken });
    const res = await run(r);
    expect(res.errors).toEqual([expect.stringMatching(/menu.lst: its sprout markers are broken .* the file is unchanged/)]);
    expect(readFileSync(join(r.dir, "boot/grub/menu.lst"), "utf8")).toBe(broken);
  });

  const canMount = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v mount"]).status === 0;
  it.skipIf(!canMount)("/boot/dist-kernel on another filesystem (hard links fail): copies, and says so", async () => {
    const r = machine();
    const dist = join(r.dir, "boot/dist-kernel");
    mkdirSync(dist);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "sprout-test", dist]).status).toBe(0);
    cleanups.push(() => void spawnSync("umount", [dist]));
    const res = await run(r);
    expect(res.errors).toEqual([]);
    expect(res.detail).toMatch(/copied \/boot\/vmlinuz-6.1.0-9-amd64 to \/boot\/dist-kernel\/vmlinuz \(hard link refused: EXDEV\)/);
    expect(readFileSync(join(dist, "vmlinuz"), "utf8")).toBe("KERNEL-IMAGE-BYTES");
    expect(readFileSync(join(dist, "initrd.img"), "utf8")).toBe("INITRD-BYTES");
    expect(readFileSync(join(r.dir, "boot/vmlinuz-6.1.0-9-amd64"), "utf8")).toBe("KERNEL-IMAGE-BYTES");
    expect(readFileSync(join(r.dir, "var/log/sprout.log"), "utf8")).toMatch(/\/boot refuses hard links \(EXDEV\)/);
  });
});

const hasGrub = spawnSync("sh", ["-c", "command -v grub-script-check && command -v grub-editenv"]).status === 0;
describe.skipIf(!hasGrub)("with the real GRUB tools", () => {
  function script(r: TempRoot, env: Record<string, string>): string {
    const res = spawnSync("sh", [GRUB_D], { encoding: "utf8", env: { PATH: process.env.PATH, SPROUT_ROOT: r.dir, ...env } });
    expect(res.status, res.stderr).toBe(0);
    return res.stdout;
  }
  function scriptCheck(r: TempRoot, text: string): number | null {
    writeFileSync(join(r.dir, "check.cfg"), text);
    return spawnSync("grub-script-check", [join(r.dir, "check.cfg")]).status;
  }

  it("42_sprout_fallback's output passes grub-script-check, with the entry and the pending-boot fragment", async () => {
    const r = machine();
    expect(script(r, {})).toBe("");
    await run(r);
    const out = script(r, { GRUB_DEVICE: "/dev/vda1", GRUB_DEVICE_UUID: "0f3c-uuid", GRUB_CMDLINE_LINUX: "console=ttyS0" });
    expect(out).toMatch(/menuentry 'Fallback kernel \(the one this image was built with\)' .*--id sprout-fallback \{/);
    expect(out).toMatch(/\tlinux \/boot\/dist-kernel\/vmlinuz root=UUID=0f3c-uuid ro console=ttyS0/);
    expect(out).toMatch(/\tinitrd \/boot\/dist-kernel\/initrd.img/);
    expect(out).toMatch(/set default="sprout-fallback"[\s\S]*set sprout_boot_pending=1\n\tsave_env --file \$prefix\/grubenv sprout_boot_pending/);
    expect(scriptCheck(r, out)).toBe(0);
    expect(scriptCheck(r, out.replace(/\nfi\n$/, "\n"))).not.toBe(0);
  });

  it("with grub-mkconfig's library (stubbed): the device preparation goes inside the entry; auto off leaves out the fragment", async () => {
    const r = machine();
    await run(r, { grub_fallback: { auto_fallback: false } });
    r.write("/lib/grub-mkconfig_lib", "prepare_grub_to_access_device() { echo \"insmod ext2\"; echo \"search --no-floppy --fs-uuid --set=root 1234\"; }\nmake_system_path_relative_to_its_root() { echo \"${1#/boot}\"; }\n");
    const out = script(r, { pkgdatadir: join(r.dir, "lib"), GRUB_DEVICE_BOOT: "/dev/vda2", GRUB_DEVICE: "/dev/vda1" });
    expect(out).toMatch(/\tinsmod ext2\n\tsearch --no-floppy --fs-uuid --set=root 1234\n/);
    expect(out).toMatch(/linux \/dist-kernel\/vmlinuz root=\/dev\/vda1 ro/);
    expect(out).not.toMatch(/sprout_boot_pending/);
    expect(scriptCheck(r, out)).toBe(0);
  });

  it("grub_fallback_boot_ok: the pending mark in grubenv is read and cleared with grub-editenv at the end of the boot", async () => {
    const r = machine();
    const env = join(r.dir, "boot/grub/grubenv");
    expect(spawnSync("grub-editenv", [env, "create"]).status).toBe(0);
    expect(spawnSync("grub-editenv", [env, "set", "sprout_boot_pending=1", "saved_entry=0"]).status).toBe(0);
    const h = r.host();
    expect(readGrubenv(h)).toEqual({ sprout_boot_pending: "1", saved_entry: "0" });
    expect(await grubFallbackBootOk.run({}, moduleContext(h, "final"))).toMatchObject({ status: "changed" });
    expect(readGrubenv(h)).toEqual({ saved_entry: "0" });
    expect(statSync(env).size).toBe(1024);
    expect(await grubFallbackBootOk.run({}, moduleContext(h, "final"))).toMatchObject({ status: "unchanged", detail: "no boot pending in grubenv" });
  });
});

describe("grubenv, read as grub-editenv reads it", () => {
  it("gives the same variables as `grub-editenv list`: escaped backslashes and newlines, = in values, empty values", () => {
    const r = machine();
    const env = join(r.dir, "boot/grub/grubenv");
    expect(spawnSync("grub-editenv", [env, "create"]).status).toBe(0);
    expect(spawnSync("grub-editenv", [env, "set", "a=x\\y", "b=1=2", "c=line1\nline2", "d=", "saved_entry=gnulinux-advanced>gnulinux-6.1"]).status).toBe(0);
    const listed = spawnSync("grub-editenv", [env, "list"], { encoding: "utf8" }).stdout;
    const parsed = parseGrubenv(readFileSync(env, "latin1"))!;
    expect(parsed).toEqual({ a: "x\\y", b: "1=2", c: "line1\nline2", d: "", saved_entry: "gnulinux-advanced>gnulinux-6.1" });
    expect(Object.entries(parsed).map(([k, v]) => `${k}=${v}\n`).join("")).toBe(listed);
  });

  it("a file that is no environment block is null, and the end of a boot says how to mend it", async () => {
    expect(parseGrubenv("sprout_boot_pending=1\n")).toBeNull();
    expect(parseGrubenv("")).toBeNull();
    const r = machine({ "/boot/grub/grubenv": "garbage\n" });
    const res = await grubFallbackBootOk.run({}, moduleContext(r.host(), "final"));
    expect(res.status).toBe("unchanged");
    expect(res.errors?.[0]).toMatch(/\/boot\/grub\/grubenv is unreadable or not a GRUB environment block.*grub-editenv \/boot\/grub\/grubenv create/);
  });
});

const hasShellcheck = spawnSync("sh", ["-c", "command -v shellcheck"]).status === 0;
describe.skipIf(!hasShellcheck)("shell scripts", () => {
  it("42_sprout_fallback and z50-sprout-dist-kernel pass shellcheck as POSIX sh", () => {
    const r = spawnSync("shellcheck", ["--shell=sh", GRUB_D, HOOK], { encoding: "utf8" });
    expect(r.status, r.stdout).toBe(0);
  });
});

describe("the kernel hook z50-sprout-dist-kernel", () => {
  const hook = (r: TempRoot) => spawnSync("sh", [HOOK, "6.1.0-13-amd64", "/boot/vmlinuz-6.1.0-13-amd64"], { encoding: "utf8", env: { PATH: process.env.PATH, SPROUT_ROOT: r.dir } });

  it("does nothing before sprout chose the image's kernel", () => {
    const r = machine();
    expect(hook(r).status).toBe(0);
    expect(existsSync(join(r.dir, "boot/dist-kernel"))).toBe(false);
  });

  it("keeps existing links, relinks a lost one, and refuses to link a kernel that is not there", async () => {
    const r = machine();
    await run(r);
    const before = ino(r, "/boot/dist-kernel/vmlinuz");
    expect(hook(r).status).toBe(0);
    expect(ino(r, "/boot/dist-kernel/vmlinuz")).toBe(before);
    rmSync(join(r.dir, "boot/dist-kernel/initrd.img"));
    expect(hook(r).stderr).toMatch(/linked \/boot\/dist-kernel\/initrd.img to \/boot\/initrd.img-6.1.0-9-amd64/);
    expect(ino(r, "/boot/dist-kernel/initrd.img")).toBe(ino(r, "/boot/initrd.img-6.1.0-9-amd64"));
    rmSync(join(r.dir, "boot/dist-kernel/vmlinuz"));
    rmSync(join(r.dir, "boot/vmlinuz-6.1.0-9-amd64"));
    const res = hook(r);
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/not linking \/boot\/dist-kernel\/vmlinuz: \/boot\/vmlinuz-6.1.0-9-amd64 is not there/);
    expect(existsSync(join(r.dir, "boot/dist-kernel/vmlinuz"))).toBe(false);
  });
});
