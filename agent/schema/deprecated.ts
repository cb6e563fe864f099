// The deprecated cloud-init keys and values sprout still accepts. Apart from the
// module schemas so that `sprout schema` can report them without loading every module.
import type { JsonObject } from "../types";

/** Deprecated cloud-init keys sprout accepts: the key, and what to write instead. */
export const DEPRECATED_KEYS: Record<string, { use: string; schema: JsonObject }> = {
  apt_update: { use: "package_update", schema: { type: "boolean" } },
  apt_upgrade: { use: "package_upgrade", schema: { type: "boolean" } },
  apt_reboot_if_required: { use: "package_reboot_if_required", schema: { type: "boolean" } },
};

/** Deprecated values: a key path pattern ("*" for any list index), the value, what to write instead. */
export const DEPRECATED_VALUES: Array<{ path: string[]; test: (v: unknown) => boolean; message: string }> = [
  { path: ["manage_etc_hosts"], test: (v) => v === "template", message: 'manage_etc_hosts: template is deprecated; write manage_etc_hosts: true' },
  { path: ["users", "*", "lock-passwd"], test: () => true, message: "lock-passwd is deprecated; write lock_passwd" },
  { path: ["ca-certs"], test: () => true, message: "ca-certs is deprecated; write ca_certs" },
  { path: ["ca_certs", "remove-defaults"], test: () => true, message: "remove-defaults is deprecated; write remove_defaults" },
  { path: ["ca-certs", "remove-defaults"], test: () => true, message: "remove-defaults is deprecated; write remove_defaults" },
  { path: ["users", "*", "sudo"], test: (v) => v === true, message: 'sudo: true is deprecated; write the rule, e.g. sudo: "ALL=(ALL) NOPASSWD:ALL"' },
  { path: ["chpasswd", "list"], test: () => true, message: "chpasswd.list is deprecated; write chpasswd.users: [{name: USER, password: PASSWORD, type: text}]" },
  { path: ["chpasswd", "list"], test: (v) => typeof v === "string", message: "chpasswd.list as one multi-line string is deprecated; write a list (better: chpasswd.users)" },
];
