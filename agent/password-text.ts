// A password in cloud-config as the text to set, one rule for every key that takes one
// (password, chpasswd.users[].password, users[].plain_text_passwd). cloud-init sets
// Python's str() of the value, so `password: 123456` (a YAML integer) sets "123456":
// a whole number is taken as its digits here too, and the boot says to quote it, since
// YAML reads 0123 as 83 and 1:30 as 90 (in cloud-init's YAML as in sprout's) and what
// is set is then not what was typed. Any other value that is not text (1.50, yes)
// would come out unlike the text typed and unlike cloud-init's str(): refused.
// Messages name the key, never the password.

export type PasswordText = { text: string; quoteHint: string | null } | { refused: string };

/** `where` names the entry ("chpasswd.users[0] (alice)"), `key` the YAML key ("password"). */
export function passwordText(value: unknown, where: string, key: string): PasswordText {
  if (typeof value === "string") return { text: value, quoteHint: null };
  const quote = `quote it in the YAML (${key}: "...")`;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return { text: String(value), quoteHint: `${where}: ${key} was given as a number and set as its digits, as cloud-init does; ${quote} so that a leading 0, a colon or an underscore is kept as typed` };
  }
  const what = typeof value === "boolean" ? `a YAML boolean (${String(value)})` : typeof value === "number" ? "a number that is not a whole one" : Array.isArray(value) ? "a list" : value === null ? "empty" : `a ${typeof value}`;
  return { refused: `${where}: ${key} is ${what}, not text; ${quote} so it is set exactly as written` };
}
