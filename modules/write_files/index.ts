// write_files: files from cloud-config, written atomically with their mode and
// owner. `defer: true` entries wait for the final stage (write_files_deferred),
// after users and packages exist. One bad entry is reported and the others are
// still written.
import type * as Zlib from "node:zlib";
import { lazyBuiltin } from "../../agent/lazy-builtin";
import type { Host } from "../../agent/host/types";
import type { CloudConfig, Module, ModuleContext, ModuleResult } from "../../agent/types";

const MAX_DECODED = 64 * 1024 * 1024;
// Loaded only for an entry with gzip encoding.
const zlib = lazyBuiltin<typeof Zlib>("node:zlib");

export const WRITE_FILES_SCHEMA = {
  write_files: {
    type: "array",
    description: "Files to write. Each is written atomically (temporary file, then rename), so a failed write leaves the old file intact.",
    examples: [[{ path: "/etc/motd", content: "Welcome\n", permissions: "0644" }]],
    items: {
      type: "object",
      required: ["path"],
      additionalProperties: false,
      properties: {
        path: { type: "string", description: "Absolute path of the file.", examples: ["/etc/sysctl.d/10-app.conf"] },
        content: { type: "string", description: "The content, as text or encoded as `encoding` says.", default: "", examples: ["net.core.somaxconn = 1024\n"] },
        source: {
          type: "object",
          description: "Fetch the content from a URL instead (content is used when the fetch fails).",
          properties: {
            uri: { type: "string", description: "http, https or file URL.", examples: ["https://example.com/app.conf"] },
            headers: { type: "object", description: "HTTP headers for the request.", additionalProperties: { type: "string" }, examples: [{ Authorization: "Bearer x" }] },
          },
          required: ["uri"],
          examples: [{ uri: "file:///etc/skel/.bashrc" }],
        },
        owner: { type: "string", description: "user:group (names or numbers) to own the file.", default: "root:root", examples: ["www-data:www-data"] },
        permissions: {
          type: ["string", "integer"],
          description: "Octal mode, as a string ('0644') or a YAML octal number (0644).",
          default: "0644",
          examples: ["0600"],
        },
        encoding: {
          type: "string",
          enum: ["gz", "gzip", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64", "b64", "base64", "text/plain"],
          description: "How content is encoded.",
          default: "text/plain",
          examples: ["b64"],
        },
        append: { type: "boolean", description: "Append to the file instead of replacing it.", default: false, examples: [true] },
        defer: { type: "boolean", description: "Write in the final stage, after users and packages are set up.", default: false, examples: [true] },
      },
    },
  },
} as const;

interface FileEntry {
  path?: unknown;
  content?: unknown;
  source?: unknown;
  owner?: unknown;
  permissions?: unknown;
  encoding?: unknown;
  append?: unknown;
  defer?: unknown;
}

/** '0644', 0644 (YAML octal, i.e. 420), '644', '0o644' -> number; null when it is not an octal mode. */
export function parsePermissions(v: unknown): number | null {
  if (v === undefined || v === null) return 0o644;
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v <= 0o7777 ? v : null;
  if (typeof v !== "string") return null;
  const s = v.trim().replace(/^0o/i, "");
  if (!/^[0-7]{1,5}$/.test(s)) return null;
  const n = parseInt(s, 8);
  return n <= 0o7777 ? n : null;
}

export function decodeContent(content: string, encoding: string): Buffer {
  const enc = encoding.toLowerCase();
  const b64 = (s: string) => {
    // Like Python's b64decode (cloud-init): characters outside the alphabet are
    // dropped, so documented examples with "..." decode; what remains must be whole.
    const trimmed = s.replace(/\s+/g, "");
    const clean = trimmed.replace(/[^A-Za-z0-9+/=_-]/g, "");
    const body = clean.replace(/=+$/, "");
    if ((trimmed.length > 0 && body.length === 0) || body.includes("=") || body.length % 4 === 1 || (clean.length % 4 !== 0 && clean.includes("="))) {
      throw new Error("content is not valid base64");
    }
    return Buffer.from(clean, "base64");
  };
  const gunzip = (b: Buffer) => {
    try {
      return zlib().gunzipSync(b, { maxOutputLength: MAX_DECODED });
    } catch (err) {
      throw new Error(`content is not valid gzip (${(err as Error).message})`);
    }
  };
  switch (enc) {
    case "":
    case "text/plain":
      return Buffer.from(content, "utf8");
    case "b64":
    case "base64":
      return b64(content);
    case "gz":
    case "gzip":
      return gunzip(Buffer.from(content, "latin1"));
    case "gz+b64":
    case "gz+base64":
    case "gzip+b64":
    case "gzip+base64":
      return gunzip(b64(content));
    default:
      throw new Error(`unknown encoding ${JSON.stringify(encoding)} (use b64, gzip, gz+b64 or text/plain)`);
  }
}

/** uid/gid of "user:group" from the target's /etc/passwd and /etc/group. */
export function resolveOwner(h: Host, owner: string): { uid: number; gid: number } {
  const [user = "root", group] = owner.split(":");
  const passwd = (h.root.tryReadText("/etc/passwd") ?? "root:x:0:0::/root:/bin/sh\n").split("\n").map((l) => l.split(":"));
  const groups = (h.root.tryReadText("/etc/group") ?? "root:x:0:\n").split("\n").map((l) => l.split(":"));
  const pw = /^\d+$/.test(user) ? [user, "", user, user] : passwd.find((f) => f[0] === user);
  if (!pw) throw new Error(`owner: no user ${JSON.stringify(user)} in /etc/passwd (create it with the users module first, or use defer: true)`);
  let gid = Number(pw[3]);
  if (group) {
    const gr = /^\d+$/.test(group) ? [group, "", group] : groups.find((f) => f[0] === group);
    if (!gr) throw new Error(`owner: no group ${JSON.stringify(group)} in /etc/group`);
    gid = Number(gr[2]);
  }
  return { uid: Number(pw[2]), gid };
}

async function contentOf(entry: FileEntry, ctx: ModuleContext): Promise<Buffer> {
  const src = entry.source as { uri?: unknown; headers?: Record<string, string> } | undefined;
  if (src && typeof src.uri === "string") {
    try {
      const res = await ctx.host.fetch.fetch(src.uri, { timeoutMs: 10_000, retries: 2, headers: src.headers, maxBytes: MAX_DECODED });
      if (res.status === 200) return res.body;
      throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      if (entry.content === undefined) throw new Error(`source ${src.uri}: ${(err as Error).message}`);
      ctx.host.log.warn(`write_files: source ${src.uri} failed (${(err as Error).message}); using content`);
    }
  }
  const encoding = typeof entry.encoding === "string" ? entry.encoding.toLowerCase() : "text/plain";
  if (entry.content instanceof Uint8Array) {
    // YAML !!binary: already bytes; only a gzip layer may remain.
    const bytes = Buffer.from(entry.content);
    return encoding === "gz" || encoding === "gzip" ? decodeContent(bytes.toString("latin1"), "gzip") : bytes;
  }
  if (entry.content !== undefined && entry.content !== null && typeof entry.content !== "string") {
    throw new Error(`content is a ${typeof entry.content}, not text (quote it in YAML)`);
  }
  return decodeContent((entry.content as string | undefined) ?? "", encoding);
}

async function writeOne(entry: FileEntry, ctx: ModuleContext): Promise<string> {
  if (typeof entry.path !== "string" || !entry.path) throw new Error("has no path");
  const path = entry.path.startsWith("/") ? entry.path : `/${entry.path}`;
  const mode = parsePermissions(entry.permissions);
  if (mode === null) throw new Error(`permissions ${JSON.stringify(entry.permissions)} is not an octal mode like '0644'`);
  const data = await contentOf(entry, ctx);
  const { uid, gid } = resolveOwner(ctx.host, typeof entry.owner === "string" ? entry.owner : "root:root");
  const root = ctx.host.root;
  const st = root.stat(path);
  if (st?.kind === "dir") throw new Error(`${path} is a directory; remove it or choose another path`);
  const own = process.getuid?.() === 0 ? { uid, gid } : {};
  if (entry.append === true) {
    root.append(path, data, mode);
    if (!st) root.chmod(path, mode);
    if ("uid" in own) root.chown(path, uid, gid);
  } else {
    root.writeAtomic(path, data, { mode, ...own });
  }
  return path;
}

async function writeEntries(cfg: CloudConfig, ctx: ModuleContext, deferred: boolean): Promise<ModuleResult> {
  const list = cfg.write_files;
  if (list === undefined || list === null) return { status: "skipped", detail: "no write_files" };
  if (!Array.isArray(list)) return { status: "unchanged", errors: [`write_files must be a list of files, not a ${typeof list}`] };
  const written: string[] = [];
  const errors: string[] = [];
  for (const [i, raw] of list.entries()) {
    const entry = (raw ?? {}) as FileEntry;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      errors.push(`write_files[${i}] is not a mapping with a path`);
      continue;
    }
    if ((entry.defer === true) !== deferred) continue;
    try {
      written.push(await writeOne(entry, ctx));
    } catch (err) {
      errors.push(`write_files[${i}]${typeof entry.path === "string" ? ` (${entry.path})` : ""}: ${(err as Error).message}`);
    }
  }
  if (written.length === 0 && errors.length === 0) return { status: "skipped", detail: deferred ? "no deferred files" : "no files to write now" };
  return { status: written.length ? "changed" : "unchanged", detail: written.join(", "), errors };
}

export const writeFiles: Module = {
  id: "write_files",
  stage: "network",
  frequency: "per-instance",
  schema: { type: "object", description: "Write files given in cloud-config: content (text, base64, gzip), mode, owner, append.", properties: WRITE_FILES_SCHEMA },
  run: (cfg, ctx) => writeEntries(cfg, ctx, false),
};

export const writeFilesDeferred: Module = {
  id: "write_files_deferred",
  stage: "final",
  frequency: "per-instance",
  schema: { type: "object", description: "The write_files entries with `defer: true`, written in the final stage.", properties: {} },
  run: (cfg, ctx) => writeEntries(cfg, ctx, true),
};
