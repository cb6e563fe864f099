import { afterEach, describe, expect, it } from "vitest";
import { moduleContext, recordingHost, recordingRunningSystem } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { disableEc2Metadata } from ".";

let root: TempRoot | null = null;
afterEach(() => {
  root?.cleanup();
  root = null;
});

/** The running system as the module sees it: commands recorded, never run (they would change this machine's routes). */
function live(installed: string[], answer: { code: number; stderr?: string } = { code: 0 }) {
  root = tempRoot();
  const rec = recordingRunningSystem(root.host(), installed, { run: () => ({ code: answer.code, stderr: Buffer.from(answer.stderr ?? "") }) });
  return { rec, ctx: moduleContext(root, { host: rec.host, stage: "config" }) };
}

describe("disable_ec2_metadata", () => {
  it("rejects the route with ip, else route, as cloud-init does", async () => {
    const withIp = live(["ip", "route"]);
    expect(await disableEc2Metadata.run({ disable_ec2_metadata: true }, withIp.ctx)).toEqual({ status: "changed", detail: "route to 169.254.169.254 rejected (ip route add prohibit 169.254.169.254)" });
    expect(withIp.rec.runs.map((r) => r.argv)).toEqual([["ip", "route", "add", "prohibit", "169.254.169.254"]]);
    const withRoute = live(["route"]);
    await disableEc2Metadata.run({ disable_ec2_metadata: true }, withRoute.ctx);
    expect(withRoute.rec.runs.map((r) => r.argv)).toEqual([["route", "add", "-host", "169.254.169.254", "reject"]]);
  });

  it("a route that is there already is no error; a refusal is, and says the service is still reachable", async () => {
    expect((await disableEc2Metadata.run({ disable_ec2_metadata: true }, live(["ip"], { code: 2, stderr: "RTNETLINK answers: File exists\n" }).ctx)).status).toBe("unchanged");
    const refused = await disableEc2Metadata.run({ disable_ec2_metadata: true }, live(["ip"], { code: 2, stderr: "RTNETLINK answers: Operation not permitted\n" }).ctx);
    expect(refused.errors).toEqual(["`ip route add prohibit 169.254.169.254` failed (exit 2: RTNETLINK answers: Operation not permitted): the metadata service is still reachable"]);
    expect((await disableEc2Metadata.run({ disable_ec2_metadata: true }, live([]).ctx)).errors![0]).toMatch(/neither ip \(iproute2\) nor route \(net-tools\) is installed/);
  });

  it("does nothing unless true, and never under --root (a route belongs to a running machine)", async () => {
    const off = live(["ip"]);
    expect((await disableEc2Metadata.run({ disable_ec2_metadata: false }, off.ctx)).status).toBe("skipped");
    root = tempRoot();
    const rec = recordingHost(root.host());
    const res = await disableEc2Metadata.run({ disable_ec2_metadata: true }, moduleContext(root, { host: rec.host, stage: "config" }));
    expect(res.status).toBe("skipped");
    expect(rec.runs).toEqual([]);
    expect(off.rec.runs).toEqual([]);
  });
});
