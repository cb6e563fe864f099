// package_update / package_upgrade / packages: apt-get through the Runner, never
// interactive, with a bounded wait when another apt or dpkg holds the lock
// (unattended-upgrades at first boot is common). On a target root other than
// "/" the commands run chrooted into it.
import { isPlainObject } from "../../agent/merge";
import { describeFailure, targetArgv } from "../../agent/target-command";
import type { CloudConfig, Module, ModuleContext, ModuleResult } from "../../agent/types";

const APT_TIMEOUT_MS = 30 * 60_000;
/** Waits for the dpkg lock: attempts and the pause between them. */
const LOCK_ATTEMPTS = 10;
const LOCK_PAUSE_MS = 6_000;
const LOCKED = /could not get lock|unable to acquire the dpkg frontend lock|dpkg (frontend )?lock.*held|is another process using it/i;

const PACKAGE_ITEM = {
  oneOf: [
    { type: "string" },
    { type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 },
    { type: "object", properties: { apt: { type: "array" }, snap: { type: "array" } }, additionalProperties: false },
  ],
};

export const PACKAGES_SCHEMA = {
  package_update: { type: "boolean", description: "Run apt-get update first (implied by packages).", default: false, examples: [true] },
  package_upgrade: { type: "boolean", description: "Upgrade the installed packages (apt-get dist-upgrade).", default: false, examples: [true] },
  package_reboot_if_required: { type: "boolean", description: "Reboot after the upgrade when /var/run/reboot-required exists (only when sprout runs on the machine itself).", default: false, examples: [true] },
  packages: {
    type: "array",
    description: "Packages to install: a name, [name, version], or {apt: [...]} (snap: entries are reported and skipped).",
    items: PACKAGE_ITEM,
    examples: [["nginx", ["libpython3.11", "3.11.2-6"], { apt: ["mg"] }]],
  },
  apt_get_command: { type: "array", items: { type: "string" }, description: "The apt-get command and its options.", default: ["apt-get", "--option=Dpkg::Options::=--force-confold", "--option=Dpkg::options::=--force-unsafe-io", "--assume-yes", "--quiet"], examples: [["apt-get", "--assume-yes"]] },
  apt_get_upgrade_subcommand: { type: "string", description: "The apt-get subcommand for package_upgrade.", default: "dist-upgrade", examples: ["upgrade"] },
  snap: { type: "object", description: "Accepted for compatibility; sprout does not manage snaps.", examples: [{ commands: ["snap refresh"] }] },
} as const;

const DEFAULT_APT = PACKAGES_SCHEMA.apt_get_command.default;

/** The apt package arguments, and the entries sprout does not install. */
export function packageArgs(list: unknown[]): { args: string[]; skipped: string[]; errors: string[] } {
  const args: string[] = [];
  const skipped: string[] = [];
  const errors: string[] = [];
  const one = (p: unknown, where: string) => {
    if (typeof p === "string" && p.trim()) args.push(p.trim());
    else if (Array.isArray(p) && p.length >= 1 && p.length <= 2 && p.every((x) => typeof x === "string" || typeof x === "number")) args.push(p.length === 2 ? `${p[0]}=${p[1]}` : String(p[0]));
    else errors.push(`${where} is not a package name or [name, version]`);
  };
  list.forEach((p, i) => {
    if (isPlainObject(p)) {
      for (const [manager, items] of Object.entries(p)) {
        if (manager === "apt" && Array.isArray(items)) items.forEach((x, j) => one(x, `packages[${i}].apt[${j}]`));
        else skipped.push(`${manager}: ${JSON.stringify(items)}`);
      }
    } else one(p, `packages[${i}]`);
  });
  return { args, skipped, errors };
}

/** Runs apt-get (cloud-init's apt_get_command) with `args`, waiting a bounded time for the dpkg lock; the failure, or null. apt_configure uses it for its apt-get update. */
export async function apt(ctx: ModuleContext, cfg: CloudConfig, args: string[]): Promise<string | null> {
  const base = Array.isArray(cfg.apt_get_command) && cfg.apt_get_command.length ? cfg.apt_get_command.map(String) : [...DEFAULT_APT];
  const argv = targetArgv(ctx.host, [...base, ...args]);
  for (let attempt = 1; ; attempt++) {
    const res = await ctx.host.run.run(argv, { timeoutMs: APT_TIMEOUT_MS, env: { DEBIAN_FRONTEND: "noninteractive" }, maxCapture: 256 * 1024 });
    if (res.code === 0) return null;
    const stderr = res.stderr.toString("utf8");
    if (LOCKED.test(stderr) && attempt < LOCK_ATTEMPTS) {
      ctx.host.log.info(`apt-get ${args[0]}: the dpkg lock is held by another process; trying again in ${LOCK_PAUSE_MS / 1000} s (attempt ${attempt} of ${LOCK_ATTEMPTS})`);
      await ctx.host.clock.sleep(LOCK_PAUSE_MS);
      continue;
    }
    const why = res.spawnError ?? (res.timedOut ? `timed out after ${APT_TIMEOUT_MS / 60000} min` : LOCKED.test(stderr) ? `the dpkg lock was still held after ${attempt} attempts` : stderr.trim().split("\n").slice(-3).join(" / ") || `exit ${res.code}`);
    return `apt-get ${args.join(" ")} failed: ${why}`;
  }
}

/**
 * apt-get update, then install `names`, the way this module does (apt_get_command, the
 * lock wait, the chroot for --root): for modules that need a package of their own (ntp's
 * client). Null when it worked, else why not.
 */
export async function installPackages(ctx: ModuleContext, cfg: CloudConfig, names: string[]): Promise<string | null> {
  return (await apt(ctx, cfg, ["update"])) ?? (await apt(ctx, cfg, ["install", ...names]));
}

export const packageUpdateUpgradeInstall: Module = {
  id: "package_update_upgrade_install",
  stage: "final",
  frequency: "per-instance",
  schema: { type: "object", description: "Update the package lists, upgrade and install packages with apt-get.", properties: PACKAGES_SCHEMA },
  async run(given, ctx): Promise<ModuleResult> {
    // cloud-init's deprecated apt_* names still work (`sprout schema` reports them as deprecated).
    const cfg = { ...given };
    for (const k of ["update", "upgrade", "reboot_if_required"]) if (cfg[`package_${k}`] === undefined && cfg[`apt_${k}`] !== undefined) cfg[`package_${k}`] = cfg[`apt_${k}`];
    const list = cfg.packages === undefined || cfg.packages === null ? [] : cfg.packages;
    if (!Array.isArray(list)) return { status: "unchanged", errors: [`packages must be a list, not a ${typeof list}`] };
    const { args, skipped, errors } = packageArgs(list);
    const update = cfg.package_update === true || args.length > 0 || cfg.package_upgrade === true;
    if (!update && !args.length) return { status: "skipped", detail: "nothing to update, upgrade or install", errors };
    const done: string[] = [];
    const step = async (what: string, a: string[]) => {
      const err = await apt(ctx, cfg, a);
      if (err) errors.push(err);
      else done.push(what);
      return !err;
    };
    const updated = await step("update", ["update"]);
    if (cfg.package_upgrade === true && updated) await step("upgrade", [typeof cfg.apt_get_upgrade_subcommand === "string" ? cfg.apt_get_upgrade_subcommand : "dist-upgrade"]);
    if (args.length) await step(`install ${args.join(" ")}`, ["install", ...args]);
    if (cfg.package_reboot_if_required === true && ctx.host.root.exists("/var/run/reboot-required")) {
      if (ctx.host.root.isSystemRoot) {
        const res = await ctx.host.run.run(["shutdown", "--reboot", "+1", "sprout: rebooting after package upgrade (package_reboot_if_required)"], { timeoutMs: 30_000 });
        if (res.code !== 0) errors.push(`reboot after the upgrade failed: ${describeFailure(res, 30_000)}`);
        else done.push("reboot in 1 minute");
      } else done.push("reboot required (not done: the target is not the running system)");
    }
    const note = skipped.length ? `; not supported, skipped: ${skipped.join("; ")}` : "";
    return { status: done.length ? "changed" : "unchanged", detail: `${done.join(", ")}${note}`, errors };
  },
};
