// phone_home: at the end of the first boot, POST the instance's host keys, id
// and names to a URL (form-encoded, as cloud-init does), with bounded tries.
import { isPlainObject } from "../../agent/merge";
import type { Module, ModuleResult } from "../../agent/types";
import { localFqdn } from "../../agent/instance-data";

const FIELDS = ["pub_key_rsa", "pub_key_ecdsa", "pub_key_ed25519", "instance_id", "hostname", "fqdn"] as const;
const REQUEST_TIMEOUT_MS = 10_000;

export const PHONE_HOME_SCHEMA = {
  phone_home: {
    type: "object",
    description: "Where to POST, what, and how often to try.",
    required: ["url"],
    properties: {
      url: { type: "string", description: "The URL; $INSTANCE_ID is replaced by the instance id.", examples: ["http://example.com/$INSTANCE_ID/"] },
      post: {
        oneOf: [{ type: "string", enum: ["all"] }, { type: "array", items: { type: "string", enum: [...FIELDS] } }],
        description: `The fields to send: "all" or a list of ${FIELDS.join(", ")}.`,
        default: "all",
        examples: [["pub_key_ed25519", "instance_id", "hostname"]],
      },
      tries: { type: "integer", minimum: 1, description: "How many times to try before giving up.", default: 10, examples: [5] },
    },
    examples: [{ url: "http://example.com/$INSTANCE_ID/", post: ["instance_id", "hostname"], tries: 3 }],
  },
} as const;

export const phoneHome: Module = {
  id: "phone_home",
  stage: "final",
  frequency: "per-instance",
  schema: { type: "object", description: "Tell a server that the instance has booted.", properties: PHONE_HOME_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const ph = cfg.phone_home;
    if (ph === undefined || ph === null) return { status: "skipped", detail: "no phone_home" };
    if (!isPlainObject(ph) || typeof ph.url !== "string") return { status: "unchanged", errors: ["phone_home needs a url"] };
    const url = ph.url.replace(/\$INSTANCE_ID/g, ctx.instanceId);
    const post = ph.post === undefined || ph.post === "all" ? [...FIELDS] : Array.isArray(ph.post) ? ph.post.map(String) : null;
    if (!post) return { status: "unchanged", errors: ['phone_home.post must be "all" or a list of field names'] };
    const tries = typeof ph.tries === "number" && ph.tries >= 1 ? Math.min(Math.floor(ph.tries), 100) : 10;
    const cloudFqdn = localFqdn(ctx.instance);
    const hostname = ctx.host.root.tryReadText("/etc/hostname")?.trim() ?? cloudFqdn ?? "";
    const values: Record<string, string> = { instance_id: ctx.instanceId, hostname: hostname.split(".")[0]!, fqdn: cloudFqdn ?? hostname };
    for (const t of ["rsa", "ecdsa", "ed25519"]) values[`pub_key_${t}`] = ctx.host.root.tryReadText(`/etc/ssh/ssh_host_${t}_key.pub`)?.trim() ?? "N/A";
    const errors: string[] = [];
    const body = new URLSearchParams();
    for (const f of post) {
      if (!(FIELDS as readonly string[]).includes(f)) errors.push(`phone_home.post: unknown field ${JSON.stringify(f)}; skipped`);
      else body.append(f, values[f] ?? "N/A");
    }
    try {
      const res = await ctx.host.fetch.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: body.toString(),
        timeoutMs: REQUEST_TIMEOUT_MS,
        retries: tries - 1,
        retryDelayMs: 3_000,
        deadline: ctx.host.clock.monoMs() + tries * (REQUEST_TIMEOUT_MS + 3_000),
        retryStatus: (s) => s >= 400,
      });
      if (res.status >= 400) return { status: "unchanged", errors: [...errors, `phone_home ${url}: the server answered HTTP ${res.status} after ${tries} tries`] };
      return { status: "changed", detail: `posted ${post.join(", ")} to ${url}`, errors };
    } catch (err) {
      return { status: "unchanged", errors: [...errors, `phone_home ${url}: ${(err as Error).message} (tried ${tries} times)`] };
    }
  },
};
