// Whether a filesystem resizer grew anything, from what it printed (pure).

export type ResizeOutcome = { grew: boolean; detail: string };

/** resize2fs prints "Nothing to do!" or "The filesystem on /dev/x is now N (4k) blocks long." */
export function parseResize2fs(output: string): ResizeOutcome {
  const now = /is now (\d+) \((\w+)\) blocks long/.exec(output);
  if (now) return { grew: true, detail: `now ${now[1]} (${now[2]}) blocks` };
  const already = /already (\d+) \((\w+)\) blocks long/.exec(output);
  if (already || /Nothing to do/.test(output)) return { grew: false, detail: already ? `already ${already[1]} (${already[2]}) blocks: nothing to grow` : "nothing to grow" };
  return { grew: false, detail: output.trim().split("\n").pop() ?? "" };
}

/** xfs_growfs prints "data blocks changed from A to B" only when it grew. */
export function parseXfsGrowfs(output: string): ResizeOutcome {
  const m = /data blocks changed from (\d+) to (\d+)/.exec(output);
  if (m) return { grew: true, detail: `data blocks ${m[1]} -> ${m[2]}` };
  return { grew: false, detail: "nothing to grow" };
}

/** btrfs prints "Resize device id 1 (/dev/x) from 1.00GiB to max" whether or not it grew. */
export function parseBtrfsResize(output: string): ResizeOutcome {
  const m = /from (\S+) to (\S+)/.exec(output);
  return { grew: true, detail: m ? `resized from ${m[1]} to ${m[2]}` : "resized to max" };
}
