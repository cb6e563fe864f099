// `npm run bench`: sprout's own cost at boot, measured as a user pays it.
// The main figure: `sprout boot` on test/bench/seed as a whole process (Node start
// included), 20 runs after 2 warm-ups, each next to a run of `node -e 0`; one JSON line
// with median and p90 of both and the difference. The boot's root has a tmpfs /run, as
// a machine has (see machine-root.mjs; run_on_tmpfs says whether it had one). Then every other
// test/bench/*.mjs that exports bench() adds its own JSON line.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountRunTmpfs, unmountRun } from "./machine-root.mjs";

// A boot runs from a systemd unit with a bare environment. This machine's shell sets
// NODE_EXTRA_CA_CERTS, which makes every Node process parse the whole CA bundle at
// start-up (about 50 ms here): measured with it, Node's floor and sprout both carry
// a cost no booting machine pays. Every process below runs without it.
delete process.env.NODE_EXTRA_CA_CERTS;

const RUNS = Number(process.env.BENCH_RUNS || 20);
const WARMUP = 2;
const here = new URL(".", import.meta.url).pathname;
const bundle = new URL("../../dist/sprout.js", import.meta.url).pathname;

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: Math.round(q(0.5) * 10) / 10, p90: Math.round(q(0.9) * 10) / 10 };
}

/** One run of argv, in ms; a run that fails (exit other than 0 or 2, sprout's degraded) ends the bench. */
function sampleProcess(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 2) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return ms;
}

/** Median and p90 of RUNS runs of argv after WARMUP (the other benches get this). */
export function timeProcess(argv) {
  const samples = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const ms = sampleProcess(argv);
    if (i >= WARMUP) samples.push(ms);
  }
  return stats(samples);
}

let runOnTmpfs = true;
function freshRoot() {
  const dir = mkdtempSync(join(tmpdir(), "sprout-bench-"));
  cpSync(join(here, "seed"), join(dir, "var/lib/cloud/seed/nocloud"), { recursive: true });
  cpSync("/proc/cmdline", join(dir, "proc/cmdline"), { recursive: true, force: true, errorOnExist: false });
  const mounted = mountRunTmpfs(dir);
  runOnTmpfs &&= mounted;
  return {
    dir,
    cleanup: () => {
      unmountRun(dir, mounted);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// `node -e 0` and the boot take turns, so a change in this machine's speed during the
// run (other VMs on the host) weighs on both figures alike, not on one of them.
const { nodeBare, boot } = (() => {
  const bare = [];
  const boots = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const b = sampleProcess([process.execPath, "-e", "0"]);
    const ctx = freshRoot();
    const t = sampleProcess([process.execPath, bundle, "--root", ctx.dir, "boot", "--quiet"]);
    ctx.cleanup();
    if (i >= WARMUP) {
      bare.push(b);
      boots.push(t);
    }
  }
  return { nodeBare: stats(bare), boot: stats(boots) };
})();
console.log(
  JSON.stringify({
    bench: "boot-nocloud",
    runs: RUNS,
    run_on_tmpfs: runOnTmpfs,
    sprout_boot_median_ms: boot.median,
    sprout_boot_p90_ms: boot.p90,
    node_e0_median_ms: nodeBare.median,
    node_e0_p90_ms: nodeBare.p90,
    sprout_overhead_median_ms: Math.round((boot.median - nodeBare.median) * 10) / 10,
    sprout_overhead_p90_ms: Math.round((boot.p90 - nodeBare.p90) * 10) / 10,
  }),
);

for (const f of readdirSync(here).filter((n) => n.endsWith(".mjs") && n !== "run.mjs").sort()) {
  const mod = await import(join(here, f));
  if (typeof mod.bench !== "function") continue;
  try {
    console.log(JSON.stringify(await mod.bench({ stats, timeProcess, bundle, runs: RUNS })));
  } catch (err) {
    console.log(JSON.stringify({ bench: f, error: String(err?.message ?? err) }));
  }
}
