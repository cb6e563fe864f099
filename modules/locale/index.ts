// locale: the system locale, as cloud-init's cc_locale does it on Debian: the
// locale is generated (enabled in /etc/locale.gen, then locale-gen) and LANG is
// written to /etc/default/locale (or locale_configfile) the way update-locale
// writes it. Unlike cloud-init, sprout enables the locale in /etc/locale.gen first:
// Debian's locale-gen ignores its arguments, so cloud-init's `locale-gen ar_AE`
// builds nothing and update-locale then refuses the name.
// Without a `locale` key nothing happens (cloud-init would apply en_US.UTF-8 to an
// image whose /etc/default/locale has no LANG); an image builder who wants that
// puts `locale: en_US.UTF-8` in /etc/sprout/config.yaml.
import { isFalse } from "../../agent/cloud-bool";
import { runInTarget } from "../../agent/target-command";
import type { Module, ModuleContext, ModuleResult } from "../../agent/types";
import { enableInLocaleGen, findSupported, isBuiltinLocale, isLocaleName, readLocaleVar, sameLocale, setLocaleVar, similarLocales } from "./locale-files";

const DEFAULT_CONFIG_FILE = "/etc/default/locale";
const SUPPORTED = "/usr/share/i18n/SUPPORTED";
const LOCALE_GEN = "/etc/locale.gen";
const LOCALE_GEN_PROGRAM = "/usr/sbin/locale-gen";
// localedef takes a few seconds per locale on a small machine; a hung one must not hold the boot.
const LOCALE_GEN_TIMEOUT_MS = 5 * 60_000;
const LIST_TIMEOUT_MS = 30_000;

export const LOCALE_SCHEMA = {
  locale: {
    oneOf: [{ type: "string" }, { type: "boolean" }],
    description:
      "The system locale (LANG), e.g. en_US.UTF-8 or de_DE.UTF-8: generated if needed (it must be listed in /usr/share/i18n/SUPPORTED; the image needs the `locales` package unless it is C.UTF-8 or POSIX) and written to the locale config file. Absent or false: the system's locale is left as it is (cloud-init would set en_US.UTF-8 on an image with no LANG).",
    examples: ["en_US.UTF-8", "ar_AE", false],
  },
  locale_configfile: {
    type: "string",
    description: `The file LANG is written to (default ${DEFAULT_CONFIG_FILE}).`,
    default: DEFAULT_CONFIG_FILE,
    examples: ["/etc/alternate_path/locale"],
  },
} as const;

/** Enables and builds `locale`; an error message (what to do included) when the system cannot. */
async function generate(ctx: ModuleContext, locale: string): Promise<{ error: string } | { changed: boolean }> {
  const root = ctx.host.root;
  const supported = root.tryReadText(SUPPORTED);
  if (supported === null || !root.exists(LOCALE_GEN_PROGRAM)) {
    return { error: `locale ${locale}: this system cannot generate locales (no ${supported === null ? SUPPORTED : LOCALE_GEN_PROGRAM}: the locales package is not installed); install locales in the image, or use C.UTF-8, which needs no generation` };
  }
  const entry = findSupported(supported, locale);
  if (!entry) {
    const near = similarLocales(supported, locale);
    return { error: `locale ${locale} is not a locale this system can generate (not in ${SUPPORTED}); ${near.length ? `did you mean ${near.join(" or ")}? ` : ""}write a name listed in ${SUPPORTED}, e.g. en_US.UTF-8` };
  }
  const gen = enableInLocaleGen(root.tryReadText(LOCALE_GEN), entry);
  if (gen.changed) root.writeAtomic(LOCALE_GEN, gen.text, { mode: root.stat(LOCALE_GEN)?.mode ?? 0o644 });
  // --keep-existing builds only what is missing; without it locale-gen rebuilds every enabled locale.
  const localeGen = await runInTarget(ctx.host, ["locale-gen", "--keep-existing"], { timeoutMs: LOCALE_GEN_TIMEOUT_MS });
  if (localeGen.failure) return { error: `locale ${locale}: locale-gen failed (${localeGen.failure}); ${LOCALE_GEN} now enables "${entry.name} ${entry.charset}": run locale-gen on the machine to see why` };
  // locale-gen ignores a failing localedef (a locale source file missing): ask what was built.
  const list = await runInTarget(ctx.host, ["localedef", "--list-archive"], { timeoutMs: LIST_TIMEOUT_MS });
  const built = list.failure ? [] : list.result.stdout.toString("utf8").split("\n").map((s) => s.trim());
  if (!built.some((n) => sameLocale(n, entry.name))) {
    const said = localeGen.result.stdout.toString("utf8").trim().split("\n").slice(-2).join(" / ");
    return { error: `locale ${locale}: locale-gen did not build ${entry.name} (${said || "no output"}); is the locale's source in /usr/share/i18n/locales? reinstall the locales package` };
  }
  return { changed: gen.changed };
}

export const locale: Module = {
  id: "locale",
  stage: "config",
  frequency: "per-instance",
  schema: { type: "object", description: "Set the system locale (LANG), generating it first when needed.", properties: LOCALE_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const value = cfg.locale;
    if (value === undefined || value === null || value === "") return { status: "skipped", detail: "no locale" };
    if (isFalse(value)) return { status: "skipped", detail: "locale: false" };
    if (typeof value !== "string" || !isLocaleName(value.trim())) {
      return { status: "unchanged", errors: [`locale ${JSON.stringify(value)} is not a locale name; write one like en_US.UTF-8 (the names are in ${SUPPORTED})`] };
    }
    const name = value.trim();
    const file = cfg.locale_configfile ?? DEFAULT_CONFIG_FILE;
    if (typeof file !== "string" || !file.startsWith("/")) {
      return { status: "unchanged", errors: [`locale_configfile ${JSON.stringify(file)} is not an absolute path; write one like ${DEFAULT_CONFIG_FILE}, or leave it out`] };
    }
    const root = ctx.host.root;
    let changed = false;
    if (!isBuiltinLocale(name)) {
      const gen = await generate(ctx, name);
      if ("error" in gen) return { status: "unchanged", errors: [gen.error] };
      changed = gen.changed;
    }
    const current = root.tryReadText(file);
    if (readLocaleVar(current, "LANG") !== name) {
      root.writeAtomic(file, setLocaleVar(current, "LANG", name), { mode: root.stat(file)?.mode ?? 0o644 });
      changed = true;
    }
    return { status: changed ? "changed" : "unchanged", detail: `LANG=${name} in ${file}` };
  },
};
