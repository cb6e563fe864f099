// The e2e harness: a cached Debian bookworm chroot (test/e2e/chroot-image.mjs)
// is the lower layer of an overlay, each test machine gets its own upper layer,
// and sprout runs inside `unshare --uts --ipc --mount --pid --fork` + chroot, as
// a boot would run it: fresh /run (tmpfs) and /proc each boot, a kernel command
// line of the test's choosing bound over /proc/cmdline, and a hard timeout.
// Only the upper layer is ever written, so the cached chroot stays clean.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, lstatSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUNDLE } from "../helpers/cli";
// @ts-expect-error -- plain .mjs helper shared with the command line
import { ensureChroot } from "./chroot-image.mjs";

/** Why e2e tests cannot run here, or null when they can. */
export function e2eUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "e2e tests need root (overlay mounts, chroot, namespaces)";
  for (const tool of ["debootstrap", "unshare", "chroot"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `e2e tests need ${tool}: run test/install-deps.sh`;
  }
  return null;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const INNER = `set -eu
lower=$1 upper=$2 work=$3 merged=$4 cmdline=$5
shift 5
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$merged"
mount -t proc proc "$merged/proc"
mount --bind "$cmdline" "$merged/proc/cmdline"
mount -t tmpfs -o mode=0755 tmpfs "$merged/run"
if [ -e "$upper/.sprout-keep-run" ]; then cp -a "$upper/.sprout-keep-run/." "$merged/run/"; fi
mount --rbind /dev "$merged/dev"
hostname localhost
status=0
chroot "$merged" "$@" || status=$?
# /run is a tmpfs that dies with this namespace: keep a copy for the test to read.
rm -rf "$upper/.sprout-run" && cp -a "$merged/run" "$upper/.sprout-run" 2>/dev/null || true
hostname > "$upper/.sprout-hostname"
exit $status
`;

export class ChrootMachine {
  readonly dir: string;
  readonly upper: string;
  private lower: string;
  cmdline = "root=/dev/vda1 ro console=ttyS0";

  constructor() {
    this.lower = ensureChroot();
    this.dir = mkdtempSync("/var/tmp/sprout-e2e-");
    this.upper = join(this.dir, "upper");
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(this.dir, d));
    this.install();
  }

  /** Copies the bundle in as the package would install it. */
  install(): void {
    this.write("/usr/lib/sprout/sprout.js", readFileSync(BUNDLE), 0o755);
    this.write("/usr/bin/sprout", "#!/bin/sh\nexec node /usr/lib/sprout/sprout.js \"$@\"\n", 0o755);
  }

  write(path: string, content: string | Uint8Array, mode = 0o644): void {
    const p = join(this.upper, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    chmodSync(p, mode);
  }

  /** A file as the machine sees it: /run from the last boot's copy, else the upper layer over the chroot. */
  read(path: string): string {
    return readFileSync(this.hostPath(path), "utf8");
  }

  exists(path: string): boolean {
    try {
      lstatSync(this.hostPath(path));
      return true;
    } catch {
      return false;
    }
  }

  private hostPath(path: string): string {
    if (path.startsWith("/run/")) return join(this.upper, ".sprout-run", path.slice(5));
    const up = join(this.upper, path);
    return existsSync(up) ? up : join(this.lower, path);
  }

  /** The hostname the kernel had when the last command in the machine ended. */
  lastHostname(): string {
    return readFileSync(join(this.upper, ".sprout-hostname"), "utf8").trim();
  }

  /** Runs argv inside the machine (namespaces + chroot), with a hard timeout. */
  run(argv: string[], opts: { timeoutMs?: number; keepRun?: boolean } = {}): RunResult {
    const cmdFile = join(this.dir, "cmdline");
    writeFileSync(cmdFile, this.cmdline + "\n");
    rmSync(join(this.upper, ".sprout-keep-run"), { recursive: true, force: true });
    if (opts.keepRun && existsSync(join(this.upper, ".sprout-run"))) spawnSync("cp", ["-a", join(this.upper, ".sprout-run"), join(this.upper, ".sprout-keep-run")]);
    const r = spawnSync(
      "unshare",
      ["--uts", "--ipc", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c", INNER, "inner", this.lower, this.upper, join(this.dir, "work"), join(this.dir, "merged"), cmdFile, ...argv],
      { encoding: "utf8", timeout: opts.timeoutMs ?? 120_000, killSignal: "SIGKILL" },
    );
    return { code: r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? `\nharness: ${r.error.message}` : "") };
  }

  /** A boot: `sprout boot` in a fresh /run. */
  boot(): RunResult {
    return this.run(["sprout", "boot"]);
  }

  /** A command after the boot, in the same /run (status, query). */
  after(argv: string[]): RunResult {
    return this.run(argv, { keepRun: true });
  }

  cleanup(): void {
    spawnSync("umount", ["-R", join(this.dir, "merged")], { stdio: "ignore" });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Serves `dir` on 127.0.0.1 from a child process (test/helpers/serve-dir.mjs):
 * a machine boots through spawnSync, which blocks the test's own event loop, so
 * a server in the test process could not answer it.
 */
export async function serveDir(dir: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [join(__dirname, "../helpers/serve-dir.mjs"), dir], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((res) => child.stdout!.once("data", (d: Buffer) => res((JSON.parse(d.toString()) as { url: string }).url)));
  return { url, stop: () => child.kill() };
}

/** Machines made by a test file, all cleaned up at its end. */
export class Machines {
  private all: ChrootMachine[] = [];
  make(): ChrootMachine {
    const m = new ChrootMachine();
    this.all.push(m);
    return m;
  }
  cleanup(): void {
    this.all.splice(0).forEach((m) => m.cleanup());
  }
}
