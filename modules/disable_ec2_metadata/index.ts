// disable_ec2_metadata: after the boot has read what it needs, close the route to
// the metadata service (169.254.169.254), so software on the machine cannot ask it
// for the instance's credentials. As cloud-init: on every boot (the route does not
// survive a reboot), with ip, else route; only on the running system.
import type { Module } from "../../agent/types";
import { describeFailure } from "../../agent/target-command";

const METADATA_ADDRESS = "169.254.169.254";
const TIMEOUT_MS = 10_000;

export const disableEc2Metadata: Module = {
  id: "disable_ec2_metadata",
  stage: "config",
  frequency: "always",
  schema: {
    type: "object",
    description: `Reject the route to the EC2 metadata service (${METADATA_ADDRESS}) for the rest of the boot and after it, as cloud-init does (\`ip route add prohibit ${METADATA_ADDRESS}\`). Done on every boot, on the running system only.`,
    properties: {
      disable_ec2_metadata: { type: "boolean", default: false, description: "true: reject the route to the metadata service.", examples: [true] },
    },
  },
  async run(cfg, ctx) {
    if (cfg.disable_ec2_metadata === undefined) return { status: "skipped", detail: "no disable_ec2_metadata" };
    if (cfg.disable_ec2_metadata !== true) return { status: "skipped", detail: "disable_ec2_metadata is not true" };
    const h = ctx.host;
    if (!h.root.isSystemRoot) return { status: "skipped", detail: `the target is not the running system: no route to change (it is set at each boot)` };
    const argv = h.run.which("ip") ? ["ip", "route", "add", "prohibit", METADATA_ADDRESS] : h.run.which("route") ? ["route", "add", "-host", METADATA_ADDRESS, "reject"] : null;
    if (!argv) return { status: "unchanged", errors: [`cannot reject the route to ${METADATA_ADDRESS}: neither ip (iproute2) nor route (net-tools) is installed`] };
    const r = await h.run.run(argv, { timeoutMs: TIMEOUT_MS });
    // Already there (a second run in the same boot): what was asked for holds.
    if (r.code !== 0 && /File exists/i.test(r.stderr.toString("utf8"))) return { status: "unchanged", detail: `the route to ${METADATA_ADDRESS} is rejected already` };
    if (r.code !== 0) return { status: "unchanged", errors: [`\`${argv.join(" ")}\` failed (${describeFailure(r, TIMEOUT_MS)}): the metadata service is still reachable`] };
    return { status: "changed", detail: `route to ${METADATA_ADDRESS} rejected (${argv.join(" ")})` };
  },
};
