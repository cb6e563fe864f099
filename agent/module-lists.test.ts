import { describe, expect, it } from "vitest";
import { MODULE_MANIFEST } from "../modules/manifest";
import { CLOUD_INIT_ONLY_MODULES, MODULE_LIST_OF, moduleIdOf, planModule, readModuleLists, SPROUT_ONLY_MODULES } from "./module-lists";

describe("cloud-init's module lists", () => {
  it("places every module of the boot: governed by one of cloud-init's lists, or sprout's own", () => {
    for (const m of MODULE_MANIFEST) expect(m.id in MODULE_LIST_OF || SPROUT_ONLY_MODULES.has(m.id), m.id).toBe(true);
    for (const id of Object.keys(MODULE_LIST_OF)) expect(MODULE_MANIFEST.some((m) => m.id === id), id).toBe(true);
    for (const id of CLOUD_INIT_ONLY_MODULES) expect(MODULE_MANIFEST.some((m) => m.id === id), id).toBe(false);
  });

  it("reads names in cloud-init's spellings", () => {
    expect(["scripts-user", "scripts_user", "cc_scripts_user", "scripts-user.py", " scripts-user "].map(moduleIdOf)).toEqual(Array(5).fill("scripts_user"));
  });

  it("reads names, [name, frequency] lists and {name, frequency} mappings, and maps cloud-init's frequency names", () => {
    const { lists, problems } = readModuleLists({
      cloud_final_modules: ["final-message", ["scripts-user", "always"], { name: "runcmd", frequency: "once" }, ["phone_home", "once-per-instance", "arg"], null, ""],
    });
    expect(problems).toEqual([]);
    expect([...lists.cloud_final_modules!.entries()]).toEqual([
      ["final_message", { written: "final-message" }],
      ["scripts_user", { written: "scripts-user", frequency: "always" }],
      ["runcmd", { written: "runcmd", frequency: "once" }],
      ["phone_home", { written: "phone_home", frequency: "per-instance" }],
    ]);
    expect(lists.cloud_init_modules).toBeUndefined();
  });

  it("an empty or null list runs no module of its stage, as in cloud-init", () => {
    for (const value of [[], null]) {
      const lists = readModuleLists({ cloud_config_modules: value });
      expect(planModule("timezone", "per-instance", lists)).toEqual({ runs: false, reason: "not in cloud_config_modules, which the config gives" });
      expect(planModule("ssh", "per-instance", lists)).toEqual({ runs: true, frequency: "per-instance" });
    }
  });

  it("reports entries cloud-init would skip or misread, each with what to write", () => {
    const lists = readModuleLists({
      cloud_init_modules: "ssh",
      cloud_final_modules: [["scripts-user", "weekly"], "scripts-usr", { frequency: "always" }, 7, "rescue"],
    });
    expect(lists.problems).toEqual([
      'cloud_init_modules must be a list of module names (for example [scripts-user, [runcmd, always]]), not string "ssh"; no module of that stage runs, as in cloud-init',
      'cloud_final_modules[0]: scripts-user has an unknown frequency "weekly" (use always, once or once-per-instance); the module\'s own is used, as in cloud-init',
      'cloud_final_modules[1]: "scripts-usr" is not a module of cloud-init or sprout (did you mean scripts-user?)',
      "cloud_final_modules[2]: a mapping needs name: (and may give frequency:); skipped",
      "cloud_final_modules[3]: number 7 is not a module name; skipped",
      "cloud_final_modules[4]: rescue is sprout's own module, which cloud-init's lists do not govern; it runs as its own settings say",
    ]);
    expect(planModule("ssh", "per-instance", lists).runs).toBe(false);
    expect(planModule("scripts_user", "per-instance", lists)).toEqual({ runs: true, frequency: "per-instance" });
    expect(planModule("rescue", "always", lists)).toEqual({ runs: true, frequency: "always" });
  });

  it("sets the hostname from the system config and meta-data when set_hostname is not listed, as cloud-init does before it reads user-data", () => {
    const lists = readModuleLists({ cloud_init_modules: ["write-files"] });
    expect(planModule("set_hostname", "per-instance", lists)).toEqual({ runs: true, frequency: "per-instance", systemConfigOnly: true });
    expect(planModule("update_hostname", "always", lists)).toEqual({ runs: false, reason: "not in cloud_init_modules, which the config gives" });
  });

  it("a module's first entry wins when it is named twice", () => {
    const lists = readModuleLists({ cloud_final_modules: [["scripts-user", "always"], "scripts_user"] });
    expect(planModule("scripts_user", "per-instance", lists)).toEqual({ runs: true, frequency: "always" });
  });

  it("leaves every module as it is when the config has no lists", () => {
    const lists = readModuleLists({ runcmd: ["true"] });
    for (const m of MODULE_MANIFEST) expect(planModule(m.id, m.frequency, lists)).toEqual({ runs: true, frequency: m.frequency });
  });

  it("runs runcmd as often as scripts-user, which runs its commands under cloud-init, and not at all without it", () => {
    const always = readModuleLists({ cloud_final_modules: [["scripts-user", "always"]] });
    expect(planModule("runcmd", "per-instance", always)).toEqual({ runs: true, frequency: "always" });
    const without = readModuleLists({ cloud_final_modules: ["final-message"] });
    expect(planModule("runcmd", "per-instance", without)).toMatchObject({ runs: false, reason: expect.stringContaining("scripts-user, which runs runcmd's commands") });
    const notWritten = readModuleLists({ cloud_config_modules: ["timezone"], cloud_final_modules: [["scripts-user", "always"]] });
    expect(planModule("runcmd", "per-instance", notWritten)).toEqual({ runs: false, reason: "not in cloud_config_modules, which the config gives" });
  });
});
