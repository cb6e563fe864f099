// cloud-init's older apt formats, still found in seeds: top-level apt_proxy,
// apt_mirror, apt_sources (a list in the oldest form), ... moved under `apt:` the
// way cloud-init's convert_to_v3_apt_format does. Where both forms are given the
// `apt:` one wins, as in cloud-init; a conflicting value is reported instead of
// failing the whole module (cloud-init raises and configures nothing).
import { isPlainObject } from "../../agent/merge";
import type { CloudConfig, JsonObject } from "../../agent/types";

/**
 * Old top-level key -> key under `apt:` (null: a mirror key, converted below).
 * cloud-init (22.4.2, and later releases too) maps apt_ftp_proxy to https_proxy
 * and apt_https_proxy to ftp_proxy, crossed; sprout maps each to the setting its
 * name says, which is what a seed that sets them means.
 */
export const LEGACY_KEYS: Record<string, string | null> = {
  apt_sources: "sources",
  apt_mirror: null,
  apt_mirror_search: null,
  apt_mirror_search_dns: null,
  apt_proxy: "proxy",
  apt_http_proxy: "http_proxy",
  apt_ftp_proxy: "ftp_proxy",
  apt_https_proxy: "https_proxy",
  apt_preserve_sources_list: "preserve_sources_list",
  apt_custom_sources_list: "sources_list",
  add_apt_repo_match: "add_apt_repo_match",
};

const MIRROR_KEYS: Record<string, string> = { apt_mirror: "uri", apt_mirror_search: "search", apt_mirror_search_dns: "search_dns" };

export interface Converted {
  /** The `apt:` mapping to apply (empty when nothing was configured). */
  apt: JsonObject;
  /** Whether anything was configured at all (`apt:` or an old key). */
  configured: boolean;
  /** Old keys that were used, for the detail. */
  legacy: string[];
  errors: string[];
}

/** The sources of the oldest format: a list, each with its own filename (default cloud_config_sources.list). */
function sourcesFromList(list: unknown[]): JsonObject {
  const out: JsonObject = {};
  list.forEach((entry, i) => {
    const e = isPlainObject(entry) ? { ...entry } : entry;
    const filename = isPlainObject(e) && typeof e.filename === "string" ? e.filename : "cloud_config_sources.list";
    if (isPlainObject(e)) e.filename = filename;
    // Entries without a filename all go to one file: keep each under its own key.
    out[filename in out ? `${filename}#${i}` : filename] = e;
  });
  return out;
}

export function convertLegacy(cfg: CloudConfig): Converted {
  const errors: string[] = [];
  const given = cfg.apt;
  const legacy = Object.keys(LEGACY_KEYS).filter((k) => cfg[k] !== undefined && cfg[k] !== null && cfg[k] !== "");
  if (given === undefined || given === null) {
    if (!legacy.length) return { apt: {}, configured: false, legacy, errors };
  } else if (!isPlainObject(given)) {
    return { apt: {}, configured: true, legacy, errors: [`apt must be a mapping (proxy:, sources:, primary:, ...), not ${Array.isArray(given) ? "a list" : typeof given}; nothing under it was applied`] };
  }
  const apt: JsonObject = isPlainObject(given) ? { ...given } : {};
  const fromOld: JsonObject = {};
  for (const k of legacy) {
    const v = k === "apt_sources" && Array.isArray(cfg[k]) ? sourcesFromList(cfg[k] as unknown[]) : cfg[k];
    const to = LEGACY_KEYS[k];
    if (to) fromOld[to] = v;
  }
  const mirror: JsonObject = {};
  for (const [k, to] of Object.entries(MIRROR_KEYS)) if (legacy.includes(k)) mirror[to] = cfg[k];
  if (Object.keys(mirror).length) fromOld.primary = [{ arches: ["default"], ...mirror }];
  for (const [k, v] of Object.entries(fromOld)) {
    if (!(k in apt) || apt[k] === null || apt[k] === undefined) apt[k] = v;
    else if (JSON.stringify(apt[k]) !== JSON.stringify(v)) errors.push(`apt.${k} and the deprecated top-level key for it disagree; sprout used apt.${k} (remove the old key)`);
  }
  return { apt, configured: true, legacy, errors };
}
