// A Debian package unpacked (apt-get download + dpkg-deb -x), never installed: its
// programs run from the cache without the package's maintainer scripts, so nothing is
// enabled or started on the test machine. Cached in the test cache, one folder per package.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const CACHE = process.env.SPROUT_TEST_CACHE || "/var/cache/sprout-test";

/** The unpacked tree of `pkg`, or why it could not be had (no apt, no network to the mirror). */
export function unpackedDeb(pkg: string): { tree: string } | { unavailable: string } {
  const dir = join(CACHE, "debs", pkg);
  if (existsSync(join(dir, ".complete"))) return { tree: join(dir, "tree") };
  mkdirSync(join(CACHE, "debs"), { recursive: true });
  // Unpacked next to its place and renamed, so an interrupted run leaves nothing a later run trusts.
  const work = mkdtempSync(join(CACHE, "debs", ".partial-"));
  try {
    execFileSync("apt-get", ["download", "-q", pkg], { cwd: work, stdio: "pipe", timeout: 180_000 });
    const deb = readdirSync(work).find((f) => f.endsWith(".deb"));
    if (!deb) return { unavailable: `apt-get download ${pkg} left no .deb` };
    execFileSync("dpkg-deb", ["-x", join(work, deb), join(work, "tree")], { timeout: 60_000 });
    rmSync(join(work, deb));
    writeFileSync(join(work, ".complete"), `${pkg}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    return { tree: join(dir, "tree") };
  } catch (err) {
    return { unavailable: `could not download and unpack ${pkg} (${(err as Error).message.split("\n")[0]}); run apt-get update` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
