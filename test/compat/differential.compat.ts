// npm run test:compat: each case of test/compat/cases.ts is booted by Debian's
// cloud-init and by sprout on the same lowers; the observable effects are compared
// and every difference must be listed in test/compat/intentional.ts.
//   COMPAT_CASE=<regex>  runs only the matching cases.
//   COMPAT_REPLAY=1      compares the effects the last run saved, without booting
//                        (for working on the normaliser or the intentional list).
// Every difference, explained or not, goes to test-results/compat-report.md; the
// effects of each boot to test-results/compat/<case>.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serveDir } from "../e2e/harness";
import { defaultMetaData, startImdsMock, type ImdsMock } from "../imds-mock/server";
import { CASES, type CompatCase } from "./cases";
import { diffEffects, effectsOf, explain, unexplained, type Divergence, type Effects, type IntentionalDifference, type SeedPasswords } from "./effects";
import { INTENTIONAL } from "./intentional";
import { bootWith, compatUnavailable, type Agent, type BootRecord, type Seed } from "./machine";

const replay = process.env.COMPAT_REPLAY === "1";
const why = replay ? null : compatUnavailable();
if (why) console.warn(`skipping compat: ${why}`);
const only = process.env.COMPAT_CASE ? new RegExp(process.env.COMPAT_CASE) : null;
const cases = CASES.filter((c) => !only || only.test(c.name));
const EFFECTS_DIR = "test-results/compat";
const report: string[] = [];
const used = new Set<IntentionalDifference>();

/** crypt(3) of the host (libxcrypt: yescrypt, sha512crypt, ...) through perl, which every Debian has. */
function cryptVerifies(plain: string, hash: string): boolean {
  const r = spawnSync("perl", ["-e", 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "yes" : "no"', plain, hash], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`perl crypt failed: ${r.stderr}`);
  return r.stdout === "yes";
}

function seedPasswords(c: CompatCase, userData: string | Uint8Array | undefined): SeedPasswords | undefined {
  if (!c.passwords) return undefined;
  return { plaintexts: c.passwords, seedText: userData === undefined ? "" : Buffer.from(userData).toString("utf8"), verify: cryptVerifies };
}

const slug = (name: string) => name.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 80);

async function bootBoth(c: CompatCase): Promise<{ cloudInit: Effects; sprout: Effects; context: string }> {
  const saved = join(EFFECTS_DIR, `${slug(c.name)}.json`);
  if (replay) {
    if (!existsSync(saved)) throw new Error(`no saved effects for this case (${saved}): run without COMPAT_REPLAY first`);
    return { ...(JSON.parse(readFileSync(saved, "utf8")) as { cloudInit: Effects; sprout: Effects }), context: "" };
  }
  let server: { url: string; stop(): void } | null = null;
  let dir: string | null = null;
  try {
    let userData = c.userData;
    if (c.serve) {
      dir = mkdtempSync(join(tmpdir(), "sprout-compat-serve-"));
      for (const [p, body] of Object.entries(c.serve)) writeFileSync(join(dir, p), body);
      server = await serveDir(dir);
    }
    if (typeof userData === "function") userData = userData(server!.url);
    const seed: Seed = { metaData: c.metaData, userData, vendorData: c.vendorData, files: c.files, offline: c.offline, networkConfig: c.networkConfig, nics: c.nics, ovfEnv: c.ovfEnv, ovfTransport: c.ovfTransport, ec2MetadataUrl: c.ec2MetadataUrl };
    const served: Record<Agent, string> = { "cloud-init": "", sprout: "" };
    const boot = (agent: Agent) => (c.imds ? bootWithImds(agent, seed, c, (log) => (served[agent] = log)) : bootWith(agent, seed));
    const ci = await boot("cloud-init");
    const sp = await boot("sprout");
    const known = seedPasswords(c, userData);
    const seedText = userData === undefined ? "" : Buffer.from(userData).toString("utf8");
    const out = { cloudInit: effectsOf(ci.snapshot, ci, known, seedText), sprout: effectsOf(sp.snapshot, sp, known, seedText) };
    mkdirSync(EFFECTS_DIR, { recursive: true });
    writeFileSync(saved, JSON.stringify(out, null, 1));
    const imdsLog = c.imds ? `\n--- what the metadata service answered cloud-init:\n${served["cloud-init"]}\n--- and sprout:\n${served.sprout}` : "";
    const context = `${imdsLog}\n--- cloud-init status:\n${ci.statusOutput}\n--- sprout status:\n${sp.statusOutput}\n--- sprout boot (end):\n${sp.bootOutput.slice(-3000)}`;
    return { ...out, context };
  } finally {
    server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One boot with the case's EC2 metadata service: a fresh mock per agent (same options),
 * so neither boot sees the other's tokens or spent faults. `served` gets the requests
 * the mock answered, for the failure report.
 */
async function bootWithImds(agent: Agent, seed: Seed, c: CompatCase, served: (log: string) => void): Promise<BootRecord> {
  // The offline and the network cases boot in a network namespace of their own, with only its own lo: the host's 127.0.0.1 is not there.
  if (seed.offline || seed.nics !== undefined || seed.networkConfig !== undefined || Object.keys(seed.files ?? {}).some((p) => p.startsWith("/sys/class/net"))) {
    throw new Error(`compat case ${c.name}: an imds case must boot on the host's network namespace (no offline, nics, networkConfig or /sys/class/net files)`);
  }
  // On the host's namespace a NIC the meta-data describes must never be configured: neither agent
  // sees one (no /sys/class/net in the chroot), and without network/ neither is asked to.
  if ("network" in (c.imds!.metaData ?? defaultMetaData())) throw new Error(`compat case ${c.name}: an imds case's meta-data must not have network/ (it boots on the host's network namespace)`);
  const mock: ImdsMock = await startImdsMock(c.imds);
  try {
    return await bootWith(agent, { ...seed, ec2MetadataUrl: mock.url });
  } finally {
    served(mock.requests.map((r) => `${r.method} ${r.path} ${r.token === null ? "" : "(token) "}-> ${r.status}`).join("\n"));
    await mock.close();
  }
}

function describeDivergence(d: Divergence): string {
  return `  ${d.key}\n    cloud-init: ${d.cloudInit ?? "(absent)"}\n    sprout:     ${d.sprout ?? "(absent)"}`;
}

describe.skipIf(why !== null)("sprout and cloud-init on the same seeds", () => {
  afterAll(() => {
    mkdirSync("test-results", { recursive: true });
    writeFileSync("test-results/compat-report.md", report.join("\n") + "\n");
  });

  for (const c of cases) {
    it(c.name, async () => {
      const { cloudInit, sprout, context } = await bootBoth(c);
      const ds = diffEffects(cloudInit, sprout);
      report.push(`## ${c.name}`);
      for (const d of ds) {
        const k = explain(c.name, d, INTENTIONAL);
        if (k) used.add(k);
        report.push(`- ${k ? "intentional" : "UNEXPLAINED"}: ${d.key}\n  - cloud-init: \`${d.cloudInit ?? "(absent)"}\`\n  - sprout: \`${d.sprout ?? "(absent)"}\`${k ? `\n  - why: ${k.reason}` : ""}`);
      }
      if (ds.length === 0) report.push("- same effects");
      const open = unexplained(c.name, ds, INTENTIONAL);
      expect(open.map(describeDivergence).join("\n") + (open.length ? context : "")).toBe("");
    });
  }

  // A rule no case needs any more is a claim nobody checks: remove it (and its line in docs/compat.md).
  it.skipIf(only !== null)("every intentional difference is still seen in some case", () => {
    const stale = INTENTIONAL.filter((k) => !used.has(k)).map((k) => `${k.key} (${k.cases ?? "all cases"}): ${k.reason.slice(0, 80)}`);
    expect(stale).toEqual([]);
  });
});
