// "Did you mean" for a misspelt key: shared by `sprout schema` and the boot's
// check of user-data keys, which must not load the validator.

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** The nearest known key, when one is close enough to be a typo. */
export function didYouMean(key: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const k = key.toLowerCase().replace(/-/g, "_");
  for (const c of known) {
    const d = distance(k, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  // One edit in three characters: "ntp" is not a typo of "snap", "bootcmds" is one of "bootcmd".
  return best !== null && bestD <= Math.max(1, Math.min(3, Math.floor(key.length / 3))) ? best : null;
}
