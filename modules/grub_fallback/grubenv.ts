// GRUB's environment block (/boot/grub/grubenv), read as grub-editenv reads it
// (grub-core/lib/envblk.c): a signature line, then `name=value` lines, where a
// backslash makes the next character (a newline too) part of the value, and `#`
// padding up to the block's size. Pure: the caller reads the file.

const SIGNATURE = "# GRUB Environment Block\n";

/** The variables of an environment block, or null when the text is not one (grub-editenv: "invalid environment block"). */
export function parseGrubenv(text: string): Record<string, string> | null {
  if (!text.startsWith(SIGNATURE)) return null;
  const env: Record<string, string> = {};
  let i = SIGNATURE.length;
  while (i < text.length) {
    // A line that starts with # is a comment or the padding.
    if (text[i] === "#") {
      const nl = text.indexOf("\n", i);
      if (nl === -1) break;
      i = nl + 1;
      continue;
    }
    let value = "";
    let eq = -1;
    let j = i;
    for (; j < text.length && text[j] !== "\n"; j++) {
      if (eq === -1) {
        if (text[j] === "=") eq = j;
        continue;
      }
      if (text[j] === "\\" && j + 1 < text.length) j++;
      value += text[j];
    }
    if (eq > i) env[text.slice(i, eq)] = value;
    i = j + 1;
  }
  return env;
}
