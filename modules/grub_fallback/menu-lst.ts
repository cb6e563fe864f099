// GRUB legacy / pv-grub /boot/grub/menu.lst: sprout's fallback stanza lives
// between two marker lines and nothing outside them is ever changed (pure).

export const BEGIN = "### BEGIN sprout fallback kernel (managed by sprout; edits inside are replaced) ###";
export const END = "### END sprout fallback kernel ###";
const BEGIN_RE = /^### BEGIN sprout fallback kernel\b.*###\s*$/;
const END_RE = /^### END sprout fallback kernel ###\s*$/;

/**
 * The stanza, modelled on the file's first `title` entry: its `root` line and its
 * kernel arguments, with the kernel and initrd paths pointing at the links. A
 * menu whose kernels are named /vmlinuz-... (a separate /boot) gets /dist-kernel/... .
 */
export function fallbackStanza(menu: string, hasInitrd: boolean): string | { error: string } {
  const lines = menu.split("\n");
  const first = lines.findIndex((l, i) => /^\s*title\s/.test(l) && !insideMarkers(lines, i));
  if (first < 0) return { error: "it has no title entry to copy the root device and kernel arguments from" };
  let root: string | null = null;
  let kernel: string[] | null = null;
  for (const l of lines.slice(first + 1)) {
    if (/^\s*title\s/.test(l)) break;
    const t = l.trim().split(/\s+/);
    if (t[0] === "root") root = l.trim();
    if (t[0] === "kernel") kernel = t.slice(1);
  }
  if (!kernel || kernel.length === 0) return { error: "its first entry has no kernel line to copy the arguments from" };
  const base = kernel[0]!.replace(/^\([^)]*\)/, "").startsWith("/boot/") ? "/boot/dist-kernel" : "/dist-kernel";
  return [
    BEGIN,
    "title Fallback kernel (the one this image was built with)",
    ...(root ? [root] : []),
    ["kernel", `${base}/vmlinuz`, ...kernel.slice(1)].join(" "),
    ...(hasInitrd ? [`initrd ${base}/initrd.img`] : []),
    END,
  ].join("\n");
}

function insideMarkers(lines: string[], i: number): boolean {
  const b = lines.findIndex((l) => BEGIN_RE.test(l));
  const e = lines.findIndex((l) => END_RE.test(l));
  return b >= 0 && e > b && i > b && i < e;
}

/** The menu with the stanza in place: replaced between the markers, or appended after everything else. */
export function updateMenuLst(menu: string, stanza: string): { text: string } | { error: string } {
  const lines = menu.split("\n");
  const begins = lines.flatMap((l, i) => (BEGIN_RE.test(l) ? [i] : []));
  const ends = lines.flatMap((l, i) => (END_RE.test(l) ? [i] : []));
  if (begins.length === 0 && ends.length === 0) {
    const body = menu.length === 0 || menu.endsWith("\n") ? menu : `${menu}\n`;
    return { text: `${body}${body.trim() ? "\n" : ""}${stanza}\n` };
  }
  if (begins.length !== 1 || ends.length !== 1 || ends[0]! < begins[0]!) {
    return { error: `its sprout markers are broken (${begins.length} BEGIN and ${ends.length} END lines${begins.length === 1 && ends.length === 1 ? ", END before BEGIN" : ""}); left as it is: remove the marker lines and boot again` };
  }
  return { text: [...lines.slice(0, begins[0]), stanza, ...lines.slice(ends[0]! + 1)].join("\n") };
}
