// Run by ./live-root.ts (bundled with esbuild) inside `unshare --mount
// --propagation private`, as root: one module on the running system ("/"),
// with /etc an overlay (the files the test gives written into it, the
// module's writes landing in the scratch folder) and /run a fresh tmpfs, so
// every mount the module makes lives and dies with this mount namespace. Swap
// is not namespaced: whatever this run switched on under the scratch folder is
// switched off before it exits.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHost } from "../../agent/host";
import type { CloudConfig } from "../../agent/types";
import { findModule } from "../../modules";
import { moduleContext } from "./module-context";

export interface LiveJob {
  /** The module's id in modules/index.ts. */
  module: string;
  cfg: CloudConfig;
  scratch: string;
  /** Files written into the overlaid /etc before the run, by their path under /etc. */
  etc: Record<string, string>;
  /** Make /run/systemd/system, so the module thinks systemd runs the machine (systemctl is a stub in stubBin). */
  systemd: boolean;
  stubBin: string;
  /** Files to read after the run (on the mounted filesystems). */
  read: string[];
  /** Runs of the module in the same namespace (default 1): a rerun sees what the first left. */
  runs?: number;
}

function swapoffUnder(dir: string): void {
  for (const line of readFileSync("/proc/swaps", "utf8").split("\n").slice(1)) {
    const path = line.split(/\s+/)[0];
    if (path && path.startsWith(`${dir}/`)) execFileSync("swapoff", [path]);
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as LiveJob;
  const upper = `${job.scratch}/etc-upper`;
  const work = `${job.scratch}/etc-work`;
  mkdirSync(upper, { recursive: true });
  mkdirSync(work, { recursive: true });
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=/etc,upperdir=${upper},workdir=${work}`, "/etc"]);
  for (const [name, content] of Object.entries(job.etc)) writeFileSync(`/etc/${name}`, content);
  execFileSync("mount", ["-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"]);
  if (job.systemd) mkdirSync("/run/systemd/system", { recursive: true });
  process.env.PATH = `${job.stubBin}:${process.env.PATH}`;
  const mod = findModule(job.module);
  if (!mod) throw new Error(`no module ${job.module}`);
  const h = createHost({ root: "/", logFile: null });
  const out: Record<string, unknown> = {};
  try {
    const results = [];
    for (let i = 0; i < (job.runs ?? 1); i++) results.push(await mod.run(job.cfg, moduleContext(h, mod.stage)));
    out.results = results;
    out.result = results[results.length - 1];
    out.fstab = existsSync("/etc/fstab") ? readFileSync("/etc/fstab", "utf8") : null;
    out.mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
    out.swaps = readFileSync("/proc/swaps", "utf8");
    out.read = Object.fromEntries(job.read.map((p) => [p, existsSync(p) ? readFileSync(p, "utf8") : null]));
  } finally {
    swapoffUnder(job.scratch);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
