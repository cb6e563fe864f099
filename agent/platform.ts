import type { Host, TargetRoot } from "./host/types";

/**
 * Whether systemd runs the system sprout is configuring, so `systemctl` may restart its
 * services: the target is / and systemd is up. Not in a chroot, an image build or --root,
 * where a changed file applies when the service starts.
 */
export function systemdRunsTarget(h: Host): boolean {
  return h.root.isSystemRoot && h.root.exists("/run/systemd/system") && h.run.which("systemctl") !== null;
}

/** A DMI field from /sys/class/dmi/id under the root, trimmed, or null when absent or unreadable. */
export function readDmi(root: TargetRoot, field: string): string | null {
  try {
    const text = root.tryReadText(`/sys/class/dmi/id/${field}`, 4096);
    const v = text?.trim();
    return v ? v : null;
  } catch {
    return null;
  }
}

/** Public ssh keys in the shapes meta-data uses: a string of lines, a list, or a mapping of name -> key(s). */
export function normalizeSshKeys(value: unknown): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === "string") {
      for (const line of v.split(/\r?\n/)) {
        const t = line.trim();
        if (t && !t.startsWith("#")) out.push(t);
      }
    } else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === "object") Object.values(v as Record<string, unknown>).forEach(add);
  };
  add(value);
  return [...new Set(out)];
}
