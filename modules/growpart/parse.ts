// What growpart (cloud-guest-utils) said, from its exit code and output (pure).
//   exit 0: "CHANGED: partition=1 start=2048 old: size=100352 end=102399 new: size=202719 end=204766"
//   exit 1: "NOCHANGE: partition 1 is size 202719. it cannot be grown"
//           "NOCHANGE: partition 1 could only be grown by 33 [fudge=2048]"
//   exit 2 (or other): "FAILED: ..." and a reason on stderr.

export type GrowpartOutcome =
  | { kind: "changed"; oldSectors: number | null; newSectors: number | null }
  | { kind: "nochange"; reason: string }
  | { kind: "failed"; reason: string };

export function parseGrowpartOutput(code: number | null, stdout: string, stderr: string): GrowpartOutcome {
  const text = `${stdout}\n${stderr}`;
  const changed = /CHANGED:.*old:\s*size=(\d+).*new:\s*size=(\d+)/.exec(text);
  if (code === 0) return { kind: "changed", oldSectors: changed ? Number(changed[1]) : null, newSectors: changed ? Number(changed[2]) : null };
  const nochange = /NOCHANGE:\s*(.*)/.exec(text);
  if (code === 1 && nochange) return { kind: "nochange", reason: nochange[1]!.trim() };
  const failed = /FAILED:\s*(.*)/.exec(text);
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const reason = failed ? failed[1]!.trim() : lines[lines.length - 1] ?? `exit ${code}`;
  return { kind: "failed", reason };
}
