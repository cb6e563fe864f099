// /proc/self/mountinfo, parsed (pure). Each line:
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// id parent major:minor root mount-point options [optional fields...] - fstype source super-options
// Paths escape space, tab, newline and backslash as \040 \011 \012 \134.

export interface MountEntry {
  id: number;
  parentId: number;
  /** "major:minor" of the device behind the mount (0:N for tmpfs, overlay, ...). */
  majMin: string;
  /** The path inside the filesystem that is mounted (not "/" for bind mounts). */
  fsRoot: string;
  mountPoint: string;
  fsType: string;
  /** What was mounted: /dev/vda1, /dev/root, /dev/mapper/vg-root, tmpfs, ... */
  source: string;
  readOnly: boolean;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses every well-formed line; malformed lines are skipped and counted. */
export function parseMountinfo(text: string): { entries: MountEntry[]; skipped: number } {
  const entries: MountEntry[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const f = line.trim().split(/\s+/);
    const sep = f.indexOf("-", 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 3 || !/^\d+:\d+$/.test(f[2]!)) {
      skipped++;
      continue;
    }
    entries.push({
      id: Number(f[0]),
      parentId: Number(f[1]),
      majMin: f[2]!,
      fsRoot: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      fsType: f[sep + 1]!,
      source: unescape(f[sep + 2]!),
      readOnly: f[5]!.split(",").includes("ro"),
    });
  }
  return { entries, skipped };
}

/** The mount that is visible at `mountPoint`: the last one mounted there (later mounts hide earlier ones). */
export function mountAt(entries: MountEntry[], mountPoint: string): MountEntry | null {
  const want = normalize(mountPoint);
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.mountPoint === want) return entries[i]!;
  return null;
}

function normalize(p: string): string {
  const s = p.replace(/\/+/g, "/");
  return s.length > 1 ? s.replace(/\/$/, "") : s;
}
