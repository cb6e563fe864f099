// cloud-init's readings of a yes/no value written as a boolean or as text (util.is_false,
// util.is_true / translate_bool), for the keys where cloud-init reads them so.

/** cloud-init's is_false: false, or "off", "0", "no", "false" in any case. */
export function isFalse(v: unknown): boolean {
  return v === false || (typeof v === "string" && ["off", "0", "no", "false"].includes(v.trim().toLowerCase()));
}

/** cloud-init's is_true / translate_bool: booleans, and "true", "yes", "on", "1" in any case. */
export function isTrue(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return ["true", "yes", "on", "1"].includes(v.trim().toLowerCase());
  if (typeof v === "number") return v === 1;
  return false;
}
