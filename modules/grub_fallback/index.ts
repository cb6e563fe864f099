// grub_fallback: a kernel to fall back to when an update breaks booting. The
// kernel and initrd the image was built with are chosen once per image and kept
// as hard links in /boot/dist-kernel/ (a copy where /boot refuses hard links);
// every boot checks they are still there. GRUB 2 gets a menu entry from
// /etc/grub.d/42_sprout_fallback (shipped in packaging/grub/, update-grub runs
// it), GRUB legacy / pv-grub a stanza between markers in /boot/grub/menu.lst.
// With auto_fallback, grub.cfg marks each boot pending in grubenv and boots the
// fallback entry when the last boot left the mark; grub_fallback_boot_ok, the
// last module of the final stage, clears it.
import { parseGrubenv } from "./grubenv";
import type { Host } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import type { CloudConfig, Module, ModuleResult } from "../../agent/types";
import { fallbackStanza, updateMenuLst } from "./menu-lst";
import { describeFailure } from "../../agent/target-command";

export const DIST_DIR = "/boot/dist-kernel";
export const STATE_FILE = "/var/lib/sprout/dist-kernel.env";
export const SCRIPT_CONF = "/etc/sprout/grub-fallback.conf";
export const GRUB_D_SCRIPT = "/etc/grub.d/42_sprout_fallback";
export const MENU_LST = "/boot/grub/menu.lst";
export const GRUBENV = "/boot/grub/grubenv";
const UPDATE_GRUB_TIMEOUT_MS = 180_000;

export const GRUB_FALLBACK_SCHEMA = {
  grub_fallback: {
    type: "object",
    description: "Keep the kernel the image was built with as a boot menu entry to fall back to (on by default where GRUB is installed).",
    examples: [{ enabled: false }],
    properties: {
      enabled: { type: "boolean", description: "Keep the fallback kernel and its menu entry.", default: true, examples: [false] },
      auto_fallback: {
        type: "boolean",
        description: "Boot the fallback entry automatically when the last boot did not reach the end of sprout's final stage (GRUB 2 with a writable grubenv).",
        default: true,
        examples: [false],
      },
      kernel: { type: "string", description: "The kernel to keep, instead of the one running at the first boot.", examples: ["/boot/vmlinuz-6.1.0-13-amd64"] },
      initrd: { type: "string", description: "Its initrd (default: /boot/initrd.img-<release> of the kernel, when there).", examples: ["/boot/initrd.img-6.1.0-13-amd64"] },
    },
  },
} as const;

interface Settings {
  enabled: boolean;
  auto: boolean;
  kernel: string | null;
  initrd: string | null;
}

function settings(cfg: CloudConfig): Settings {
  const g = isPlainObject(cfg.grub_fallback) ? cfg.grub_fallback : {};
  return {
    enabled: g.enabled !== false,
    auto: g.auto_fallback !== false,
    kernel: typeof g.kernel === "string" ? g.kernel : null,
    initrd: typeof g.initrd === "string" ? g.initrd : null,
  };
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface DistKernel {
  kernel: string;
  initrd: string | null;
}

function readState(h: Host): DistKernel | null {
  const text = h.root.tryReadText(STATE_FILE);
  if (!text) return null;
  const get = (k: string) => new RegExp(`^${k}='([^']*)'`, "m").exec(text)?.[1] ?? "";
  return get("DIST_KERNEL") ? { kernel: get("DIST_KERNEL"), initrd: get("DIST_INITRD") || null } : null;
}

/** The image's kernel: configured, else the one running now (the first boot runs the image's kernel), else /boot/vmlinuz. */
function chooseKernel(h: Host, s: Settings): DistKernel | string {
  if (s.kernel) {
    if (!h.root.exists(s.kernel)) return `grub_fallback.kernel ${s.kernel} does not exist; set it to a kernel in /boot`;
    return { kernel: s.kernel, initrd: s.initrd ?? initrdFor(h, s.kernel) };
  }
  const release = h.root.tryReadText("/proc/sys/kernel/osrelease")?.trim();
  if (release && h.root.exists(`/boot/vmlinuz-${release}`)) return { kernel: `/boot/vmlinuz-${release}`, initrd: s.initrd ?? initrdFor(h, `/boot/vmlinuz-${release}`) };
  const link = h.root.readlink("/boot/vmlinuz") ?? h.root.readlink("/vmlinuz");
  if (link) {
    const k = link.startsWith("/") ? link : `/boot/${link.replace(/^boot\//, "")}`;
    if (h.root.exists(k)) return { kernel: k, initrd: s.initrd ?? initrdFor(h, k) };
  }
  return `no kernel found for the fallback entry (no /boot/vmlinuz-${release ?? "<release>"} and no /boot/vmlinuz link); set grub_fallback.kernel`;
}

function initrdFor(h: Host, kernel: string): string | null {
  const i = kernel.replace(/vmlinu[xz]-/, "initrd.img-");
  return i !== kernel && h.root.exists(i) ? i : null;
}

/** Hard link src to dst; where the filesystem refuses (EXDEV, EPERM on vfat, ...), an atomic copy. */
function keepLink(h: Host, src: string, dst: string): string {
  try {
    h.root.link(src, dst);
    return `linked ${dst} to ${src}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const st = h.root.stat(src);
    h.root.writeAtomic(dst, h.root.readFile(src, 1024 * 1024 * 1024), { mode: st ? st.mode & 0o777 : 0o644 });
    h.log.warn(`grub_fallback: /boot refuses hard links (${code}); copied ${src} to ${dst} instead: it takes the space of a second copy`);
    return `copied ${src} to ${dst} (hard link refused: ${code})`;
  }
}

async function updateGrub(h: Host): Promise<string> {
  if (!h.root.isSystemRoot) return "update-grub not run (the target is not the running system)";
  if (!h.run.which("update-grub")) return "no update-grub here: the menu entry appears when grub.cfg is next generated";
  const r = await h.run.run(["update-grub"], { timeoutMs: UPDATE_GRUB_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`update-grub failed (${describeFailure(r, UPDATE_GRUB_TIMEOUT_MS)}); run it by hand to add the fallback entry`);
  return "update-grub ran";
}

export const grubFallback: Module = {
  id: "grub_fallback",
  stage: "config",
  frequency: "always",
  schema: { type: "object", description: "A boot menu entry for the kernel the image was built with, and automatic fallback to it.", properties: GRUB_FALLBACK_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    const s = settings(cfg);
    if (!s.enabled) return { status: "skipped", detail: "grub_fallback.enabled is false" };
    const grub2 = h.root.exists("/etc/grub.d");
    const legacy = h.root.exists(MENU_LST);
    if (!grub2 && !legacy && !h.root.exists("/boot/grub")) return { status: "skipped", detail: "no GRUB here (no /etc/grub.d, /boot/grub)" };
    const done: string[] = [];
    const errors: string[] = [];
    // Once per image: which kernel is the image's. Later boots keep that choice.
    let dist = readState(h);
    if (!dist) {
      const chosen = chooseKernel(h, s);
      // A configured kernel that is missing is a mistake to report; an image without any kernel (a container) has nothing to keep.
      if (typeof chosen === "string") return s.kernel ? { status: "unchanged", errors: [chosen] } : { status: "skipped", detail: chosen };
      dist = chosen;
      h.root.writeAtomic(STATE_FILE, `# The kernel this image was built with (sprout grub_fallback; the kernel hooks read it)\nDIST_KERNEL=${shQuote(dist.kernel)}\nDIST_INITRD=${shQuote(dist.initrd ?? "")}\n`);
    }
    // Every boot: the links are there (a hard link outlives the package that removed its other name).
    let linksChanged = false;
    h.root.mkdirp(DIST_DIR);
    for (const [name, src] of [["vmlinuz", dist.kernel], ["initrd.img", dist.initrd]] as const) {
      if (!src) continue;
      const dst = `${DIST_DIR}/${name}`;
      if ((h.root.stat(dst)?.size ?? 0) > 0) continue;
      if (!h.root.exists(src)) {
        errors.push(`${dst} is missing and ${src} is gone: the fallback entry cannot boot; set grub_fallback.kernel to a kernel in /boot`);
        continue;
      }
      done.push(keepLink(h, src, dst));
      linksChanged = true;
    }
    const conf = `# written by sprout's grub_fallback module; read by ${GRUB_D_SCRIPT}\nSPROUT_FALLBACK_AUTO=${s.auto ? "y" : "n"}\n`;
    let confChanged = false;
    if (h.root.tryReadText(SCRIPT_CONF) !== conf) {
      h.root.writeAtomic(SCRIPT_CONF, conf);
      confChanged = true;
    }
    if (grub2) {
      if (!h.root.exists(GRUB_D_SCRIPT)) {
        const msg = `${GRUB_D_SCRIPT} is missing, so GRUB 2 has no fallback entry (it comes with the sprout package; the repository has it in packaging/grub/)`;
        h.log.warn(msg);
        done.push(msg);
      } else if (linksChanged || confChanged) {
        try {
          done.push(await updateGrub(h));
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }
    if (legacy) {
      const menu = h.root.readText(MENU_LST);
      const stanza = fallbackStanza(menu, !!dist.initrd && h.root.exists(`${DIST_DIR}/initrd.img`));
      const next = typeof stanza === "string" ? updateMenuLst(menu, stanza) : stanza;
      if ("error" in next) errors.push(`${MENU_LST}: ${next.error}; the file is unchanged`);
      else if (next.text !== menu) {
        const mode = h.root.stat(MENU_LST)?.mode ?? 0o644;
        h.root.writeAtomic(MENU_LST, next.text, { mode: mode & 0o7777 });
        done.push(`fallback stanza written to ${MENU_LST}`);
      }
    }
    const changed = linksChanged || confChanged || done.some((d) => d.startsWith("fallback stanza"));
    return { status: changed ? "changed" : "unchanged", detail: done.length ? done.join("; ") : `${DIST_DIR} holds ${dist.kernel}${dist.initrd ? ` and ${dist.initrd}` : ""}`, errors };
  },
};

/** The variables in grubenv, read as grub-editenv reads them; null when it cannot be read or is no environment block. */
export function readGrubenv(h: Host, path = GRUBENV): Record<string, string> | null {
  let text: string | null;
  try {
    text = h.root.tryReadText(path, 64 * 1024);
  } catch {
    return null;
  }
  return text === null ? null : parseGrubenv(text);
}

export const grubFallbackBootOk: Module = {
  id: "grub_fallback_boot_ok",
  stage: "final",
  frequency: "always",
  schema: { type: "object", description: "At the end of a boot that reached sprout's final stage: clear sprout_boot_pending in grubenv, so the next boot takes the default kernel.", properties: {} },
  async run(cfg, ctx): Promise<ModuleResult> {
    const h = ctx.host;
    if (!settings(cfg).enabled) return { status: "skipped", detail: "grub_fallback.enabled is false" };
    if (!h.root.exists(GRUBENV)) return { status: "skipped", detail: `no ${GRUBENV}` };
    if (!h.run.which("grub-editenv")) return { status: "skipped", errors: [`grub-editenv is not installed, so ${GRUBENV} keeps sprout_boot_pending and the next boot takes the fallback kernel: install grub-common`] };
    const env = readGrubenv(h);
    if (env === null) return { status: "unchanged", errors: [`${GRUBENV} is unreadable or not a GRUB environment block, so sprout_boot_pending cannot be cleared and the next boot may take the fallback kernel: check it with \`grub-editenv ${GRUBENV} list\`, or make a new one with \`grub-editenv ${GRUBENV} create\``] };
    if (!("sprout_boot_pending" in env)) return { status: "unchanged", detail: "no boot pending in grubenv" };
    const r = await h.run.run(["grub-editenv", h.root.resolve(GRUBENV), "unset", "sprout_boot_pending"], { timeoutMs: 10_000 });
    if (r.code !== 0) return { status: "unchanged", errors: [`grub-editenv could not clear sprout_boot_pending (${describeFailure(r, 10_000)}); the next boot takes the fallback kernel`] };
    return { status: "changed", detail: "boot finished: sprout_boot_pending cleared in grubenv" };
  },
};
