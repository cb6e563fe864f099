// Runs inside the case's mount namespace, outside the chroot, while the overlay is
// still mounted: lists what the boot changed (every entry of the upper layer) with
// its mode, owner and content as the merged tree shows it, and the account files
// before (the lowers) and after (the merged tree). Prints one JSON document.
// Usage: node collect.mjs MERGED UPPER LOWER1:LOWER2...
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";

const [merged, upper, lowers] = process.argv.slice(2);
const lowerDirs = lowers.split(":");
const MAX_INLINE = 64 * 1024;

function base(path) {
  for (const l of lowerDirs) {
    try {
      return { dir: l, st: lstatSync(join(l, path)) };
    } catch {}
  }
  return null;
}

function describe(path) {
  let st;
  try {
    st = lstatSync(join(merged, path));
  } catch {
    return { path, kind: "deleted", existedBefore: base(path) !== null };
  }
  const e = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, existedBefore: base(path) !== null };
  if (st.isSymbolicLink()) return { ...e, kind: "link", target: readlinkSync(join(merged, path)) };
  if (st.isDirectory()) {
    const b = base(path);
    return { ...e, kind: "dir", unchanged: !!b && (b.st.mode & 0o7777) === e.mode && b.st.uid === e.uid && b.st.gid === e.gid };
  }
  if (st.isFile()) {
    const data = readFileSync(join(merged, path));
    // mkswap writes a random UUID into a swap area: hashed zeroed, two agents' equal swap files compare equal.
    if (data.length > MAX_INLINE && data.toString("latin1", 4086, 4096) === "SWAPSPACE2") data.fill(0, 1036, 1052);
    return data.length <= MAX_INLINE ? { ...e, kind: "file", size: data.length, b64: data.toString("base64") } : { ...e, kind: "file", size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
  }
  return { ...e, kind: "other" };
}

const changed = [];
function walk(rel) {
  for (const name of readdirSync(join(upper, rel))) {
    const p = `${rel}/${name}`;
    const st = lstatSync(join(upper, p));
    changed.push(describe(p));
    if (st.isDirectory()) walk(p);
  }
}
walk("");

const text = (root, p) => (existsSync(join(root, p)) ? readFileSync(join(root, p), "utf8") : null);
const before = {};
const after = {};
for (const f of ["/etc/passwd", "/etc/group", "/etc/shadow"]) {
  after[f] = text(merged, f);
  const b = base(f);
  before[f] = b ? text(b.dir, f) : null;
}
// /etc/shadow counts days since 1970: the normaliser tells "set during the boot" from other days with it.
const today = Math.floor(Date.now() / 86_400_000);
process.stdout.write(JSON.stringify({ changed, before, after, today }));
