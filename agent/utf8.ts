// Strict UTF-8 decoding for what sprout reads from seeds and metadata services.

/**
 * The bytes as text, or null when they are not UTF-8: what TextDecoder("utf-8", {fatal})
 * gives (a leading BOM dropped), for less at boot. Buffer's decoder turns every invalid
 * sequence into U+FFFD, so only text holding one needs the strict decoder to tell a real
 * U+FFFD from a bad byte; and the global TextDecoder loads a module that a Node without a
 * start-up snapshot (Debian's) compiles from source.
 */
export function utf8Text(b: Buffer): string | null {
  const text = b.toString("utf8");
  if (text.includes("\uFFFD")) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(b);
    } catch {
      return null;
    }
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
