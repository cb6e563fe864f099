import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODULES } from "../../modules";
import { cloudConfigSchema, renderModuleDocs, undocumentedKeys } from ".";
import { CLOUD_INIT_ONLY_MODULES } from "../module-lists";
import { CLOUD_INIT_ONLY_KEYS } from "./cloud-init-only";
import { bootKnownKeys } from "./known-keys";
import { didYouMean, formatProblem, validateCloudConfig } from "./validate";

const DOCS = join(__dirname, "../../../shared/corpus/cloud-init/module-docs");
// The cloud-init modules issue 4 covers; growpart, resizefs and rsyslog belong to other modules.
const COVERED = ["cc_bootcmd", "cc_final_message", "cc_package_update_upgrade_install", "cc_phone_home", "cc_power_state_change", "cc_runcmd", "cc_set_hostname", "cc_ssh", "cc_timezone", "cc_update_etc_hosts", "cc_update_hostname", "cc_users_groups", "cc_write_files"];
const errorsOf = (text: string) => validateCloudConfig(text, { file: "t.yaml", requireHeader: true }).filter((p) => p.severity === "error");

describe("the schema, from the modules' own schemas", () => {
  it("every key of every module has a description and an example", () => {
    expect(undocumentedKeys()).toEqual([]);
  });
  it("is a valid JSON Schema (sprout schema skips this check at run time, for speed)", async () => {
    const Ajv = (await import("ajv")).default;
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(cloudConfigSchema()), JSON.stringify(ajv.errors)).toBe(true);
  });
  it("holds every module's keys", () => {
    const props = cloudConfigSchema().properties as Record<string, unknown>;
    for (const m of MODULES) for (const k of Object.keys((m.schema.properties ?? {}) as object)) expect(props).toHaveProperty(k);
  });
  for (const dir of COVERED) {
    for (const f of readdirSync(`${DOCS}/${dir}`)) {
      it(`module-docs ${dir}/${f} is valid`, () => {
        const text = execFileSync("cat", [`${DOCS}/${dir}/${f}`], { encoding: "utf8" });
        expect(validateCloudConfig(text, { file: f, requireHeader: true }).filter((p) => p.severity === "error")).toEqual([]);
      });
    }
  }
  it("renders the module reference in Markdown", () => {
    const md = renderModuleDocs();
    for (const m of MODULES) expect(md).toContain(`## ${m.id}\n`);
    expect(renderModuleDocs("timezone")).toMatch(/^## timezone\n[\s\S]*\| `timezone` \| string \|[\s\S]*```yaml\n#cloud-config\ntimezone: Europe\/Berlin\n```/);
  });
});

describe("errors a person can act on", () => {
  it("an unknown top-level key gets a did-you-mean, with line and column", () => {
    expect(errorsOf("#cloud-config\nhostname: a\nwrite_file:\n  - path: /x\n")).toEqual([
      { severity: "error", file: "t.yaml", line: 3, col: 1, path: "write_file", message: 'unknown key "write_file" (did you mean "write_files"?)' },
    ]);
    expect(didYouMean("bootcmds", ["bootcmd", "runcmd"])).toBe("bootcmd");
    expect(didYouMean("zzzzzz", ["bootcmd"])).toBeNull();
    // Short keys need a closer match: ntp is a module of its own, not a typo of snap.
    expect(didYouMean("ntp", ["snap"])).toBeNull();
    expect(didYouMean("snapp", ["snap"])).toBe("snap");
  });
  it("a key only a cloud-init module sprout lacks reads is a warning naming that module: the file is valid, and a boot leaves the key unapplied", () => {
    const problems = validateCloudConfig("#cloud-config\nno_ssh_fingerprints: true\npuppet:\n  install: true\n", { file: "t.yaml", requireHeader: true });
    expect(problems).toEqual([
      { severity: "warning", file: "t.yaml", line: 2, col: 1, path: "no_ssh_fingerprints", message: "cloud-init's ssh_authkey_fingerprints module (a console table) reads this key, and sprout has no counterpart: a boot leaves it unapplied and says so in `sprout status`" },
      { severity: "warning", file: "t.yaml", line: 3, col: 1, path: "puppet", message: "cloud-init's puppet module reads this key, and sprout has no counterpart: a boot leaves it unapplied and says so in `sprout status`" },
    ]);
    expect(formatProblem(problems[1]!)).toBe("t.yaml:3:1: warning: puppet: cloud-init's puppet module reads this key, and sprout has no counterpart: a boot leaves it unapplied and says so in `sprout status`");
  });
  it("the cloud-init-only keys are keys no sprout module reads, of modules the module lists know sprout lacks", () => {
    const known = bootKnownKeys();
    for (const [key, { module }] of Object.entries(CLOUD_INIT_ONLY_KEYS)) {
      expect(known.has(key), key).toBe(false);
      if (module !== null) expect(CLOUD_INIT_ONLY_MODULES.has(module), module).toBe(true);
    }
  });
  it("a value outside a long list of names is named with the nearest one, not the whole list", () => {
    expect(errorsOf("#cloud-config\ncloud_final_modules:\n  - scripts_usr\n")[0]!.message).toBe(
      'expected one of 101 accepted names or a list or a mapping, got "scripts_usr" (a string) (did you mean "scripts_user"?)',
    );
  });
  it("a wrong type names the key path and what was expected", () => {
    const [e] = errorsOf("#cloud-config\nwrite_files:\n  - path: /x\n    permissions: [1]\n");
    expect(e).toMatchObject({ line: 4, col: 5, path: "write_files[0].permissions", message: "expected a string or an integer, got a list" });
    expect(errorsOf("#cloud-config\nruncmd: 5\n")[0]).toMatchObject({ line: 2, path: "runcmd", message: expect.stringMatching(/^expected a list .*got 5 \(a number\)$/) });
    expect(errorsOf("#cloud-config\npower_state: {mode: explode}\n")[0]!.message).toBe('expected one of "poweroff", "reboot", "halt", got "explode"');
  });
  it("YAML syntax errors name line and column; a missing header is an error", () => {
    expect(errorsOf("#cloud-config\na: [\n")[0]).toMatchObject({ line: expect.any(Number), col: expect.any(Number), message: expect.stringMatching(/^YAML syntax error/) });
    expect(errorsOf("runcmd: [ls]\n")[0]!.message).toMatch(/must start with the line "#cloud-config"/);
  });
  it("deprecated keys sprout accepts are deprecations, not errors", () => {
    const all = validateCloudConfig("#cloud-config\napt_update: true\nmanage_etc_hosts: template\nusers:\n  - name: a\n    lock-passwd: false\n", { file: "t", requireHeader: true });
    expect(all.map((p) => p.severity)).toEqual(["deprecation", "deprecation", "deprecation"]);
    expect(all[0]!.message).toBe("apt_update is deprecated; write package_update");
  });
});

describe("sprout schema (the bundle)", () => {
  let dir: string;
  const sprout = (...args: string[]) => spawnSync("node", ["dist/sprout.js", ...args], { encoding: "utf8", cwd: join(__dirname, "../..") });
  beforeAll(() => {
    execFileSync("node", ["packaging/bundle.mjs"], { cwd: join(__dirname, "../..") });
    dir = mkdtempSync(join(tmpdir(), "sprout-schema-"));
    writeFileSync(join(dir, "good.yaml"), "#cloud-config\nruncmd: [ls]\n");
    writeFileSync(join(dir, "bad.yaml"), "#cloud-config\nwrite_file: []\nruncmd: 5\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it("exit 0 valid, 1 invalid, 2 cannot read", () => {
    expect(sprout("schema", "--config-file", join(dir, "good.yaml")).status).toBe(0);
    const bad = sprout("schema", "--config-file", join(dir, "bad.yaml"));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`${join(dir, "bad.yaml")}:2:1: write_file: unknown key "write_file" (did you mean "write_files"?)`);
    const missing = sprout("schema", "--config-file", join(dir, "nope.yaml"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: no such file/);
  });
  it("--format json prints one object per problem", () => {
    const lines = sprout("schema", "-c", join(dir, "bad.yaml"), "--format", "json").stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ severity: "error", line: 3, col: 1, path: "runcmd" });
  });
  it("ships the validator as code generated at build time, not Ajv's compiler", () => {
    const bundle = readFileSync(join(__dirname, "../../dist/sprout.js"), "utf8");
    expect(bundle).not.toContain("strictSchema"); // an option only Ajv's compiler reads
    expect(bundle).not.toContain("new Function"); // code compiled at run time, which no code cache keeps
    expect(bundle).toContain("must NOT have additional properties");
  });
  it("reports exactly what the source reports (its validator is generated at build time)", () => {
    const text = "#cloud-config\nwrite_files:\n  - path: /x\n    permisions: '0644'\n    encoding: rot13\npower_state: {delay: soon, timeout: -1}\nusers:\n  - name: a\n    groups: 5\n  - 7\nmanage_etc_hosts: template\nssh_pwauth: maybe\napt_update: true\n";
    writeFileSync(join(dir, "many.yaml"), text);
    const r = sprout("schema", "-c", join(dir, "many.yaml"), "--format", "json");
    const fromSource = validateCloudConfig(text, { file: join(dir, "many.yaml"), requireHeader: true });
    expect(fromSource.filter((p) => p.severity === "error").length).toBeGreaterThan(5);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual(fromSource);
  });
  it("--system checks the system config under --root; --docs prints the reference", () => {
    const root = join(dir, "root");
    execFileSync("mkdir", ["-p", join(root, "etc/sprout/config.d")]);
    writeFileSync(join(root, "etc/sprout/config.yaml"), "datasource_list: [NoCloud]\n");
    writeFileSync(join(root, "etc/sprout/config.d/50-x.cfg"), "system_info:\n  default_user: {name: admin}\nbootcmd: oops\n");
    const r = sprout("--root", root, "schema", "--system");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\/etc\/sprout\/config\.d\/50-x\.cfg:3:1: bootcmd: expected a list/);
    expect(sprout("schema", "--docs", "bootcmd").stdout).toMatch(/^## bootcmd/);
    expect(sprout("schema", "--docs", "nosuch").status).toBe(2);
  });
});
