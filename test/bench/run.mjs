// `npm run bench`: sprout's own cost at boot, measured as a user pays it.
// The main figure: `sprout boot` on test/bench/seed as a whole process (Node start
// included), 20 runs after 2 warm-ups, next to `node -e 0` measured in the same run;
// one JSON line with median and p90 of both and the difference. Then every other
// test/bench/*.mjs that exports bench() adds its own JSON line.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

export function timeProcess(argv, setup) {
  const samples = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const ctx = setup?.();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], typeof argv[1] === "function" ? argv[1](ctx) : argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && r.status !== 2) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
    ctx?.cleanup?.();
    if (i >= WARMUP) samples.push(ms);
  }
  return stats(samples);
}

function freshRoot() {
  const dir = mkdtempSync(join(tmpdir(), "sprout-bench-"));
  cpSync(join(here, "seed"), join(dir, "var/lib/cloud/seed/nocloud"), { recursive: true });
  cpSync("/proc/cmdline", join(dir, "proc/cmdline"), { recursive: true, force: true, errorOnExist: false });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const nodeBare = timeProcess([process.execPath, "-e", "0"]);
const boot = timeProcess([process.execPath, (ctx) => [bundle, "--root", ctx.dir, "boot", "--quiet"]], freshRoot);
console.log(
  JSON.stringify({
    bench: "boot-nocloud",
    runs: RUNS,
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
