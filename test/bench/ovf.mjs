// Bench: detecting and reading the OVF environment from an ISO in a CD drive, as the
// local stage does it: /sys/block scan, sprout's ISO9660 reader, the lazily loaded XML
// parser. Each sample is a fresh Node process, so the parser's first load is counted.
// median_ms/p90_ms: detect() + fetch() with the Host already made (as in a boot, where
// it exists before any datasource runs). load_*: the same from the first line of the
// script, i.e. right after Node start, including loading the bundled host and OVF code.
// cpu_*: the CPU time (user + system) of detect() + fetch(), which a loaded machine
// inflates less than wall time.
// No mount, no subprocess. Target: median_ms under 10 ms.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const repo = new URL("../../", import.meta.url).pathname;

const ENTRY = `
import { createHost } from "${repo}agent/host";
import { ovf } from "${repo}datasources/ovf";
import { buildIso } from "${repo}agent/iso9660/writer";
export { buildIso };
export async function run(root) {
  const h = createHost({ root, logFile: null });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ctx = { config: {}, system: {}, cmdline: { args: [], warnings: [] }, stage: "local", deadline: performance.now() + 5000 };
  const found = await ovf.detect(h, ctx);
  if (!found) throw new Error("OVF environment not detected");
  const data = await ovf.fetch(h, ctx);
  if (data.instanceId !== "iid-bench") throw new Error("wrong instance-id " + data.instanceId);
  const c = process.cpuUsage(c0);
  return [performance.now() - t0, (c.user + c.system) / 1000];
}
`;

const RUNNER = `
const t0 = performance.now();
const m = require(process.argv[2]);
m.run(process.argv[3]).then(([ms, cpu]) => process.stdout.write(JSON.stringify([ms, performance.now() - t0, cpu])), (e) => { console.error(e); process.exit(1); });
`;

export async function bench({ stats, runs = 20 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sprout-bench-ovf-"));
  try {
    writeFileSync(join(dir, "entry.ts"), ENTRY);
    writeFileSync(join(dir, "runner.cjs"), RUNNER);
    await build({ entryPoints: [join(dir, "entry.ts")], outfile: join(dir, "ovf.cjs"), bundle: true, platform: "node", target: "node18", format: "cjs", minify: true, logLevel: "warning" });
    const { buildIso } = await import(join(dir, "ovf.cjs"));
    const root = join(dir, "root");
    const env = `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="">
  <PropertySection>
    <Property oe:key="instance-id" oe:value="iid-bench"/>
    <Property oe:key="hostname" oe:value="bench"/>
    <Property oe:key="public-keys" oe:value="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcsbench bench"/>
    <Property oe:key="user-data" oe:value="${Buffer.from("#cloud-config\nruncmd: [true]\n".repeat(50)).toString("base64")}"/>
  </PropertySection>
</Environment>
`;
    const iso = buildIso({ label: "OVF ENV", date: new Date(0), files: [{ name: "ovf-env.xml", data: Buffer.from(env) }] });
    mkdirSync(join(root, "sys/block/sr0"), { recursive: true });
    mkdirSync(join(root, "dev"), { recursive: true });
    writeFileSync(join(root, "sys/block/sr0/size"), `${Math.ceil(iso.length / 512)}\n`);
    writeFileSync(join(root, "dev/sr0"), iso);
    const samples = [];
    const withLoad = [];
    const cpu = [];
    for (let i = 0; i < runs + 2; i++) {
      const r = spawnSync(process.execPath, [join(dir, "runner.cjs"), join(dir, "ovf.cjs"), root], { encoding: "utf8", timeout: 30_000 });
      if (r.status !== 0) throw new Error(`ovf bench run failed: ${r.stderr}`);
      const [ms, total, cpuMs] = JSON.parse(r.stdout);
      if (i >= 2) {
        samples.push(ms);
        withLoad.push(total);
        cpu.push(cpuMs);
      }
    }
    const q = stats ?? quantiles;
    const s = q(samples);
    const l = q(withLoad);
    const c = q(cpu);
    return { name: "ovf-detect-read-iso", median_ms: s.median, p90_ms: s.p90, target_ms: 10, cpu_median_ms: c.median, cpu_p90_ms: c.p90, load_median_ms: l.median, load_p90_ms: l.p90, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function quantiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10;
  return { median: q(0.5), p90: q(0.9) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await bench()));
