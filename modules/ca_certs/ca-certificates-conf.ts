// /etc/ca-certificates.conf with every certificate deselected ("!name"), as newer
// cloud-init's remove_defaults does on Debian: update-ca-certificates then drops
// their links, and a later ca-certificates upgrade keeps them deselected. Comments,
// blank lines and entries deselected already stay as they are.

export const DESELECT_HEADER = "# Modified by cloud-init to deselect certs due to user-data";

export function deselectAll(conf: string): { text: string; changed: boolean } {
  if (conf === "") return { text: conf, changed: false };
  const out: string[] = [];
  let header = false;
  let changed = false;
  for (const line of conf.replace(/\n$/, "").split("\n")) {
    if (line === DESELECT_HEADER) header = true;
    if (line === "" || line.startsWith("#") || line.startsWith("!")) {
      out.push(line);
      continue;
    }
    if (!header) {
      out.push(DESELECT_HEADER);
      header = true;
    }
    out.push(`!${line}`);
    changed = true;
  }
  return { text: `${out.join("\n")}\n`, changed };
}
