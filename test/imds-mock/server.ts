// A stand-in for the EC2 instance metadata service (IMDS) on 127.0.0.1, with the
// real service's paths and answers (AWS EC2 user guide, "instance metadata";
// knowledge-center "ec2-linux-metadata-retrieval"):
//   PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600 -> a
//   token (400 when the TTL is missing or out of range, 403 when the request carries
//   X-Forwarded-For); GET with X-aws-ec2-metadata-token; 401 for an invalid or
//   expired token, and for none when tokens are required; 403 for everything when
//   the service is turned off; 404 with the service's XHTML page for what is not there.
// Modes: "required" (IMDSv2 only), "optional" (v1 and v2), "v1-only" (an older
// EC2 copy: 404 or 405 on the token PUT), "disabled". Faults make it slow, hang,
// fail with 5xx, answer with HTML, cut or stall a body, for the paths they match.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

export type ImdsMode = "required" | "optional" | "v1-only" | "disabled";
export interface Tree {
  [name: string]: string | Buffer | Tree;
}

export interface Fault {
  /** Matched against "METHOD /path", e.g. /^GET \/latest\/meta-data\// or /^PUT /. */
  match: RegExp;
  kind: "status" | "html" | "hang" | "delay" | "truncate" | "stall" | "body";
  status?: number;
  delayMs?: number;
  /** For kind "body": the 200 answer's bytes. */
  body?: string | Buffer;
  /** Applies this many times, then stops (default: always). */
  times?: number;
}

export interface ImdsMockOptions {
  mode?: ImdsMode;
  /** What a v1-only service answers to the token PUT (404, 405, or 400 from one that finds the request bad). */
  v1OnlyStatus?: 400 | 404 | 405;
  metaData?: Tree;
  userData?: string | Buffer | null;
  identity?: Record<string, unknown> | null;
  versions?: string[];
  faults?: Fault[];
}

export interface ImdsRequest {
  method: string;
  path: string;
  token: string | null;
  status: number | "hang";
  /** A hanging request whose connection the client closed (gave up on it or called it off). */
  closedByClient?: boolean;
}

export interface ImdsMock {
  url: string;
  port: number;
  requests: ImdsRequest[];
  /** Makes every token issued so far expire now (the next GET with one gets 401). */
  expireTokens(): void;
  /** Changes the behaviour of the running mock. */
  set(opts: ImdsMockOptions): void;
  close(): Promise<void>;
}

export const INSTANCE_ID = "i-0123456789abcdef0";
export const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIt3UiGZ0sRfBn3p+9Y0wJ7p8L3fJQwHqM0mockimds mock-key";

export const DEFAULT_VERSIONS = ["1.0", "2007-01-19", "2009-04-04", "2011-01-01", "2016-09-02", "2018-09-24", "2021-03-23", "2021-07-15", "latest"];

export function defaultMetaData(instanceId = INSTANCE_ID): Tree {
  const mac = "0e:49:61:0f:c3:11";
  return {
    "ami-id": "ami-0abcdef1234567890",
    "ami-launch-index": "0",
    "ami-manifest-path": "(unknown)",
    "block-device-mapping": { ami: "/dev/xvda", root: "/dev/xvda" },
    hostname: "ip-10-0-0-12.eu-west-1.compute.internal",
    "instance-action": "none",
    "instance-id": instanceId,
    "instance-life-cycle": "on-demand",
    "instance-type": "t3.micro",
    "local-hostname": "ip-10-0-0-12.eu-west-1.compute.internal",
    "local-ipv4": "10.0.0.12",
    mac,
    network: { interfaces: { macs: { [mac]: { "device-number": "0", "local-ipv4s": "10.0.0.12", mac, "subnet-id": "subnet-0123abcd", "vpc-id": "vpc-0123abcd" } } } },
    placement: { "availability-zone": "eu-west-1b", "availability-zone-id": "euw1-az2", region: "eu-west-1" },
    "public-keys": { "0=mock-key": { "openssh-key": SSH_KEY } },
    iam: {
      info: JSON.stringify({ Code: "Success", LastUpdated: "2026-11-27T00:00:00Z", InstanceProfileArn: "arn:aws:iam::123456789012:instance-profile/mock-role", InstanceProfileId: "AIPAMOCK" }, null, 2),
      "security-credentials": {
        "mock-role": JSON.stringify({ Code: "Success", Type: "AWS-HMAC", AccessKeyId: "ASIAMOCKACCESSKEY", SecretAccessKey: "mock-secret-access-key", Token: "mock-session-token", Expiration: "2026-11-27T06:00:00Z" }, null, 2),
      },
    },
    "reservation-id": "r-0123456789abcdef0",
    "security-groups": "default",
    services: { domain: "amazonaws.com", partition: "aws" },
  };
}

export function defaultIdentity(instanceId = INSTANCE_ID): Record<string, unknown> {
  return {
    accountId: "123456789012",
    architecture: "x86_64",
    availabilityZone: "eu-west-1b",
    imageId: "ami-0abcdef1234567890",
    instanceId,
    instanceType: "t3.micro",
    pendingTime: "2026-11-27T00:00:00Z",
    privateIp: "10.0.0.12",
    region: "eu-west-1",
    version: "2017-09-30",
  };
}

/** A cloud-config user-data of ~16 KiB once gzipped (the service's limit), as a user compresses a large one. */
export function largeGzipUserData(marker = "/var/lib/imds-large-user-data"): Buffer {
  let seed = 1;
  const noise = Buffer.alloc(15 * 1024);
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    noise[i] = seed >> 16;
  }
  const text = `#cloud-config\nwrite_files:\n  - path: ${marker}\n    encoding: b64\n    content: ${noise.toString("base64")}\n`;
  return gzipSync(Buffer.from(text));
}

const NOT_FOUND_PAGE = `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>404 - Not Found</title>
 </head>
 <body>
  <h1>404 - Not Found</h1>
 </body>
</html>
`;

/** The service's XHTML error page (the same page for 400, 401, 403, 404, ...). */
export function errorPage(status: number, text: string): string {
  return NOT_FOUND_PAGE.replace(/404 - Not Found/g, `${status} - ${text}`);
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable" };

/** The node at `segs` in a tree; "0" finds the "0=name" entry of public-keys. */
function lookup(tree: Tree, segs: string[]): string | Buffer | Tree | undefined {
  let cur: string | Buffer | Tree = tree;
  for (const seg of segs) {
    if (typeof cur === "string" || Buffer.isBuffer(cur)) return undefined;
    const node: Tree = cur;
    const key: string | undefined = Object.prototype.hasOwnProperty.call(node, seg) ? seg : Object.keys(node).find((k) => k.startsWith(`${seg}=`));
    if (key === undefined) return undefined;
    cur = node[key]!;
  }
  return cur;
}

function listing(tree: Tree): string {
  return Object.entries(tree)
    .map(([k, v]) => (typeof v === "string" || Buffer.isBuffer(v) || /^\d+=/.test(k) ? k : `${k}/`))
    .join("\n");
}

export async function startImdsMock(initial: ImdsMockOptions = {}, listen: { port?: number; host?: string } = {}): Promise<ImdsMock> {
  let opts: ImdsMockOptions = { ...initial };
  const tokens = new Map<string, number>(); // token -> expiry (ms since epoch)
  const requests: ImdsRequest[] = [];
  const faultUses = new Map<Fault, number>();
  const hanging = new Set<ServerResponse>();
  let closing = false;

  const fault = (line: string): Fault | undefined => {
    for (const f of opts.faults ?? []) {
      if (!f.match.test(line)) continue;
      const used = faultUses.get(f) ?? 0;
      if (f.times !== undefined && used >= f.times) continue;
      faultUses.set(f, used + 1);
      return f;
    }
    return undefined;
  };

  const tree = (): Tree => {
    const ud = opts.userData;
    const identity = opts.identity === undefined ? defaultIdentity() : opts.identity;
    const dynamic: Tree = identity === null ? {} : { "instance-identity": { document: JSON.stringify(identity, null, 2), pkcs7: "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGggCSABIIB", signature: "mock-signature" } };
    const t: Tree = { dynamic, "meta-data": opts.metaData ?? defaultMetaData() };
    if (ud !== null && ud !== undefined) t["user-data"] = typeof ud === "string" ? Buffer.from(ud) : ud;
    return t;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    const token = (req.headers["x-aws-ec2-metadata-token"] as string | undefined) ?? null;
    const rec: ImdsRequest = { method, path, token, status: 0 };
    requests.push(rec);
    const send = (status: number, body: string | Buffer, type = "text/plain", headers: Record<string, string> = {}) => {
      rec.status = status;
      const bytes = typeof body === "string" ? Buffer.from(body) : body;
      res.writeHead(status, { "content-type": type, "content-length": String(bytes.length), server: "EC2ws", ...headers });
      res.end(bytes);
    };
    const sendError = (status: number) => send(status, errorPage(status, STATUS_TEXT[status] ?? "Error"), "text/html");

    const f = fault(`${method} ${path}`);
    if (f?.kind === "delay") await new Promise((r) => setTimeout(r, f.delayMs ?? 1000));
    if (f?.kind === "hang") {
      rec.status = "hang";
      hanging.add(res);
      res.on("close", () => {
        if (!closing) rec.closedByClient = true;
      });
      return;
    }
    if (f?.kind === "status") return sendError(f.status ?? 500);
    if (f?.kind === "html") return send(200, `<!DOCTYPE html>\n<html><head><title>Captive portal</title></head><body>Please log in</body></html>\n`, "text/html");
    if (f?.kind === "body") return send(200, f.body ?? "");
    if (opts.mode === "disabled") return sendError(403);

    if (path === "/latest/api/token") {
      if (method !== "PUT") return sendError(405);
      if (opts.mode === "v1-only") return sendError(opts.v1OnlyStatus ?? 404);
      if (req.headers["x-forwarded-for"] !== undefined) return sendError(403);
      const ttlText = req.headers["x-aws-ec2-metadata-token-ttl-seconds"];
      const ttl = typeof ttlText === "string" && /^\d+$/.test(ttlText.trim()) ? Number(ttlText) : NaN;
      if (!(ttl >= 1 && ttl <= 21600)) return sendError(400);
      const t = randomBytes(42).toString("base64");
      tokens.set(t, Date.now() + ttl * 1000);
      return send(200, t, "text/plain", { "x-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
    }
    if (method !== "GET" && method !== "HEAD") return sendError(405);
    // A service without tokens ignores the header; the others check any token sent, and require one in "required" mode.
    const mode = opts.mode ?? "required";
    if (mode !== "v1-only" && (token !== null || mode === "required")) {
      const expiry = token === null ? undefined : tokens.get(token);
      if (expiry === undefined || expiry <= Date.now()) return sendError(401);
    }

    const segs = path.split("/").filter(Boolean);
    const versions = opts.versions ?? DEFAULT_VERSIONS;
    let answer: string | Buffer;
    if (segs.length === 0) answer = versions.join("\n");
    else {
      if (!versions.includes(segs[0]!)) return sendError(404);
      const node = lookup(tree(), segs.slice(1));
      if (node === undefined) return sendError(404);
      // The version's own listing is the one without trailing slashes on the real service.
      answer = typeof node === "string" || Buffer.isBuffer(node) ? node : segs.length === 1 ? Object.keys(node).join("\n") : listing(node);
    }
    if (f?.kind === "truncate" || f?.kind === "stall") {
      const bytes = typeof answer === "string" ? Buffer.from(answer) : answer;
      rec.status = 200;
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(bytes.length + 64) });
      res.write(bytes.subarray(0, Math.max(1, bytes.length >> 1)), () => {
        if (f.kind === "truncate") res.socket?.destroy();
      });
      if (f.kind === "stall") hanging.add(res);
      return;
    }
    send(200, answer, Buffer.isBuffer(answer) ? "application/octet-stream" : "text/plain");
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port ?? 0, listen.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    requests,
    expireTokens: () => {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    set: (o) => {
      opts = { ...opts, ...o };
      faultUses.clear();
    },
    close: async () => {
      closing = true;
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
