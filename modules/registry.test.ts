// The gate every module passes: registered once, a schema whose every key has a
// description and an example, and a test file that names it.
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { knownTopLevelKeys, ownedKeys } from "../agent/schema";
import { DEPRECATED_KEYS } from "../agent/schema/deprecated";
import { bootKnownKeys } from "../agent/schema/known-keys";
import { STAGES } from "../agent/types";
import { moduleContext, recordingHost } from "../test/helpers/module-context";
import { tempRoot } from "../test/helpers/target";
import { CONF_FILE, PROXY_FILE } from "./apt_configure/files";
import { idleResult, MODULE_MANIFEST } from "./manifest";
import { MODULES } from ".";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".test.ts") ? [join(dir, e.name)] : []));
}
const allTests = [...testFiles(__dirname), ...testFiles(join(__dirname, "../test"))].map((f) => readFileSync(f, "utf8")).join("\n");

function undocumented(schema: Record<string, unknown>, path: string): string[] {
  const out: string[] = [];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [k, v] of Object.entries(props)) {
    if (typeof v.description !== "string" || v.description.length < 10) out.push(`${path}${k}: no description`);
    if (!Array.isArray(v.examples) || v.examples.length === 0) out.push(`${path}${k}: no example`);
  }
  return out;
}

describe("module registry", () => {
  it("has unique ids and valid stages and frequencies", () => {
    expect(new Set(MODULES.map((m) => m.id)).size).toBe(MODULES.length);
    for (const m of MODULES) {
      expect(STAGES).toContain(m.stage);
      expect(["always", "per-instance", "once"]).toContain(m.frequency);
    }
  });

  for (const m of MODULES) {
    it(`${m.id}: schema documents every key, and a test exercises it`, () => {
      expect(m.schema.type).toBe("object");
      expect(typeof m.schema.description).toBe("string");
      expect(undocumented(m.schema, "")).toEqual([]);
      const folder = join(__dirname, m.id);
      const named = new RegExp(`\\b${m.id.replace(/_/g, "_")}\\b`);
      expect(existsSync(folder) || named.test(allTests), `${m.id} needs a folder modules/${m.id}/ or a test naming it`).toBe(true);
      expect(named.test(allTests), `no test names ${m.id}`).toBe(true);
    });
  }
});

// A boot reads modules/manifest.ts, not MODULES: the two must describe the same modules, and a
// module the manifest leaves unloaded must be one that would have done nothing.
describe("module manifest (what a boot loads)", () => {
  it("lists every module of MODULES, in the same order, stage and frequency, and loads that module", async () => {
    expect(MODULE_MANIFEST.map((e) => e.id)).toEqual(MODULES.map((m) => m.id));
    for (const [i, e] of MODULE_MANIFEST.entries()) {
      expect({ id: e.id, stage: e.stage, frequency: e.frequency }).toEqual({ id: MODULES[i].id, stage: MODULES[i].stage, frequency: MODULES[i].frequency });
      expect(await e.load(), `${e.id}'s load()`).toBe(MODULES[i]);
    }
  });

  it("gives each module the keys its schema owns and the deprecated keys standing for them", () => {
    const owned = ownedKeys();
    for (const e of MODULE_MANIFEST) {
      const m = MODULES.find((x) => x.id === e.id)!;
      for (const k of Object.keys((m.schema.properties ?? {}) as object)) expect(e.keys, `${e.id} reads ${k}`).toContain(k);
      for (const k of e.keys) expect(owned.has(k) || k in DEPRECATED_KEYS, `${e.id}: ${k} is not a known key`).toBe(true);
    }
    // apt_update stands for package_update: whoever owns package_update reads apt_update too.
    for (const [k, d] of Object.entries(DEPRECATED_KEYS)) {
      const owner = owned.get(d.use.split(/[.:\s]/)[0])?.owner;
      expect(owner, `the module ${k} stands for`).toBeDefined();
      expect(MODULE_MANIFEST.find((e) => e.id === owner)!.keys, `${owner} must wake for the deprecated ${k}`).toContain(k);
    }
  });

  it("knows at boot exactly the top-level keys the modules' schemas know", () => {
    expect([...bootKnownKeys()].sort()).toEqual([...knownTopLevelKeys()].sort());
  });

  // Every other module's keys, with their documented examples as values: a module that
  // acted on a key it does not list would be left unloaded by a boot that needed it.
  const examples = new Map<string, unknown>();
  for (const [k, { schema }] of ownedKeys()) if (Array.isArray(schema.examples)) examples.set(k, schema.examples[0]);
  for (const [k, d] of Object.entries(DEPRECATED_KEYS)) examples.set(k, d.schema.type === "boolean" ? true : d.schema.type === "string" ? "http://proxy.example:3128/" : []);

  for (const e of MODULE_MANIFEST) {
    if (e.runs !== "with-keys") continue;
    it(`${e.id}: with none of its keys (every other module's set) does nothing, and says "${e.idle}" as the boot does unloaded`, async () => {
      const root = tempRoot({ "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "/etc/os-release": "ID=debian\n" });
      try {
        const cfg = Object.fromEntries([...examples].filter(([k]) => !e.keys.includes(k)));
        const rec = recordingHost(root.host());
        const ctx = moduleContext(rec.host, e.stage);
        const before = treeOf(root.dir);
        expect(idleResult(e, cfg, ctx)).toEqual({ status: "skipped", detail: e.idle });
        const { errors, ...res } = await (await e.load()).run(cfg, ctx);
        expect(res).toEqual({ status: "skipped", detail: e.idle });
        expect(errors ?? []).toEqual([]);
        expect(rec.runs).toEqual([]);
        expect(treeOf(root.dir)).toEqual(before);
        // One of its own keys set, the boot loads it.
        expect(idleResult(e, { [e.keys[0]]: examples.get(e.keys[0]) ?? null }, ctx)).toBeNull();
      } finally {
        root.cleanup();
      }
    });
  }

  it("loads apt_configure with no apt key when an earlier instance's proxy or apt.conf file is there (cloud-init removes them)", async () => {
    const e = MODULE_MANIFEST.find((x) => x.id === "apt_configure")!;
    for (const file of [PROXY_FILE, CONF_FILE]) {
      const root = tempRoot({ [file]: 'Acquire::http::Proxy "http://old:3128/";\n' });
      try {
        const ctx = moduleContext(root, "config");
        expect(idleResult(e, {}, ctx)).toBeNull();
        expect((await (await e.load()).run({}, ctx)).status).toBe("changed");
        expect(existsSync(join(root.dir, file))).toBe(false);
      } finally {
        root.cleanup();
      }
    }
  });

  it("loads mounts with no mounts key on EC2 when the block-device-mapping names ephemeral or swap devices", () => {
    const e = MODULE_MANIFEST.find((x) => x.id === "mounts")!;
    const root = tempRoot();
    try {
      const on = (datasource: string, bdm: Record<string, string>) => ({ ...moduleContext(root, { stage: "network", metaData: { "block-device-mapping": bdm } }), datasource });
      expect(idleResult(e, {}, on("Ec2", { ami: "/dev/sda1", ephemeral0: "sdb" }))).toBeNull();
      expect(idleResult(e, {}, on("Ec2", { ami: "/dev/sda1", swap: "sdc" }))).toBeNull();
      expect(idleResult(e, {}, on("Ec2", { ami: "/dev/sda1", root: "/dev/sda1" }))).toEqual({ status: "skipped", detail: "no mounts or swap" });
      expect(idleResult(e, {}, on("NoCloud", { ephemeral0: "sdb" }))).toEqual({ status: "skipped", detail: "no mounts or swap" });
    } finally {
      root.cleanup();
    }
  });

  it("loads set_passwords with no password key when the OVF environment gave the default user's password (or RANDOM)", () => {
    const e = MODULE_MANIFEST.find((x) => x.id === "set_passwords")!;
    const root = tempRoot();
    try {
      const withDs = (ds: Record<string, unknown>) => moduleContext(root, { stage: "config", instance: { v1: { instance_id: "iid-ovf" }, ds } });
      expect(idleResult(e, {}, withDs({ default_user: { hashed_passwd: "$6$salt$hash" } }))).toBeNull();
      expect(idleResult(e, {}, withDs({ default_user: { random_passwd: true } }))).toBeNull();
      expect(idleResult(e, {}, withDs({ meta_data: {} }))).toEqual({ status: "skipped", detail: "no password or chpasswd" });
    } finally {
      root.cleanup();
    }
  });
});

/** Every path under dir with its size and mode: what a module wrote, if anything. */
function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      out[p.slice(dir.length)] = `${st.mode.toString(8)} ${e.isDirectory() ? "dir" : st.size}`;
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
