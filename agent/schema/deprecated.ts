// The deprecated cloud-init keys and values sprout still accepts. Apart from the
// module schemas so that `sprout schema` can report them without loading every module.
import type { JsonObject } from "../types";

/** Deprecated cloud-init keys sprout accepts: the key, and what to write instead. */
export const DEPRECATED_KEYS: Record<string, { use: string; schema: JsonObject }> = {
  apt_update: { use: "package_update", schema: { type: "boolean" } },
  apt_upgrade: { use: "package_upgrade", schema: { type: "boolean" } },
  apt_reboot_if_required: { use: "package_reboot_if_required", schema: { type: "boolean" } },
  // cloud-init's apt formats before `apt:` (modules/apt_configure/legacy.ts converts them).
  apt_sources: { use: "apt.sources", schema: { type: ["array", "object"] } },
  apt_mirror: { use: "apt.primary: [{arches: [default], uri: ...}]", schema: { type: "string" } },
  apt_mirror_search: { use: "apt.primary: [{arches: [default], search: [...]}]", schema: { type: "array", items: { type: "string" } } },
  apt_mirror_search_dns: { use: "apt.primary: [{arches: [default], search_dns: ...}]", schema: { type: "boolean" } },
  apt_proxy: { use: "apt.proxy", schema: { type: "string" } },
  apt_http_proxy: { use: "apt.http_proxy", schema: { type: "string" } },
  apt_ftp_proxy: { use: "apt.ftp_proxy", schema: { type: "string" } },
  apt_https_proxy: { use: "apt.https_proxy", schema: { type: "string" } },
  apt_preserve_sources_list: { use: "apt.preserve_sources_list", schema: { type: "boolean" } },
  apt_custom_sources_list: { use: "apt.sources_list", schema: { type: "string" } },
  add_apt_repo_match: { use: "apt.add_apt_repo_match", schema: { type: "string" } },
};

/** Deprecated values: a key path pattern ("*" for any list index), the value, what to write instead. */
export const DEPRECATED_VALUES: Array<{ path: string[]; test: (v: unknown) => boolean; message: string }> = [
  { path: ["manage_etc_hosts"], test: (v) => v === "template", message: 'manage_etc_hosts: template is deprecated; write manage_etc_hosts: true' },
  { path: ["users", "*", "lock-passwd"], test: () => true, message: "lock-passwd is deprecated; write lock_passwd" },
  { path: ["ca-certs"], test: () => true, message: "ca-certs is deprecated; write ca_certs" },
  { path: ["grub-dpkg"], test: () => true, message: "grub-dpkg is deprecated; write grub_dpkg" },
  { path: ["ca_certs", "remove-defaults"], test: () => true, message: "remove-defaults is deprecated; write remove_defaults" },
  { path: ["ca-certs", "remove-defaults"], test: () => true, message: "remove-defaults is deprecated; write remove_defaults" },
  { path: ["users", "*", "sudo"], test: (v) => v === true, message: 'sudo: true is deprecated; write the rule, e.g. sudo: "ALL=(ALL) NOPASSWD:ALL"' },
  { path: ["chpasswd", "list"], test: () => true, message: "chpasswd.list is deprecated; write chpasswd.users: [{name: USER, password: PASSWORD, type: text}]" },
  { path: ["chpasswd", "list"], test: (v) => typeof v === "string", message: "chpasswd.list as one multi-line string is deprecated; write a list (better: chpasswd.users)" },
];
