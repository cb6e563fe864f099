import { afterEach, describe, expect, it } from "vitest";
import { docExamples, moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { carryOutPowerState, POWER_STATE_FILE, powerStateChange, shutdownArgv } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

// Never powers off the test machine: on a temp target root the request is only recorded.
describe("power_state_change", () => {
  const [ex1, ex2] = docExamples("cc_power_state_change");
  it("module-docs example1 records shutdown --poweroff now with the message, and a --root run does not carry it out", async () => {
    root = tempRoot();
    const h = root.host();
    const res = await powerStateChange.run(ex1!.config, moduleContext(root, { host: h }));
    expect(res.detail).toMatch(/not carried out/);
    expect(JSON.parse(h.root.readText(POWER_STATE_FILE))).toEqual({ argv: ["shutdown", "--poweroff", "now", "Powering off"], mode: "poweroff" });
    expect(await carryOutPowerState(h)).toBeNull();
    expect(h.root.exists(POWER_STATE_FILE)).toBe(false);
  });
  it("module-docs example2: a condition that fails skips the reboot", async () => {
    root = tempRoot();
    const res = await powerStateChange.run({ power_state: { ...(ex2!.config.power_state as object), condition: "test -f ./reboot_me" } }, moduleContext(root));
    expect(res.status).toBe("skipped");
    root.write("reboot_me", "");
    await powerStateChange.run({ power_state: { ...(ex2!.config.power_state as object), condition: "test -f ./reboot_me" } }, moduleContext(root));
    expect(JSON.parse(root.host().root.readText(POWER_STATE_FILE)).argv).toEqual(["shutdown", "--reboot", "+30", "Rebooting machine"]);
  });
  it("delays and bad values", () => {
    expect(shutdownArgv({ mode: "halt", delay: "+5" })).toEqual(["shutdown", "--halt", "+5"]);
    expect(shutdownArgv({ mode: "reboot", message: ["Bye", "Bye"] })).toEqual(["shutdown", "--reboot", "now", "Bye Bye"]);
    expect(() => shutdownArgv({ mode: "explode" })).toThrow(/poweroff, reboot or halt/);
    expect(() => shutdownArgv({ mode: "reboot", delay: "soon" })).toThrow(/"now" or minutes/);
  });
});
