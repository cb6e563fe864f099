// seed_random: cloud-init's cc_seed_random. Clones of one image start with the same
// entropy pool; random_seed.data (raw, base64 or gzip) and the meta-data's own
// random_seed (OpenStack and Azure give one) are appended to random_seed.file
// (/dev/urandom by default), then random_seed.command runs with RANDOM_SEED_FILE set.
// Under --root (an image being built) /dev/urandom is the build machine's own device,
// or a plain file in the image: nothing is written there.
import { isPlainObject } from "../../agent/merge";
import { findInTarget, runInTarget } from "../../agent/target-command";
import type { JsonObject, Module, ModuleResult } from "../../agent/types";
import { gunzipCapped } from "../../agent/userdata/gzip";
import { metadataSeed } from "./metadata-seed";

const DEFAULT_FILE = "/dev/urandom";
/** More than any seed needs; a gzip that unpacks past it is refused, not written. */
const MAX_SEED_BYTES = 1024 * 1024;
const COMMAND_TIMEOUT_MS = 60_000;

export const SEED_RANDOM_SCHEMA = {
  random_seed: {
    type: "object",
    description: "Random seed data added to the entropy pool, so clones of one image do not start alike. The meta-data's own random_seed (OpenStack, Azure) is added after data.",
    additionalProperties: false,
    properties: {
      file: { type: "string", description: "Where the data is appended.", default: DEFAULT_FILE, examples: ["/dev/urandom"] },
      data: { type: "string", description: "The seed data, encoded as `encoding` says.", examples: ["my random string"] },
      encoding: { type: "string", enum: ["raw", "base64", "b64", "gzip", "gz"], description: "How data is encoded.", default: "raw", examples: ["base64"] },
      command: { type: "array", items: { type: "string" }, description: "A command (a program and its arguments) run after the data is written, with RANDOM_SEED_FILE in its environment.", examples: [["pollinate", "-q"]] },
      command_required: { type: "boolean", description: "true: a missing or failing command is an error (otherwise a command that is not installed is skipped).", default: false, examples: [true] },
    },
    examples: [{ file: "/dev/urandom", data: "bXkgcmFuZG9tIHN0cmluZw==", encoding: "b64" }, { command: ["sh", "-c", "dd if=/dev/urandom of=$RANDOM_SEED_FILE bs=512 count=1"], command_required: true }],
  },
} as const;

/** The seed bytes random_seed.data stands for, or why it cannot be read. */
export function decodeSeed(data: unknown, encoding: unknown): Buffer | string {
  if (data === undefined || data === null || data === "") return Buffer.alloc(0);
  if (typeof data !== "string") return `random_seed.data must be text, not ${Array.isArray(data) ? "a list" : `a ${typeof data}`}; quote it`;
  const enc = encoding === undefined || encoding === null ? "raw" : String(encoding).toLowerCase();
  if (enc === "raw") return Buffer.from(data, "utf8");
  if (enc === "base64" || enc === "b64") {
    const text = data.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return "random_seed.data is not valid base64 (encoding: base64); check it was copied whole";
    return Buffer.from(text, "base64");
  }
  if (enc === "gzip" || enc === "gz") {
    try {
      return gunzipCapped(Buffer.from(data, "latin1"), MAX_SEED_BYTES);
    } catch (err) {
      return `random_seed.data is not gzip data (encoding: gzip): ${(err as Error).message}`;
    }
  }
  return `random_seed.encoding ${JSON.stringify(encoding)} is not one of raw, base64, b64, gzip, gz`;
}

export const seedRandom: Module = {
  id: "seed_random",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Add random seed data to the entropy pool (or a file), and run a seeding command.", properties: SEED_RANDOM_SCHEMA },
  async run(cfg, ctx): Promise<ModuleResult> {
    const given = cfg.random_seed;
    const fromMetadata = metadataSeed(ctx);
    if ((given === undefined || given === null) && fromMetadata === null) return { status: "skipped", detail: "no random_seed" };
    if (given !== undefined && given !== null && !isPlainObject(given)) return { status: "unchanged", errors: [`random_seed must be a mapping (file, data, encoding, command), not ${typeof given}`] };
    const rs: JsonObject = isPlainObject(given) ? given : {};
    const h = ctx.host;
    const file = rs.file === undefined || rs.file === null ? DEFAULT_FILE : rs.file;
    if (typeof file !== "string" || !file.startsWith("/")) return { status: "unchanged", errors: [`random_seed.file must be an absolute path, not ${JSON.stringify(file)}`] };
    const decoded = decodeSeed(rs.data, rs.encoding);
    if (typeof decoded === "string") return { status: "unchanged", errors: [`${decoded}; nothing was written`] };
    const seed = fromMetadata === null ? decoded : Buffer.concat([decoded, Buffer.from(fromMetadata, "utf8")]);
    const done: string[] = [];
    const errors: string[] = [];
    if (seed.length > 0) {
      if (file.startsWith("/dev/") && !h.root.isSystemRoot) done.push(`${seed.length} bytes not added to ${file}: the target is not the running system`);
      else {
        try {
          h.root.append(file, seed, 0o600);
          done.push(`added ${seed.length} bytes to ${file}`);
        } catch (err) {
          errors.push(`cannot append the seed to ${file}: ${(err as Error).message}`);
        }
      }
    }
    const command = rs.command;
    const required = rs.command_required === true;
    if (command !== undefined && command !== null && (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === "string"))) {
      errors.push(`random_seed.command must be a list: the program and its arguments, e.g. ["pollinate", "-q"]`);
    } else if (Array.isArray(command)) {
      const argv = command as string[];
      if (findInTarget(h.root, argv[0]!) === null) {
        if (required) errors.push(`random_seed.command: ${argv[0]} is not installed, and command_required is true`);
        else done.push(`${argv[0]} is not installed; command skipped`);
      } else {
        const r = await runInTarget(h, ["env", `RANDOM_SEED_FILE=${file}`, ...argv], { timeoutMs: COMMAND_TIMEOUT_MS });
        if (r.failure) errors.push(`random_seed.command ${argv.join(" ")} failed: ${r.failure}`);
        else done.push(`ran ${argv[0]}`);
      }
    } else if (required) errors.push("random_seed.command_required is true, but there is no command");
    return { status: done.some((d) => d.startsWith("added") || d.startsWith("ran")) ? "changed" : "unchanged", detail: done.join("; ") || "no seed data", errors };
  },
};
