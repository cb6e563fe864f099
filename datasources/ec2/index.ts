// Ec2: the instance metadata service (IMDS) of AWS and of every cloud that
// copies it. Detected from firmware facts alone (DMI, /sys/hypervisor), or
// forced by config for EC2-compatible services elsewhere; read over HTTP in the
// network stage with IMDSv2 session tokens, IMDSv1 only where config allows.
import { DatasourceError, FetchError, NeedNetworkError, errorMessage } from "../../agent/errors";
import { Cancel } from "../../agent/cancel";
import type { Cancellation, FetchResponse, Host, Logger } from "../../agent/host/types";
import { isPlainObject } from "../../agent/merge";
import { fallbackNic, nicsByMac, readNics } from "../../agent/network/nics";
import { normalizeSshKeys, readDmi } from "../../agent/platform";
import type { Datasource, DatasourceContext, InstanceData, JsonObject } from "../../agent/types";
import { ec2NetworkConfig } from "./network";
import { API_VERSIONS, chooseApiVersion, decodeLeaf, ec2PlatformReason, htmlTitle, isValidToken, parseListing, sensitivePaths, summarize, type Ec2PlatformFacts } from "./parse";

const DS = "Ec2";
export const DEFAULT_METADATA_URLS = ["http://169.254.169.254", "http://[fd00:ec2::254]"];
const TOKEN_PATH = "latest/api/token";
const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER = "x-aws-ec2-metadata-token";
const MAX_TOKEN_TTL = 21600;

// Bounds on what a service may send: the real one sends a few hundred keys of a
// few bytes each, and user-data of at most 16 KiB.
const MAX_LISTING_BYTES = 256 * 1024;
const MAX_LEAF_BYTES = 1024 * 1024;
const MAX_CRAWL_BYTES = 8 * 1024 * 1024;
const MAX_USER_DATA_BYTES = 16 * 1024 * 1024;
const MAX_KEYS = 2000;
const MAX_DEPTH = 12;

const MAX_WAIT_HINT = "check datasource.Ec2.metadata_urls and the network; raise datasource.Ec2.max_wait if the service comes up late, or take Ec2 out of datasource_list on machines that are not EC2";

export interface Ec2Settings {
  urls: string[];
  timeoutMs: number;
  retries: number;
  imdsv1Fallback: boolean;
  tokenTtl: number;
  /** apply_full_imds_network_config: every NIC and secondary address the meta-data lists (default), or DHCP on the primary NIC only. */
  fullNetworkConfig: boolean;
}

/** datasource.Ec2 from the system config; a wrong value is named with what to write instead. */
export function ec2Settings(cfg: JsonObject): Ec2Settings {
  const bad = (key: string, want: string) => new DatasourceError(DS, `datasource.Ec2.${key} is ${JSON.stringify(cfg[key])}`, { hint: `write ${want}` });
  let urls = DEFAULT_METADATA_URLS;
  if (cfg.metadata_urls !== undefined) {
    const raw = typeof cfg.metadata_urls === "string" ? [cfg.metadata_urls] : cfg.metadata_urls;
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every((u) => typeof u === "string" && /^https?:\/\/[^/]+\/?$/.test(u.trim()))) {
      throw bad("metadata_urls", "a list of service roots such as [\"http://169.254.169.254\"] (http or https, no path)");
    }
    urls = raw.map((u: string) => u.trim().replace(/\/$/, ""));
  }
  const num = (key: string, dflt: number, ok: (n: number) => boolean, want: string): number => {
    const v = cfg[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !ok(v)) throw bad(key, want);
    return v;
  };
  const timeout = num("timeout", 5, (n) => n > 0, "a number of seconds above 0, e.g. 5");
  const retries = num("retries", 3, (n) => Number.isInteger(n) && n >= 0, "a whole number of retries, e.g. 3");
  const tokenTtl = num("token_ttl", MAX_TOKEN_TTL, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_TOKEN_TTL, `a whole number of seconds from 1 to ${MAX_TOKEN_TTL}`);
  const fallback = cfg.imdsv1_fallback ?? true;
  if (typeof fallback !== "boolean") throw bad("imdsv1_fallback", "true or false");
  const fullNetwork = cfg.apply_full_imds_network_config ?? true;
  if (typeof fullNetwork !== "boolean") throw bad("apply_full_imds_network_config", "true or false");
  return { urls, timeoutMs: timeout * 1000, retries, imdsv1Fallback: fallback, tokenTtl, fullNetworkConfig: fullNetwork };
}

// Firmware facts do not change while sprout runs: read once per target root, whether
// detect (local stage) or fetch (cloud_name) asks first.
const factsByRoot = new WeakMap<Host["root"], Ec2PlatformFacts>();

function platformFacts(h: Host): Ec2PlatformFacts {
  let facts = factsByRoot.get(h.root);
  if (!facts) {
    facts = readPlatformFacts(h);
    factsByRoot.set(h.root, facts);
  }
  return facts;
}

function readPlatformFacts(h: Host): Ec2PlatformFacts {
  let hypervisorUuid: string | null = null;
  try {
    hypervisorUuid = h.root.tryReadText("/sys/hypervisor/uuid", 4096)?.trim() || null;
  } catch {
    // unreadable: not evidence either way
  }
  return {
    productUuid: readDmi(h.root, "product_uuid"),
    hypervisorUuid,
    sysVendor: readDmi(h.root, "sys_vendor"),
    productName: readDmi(h.root, "product_name"),
    boardAssetTag: readDmi(h.root, "board_asset_tag"),
  };
}

/** datasource_list: [Ec2] (with or without None) forces the datasource, as in cloud-init. */
function forcedByList(ctx: DatasourceContext): boolean {
  const raw = ctx.system.datasource_list;
  const ids = (Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(/[\s,]+/) : []).filter((id) => id && id.toLowerCase() !== "none");
  return ids.length === 1 && ids[0]!.toLowerCase() === "ec2";
}

function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** One conversation with one service: the token (IMDSv2) or none (IMDSv1), refreshed once on a 401. */
class ImdsSession {
  private tokenRefresh: Promise<void> | null = null;
  constructor(
    private h: Host,
    private log: Logger,
    readonly base: string,
    private s: Ec2Settings,
    private deadline: number,
    private token: string | null,
  ) {}

  get usesTokens(): boolean {
    return this.token !== null;
  }

  private request(path: string, maxBytes: number): Promise<FetchResponse> {
    const headers: Record<string, string> = this.token === null ? {} : { [TOKEN_HEADER]: this.token };
    return this.h.fetch.fetch(`${this.base}/${path}`, { headers, timeoutMs: this.s.timeoutMs, retries: this.s.retries, deadline: this.deadline, maxBytes, maxRedirects: 0 });
  }

  private async refreshToken(used: string | null): Promise<void> {
    if (this.token !== used) return; // another request already got a new one
    this.tokenRefresh ??= (async () => {
      this.log.info(`[ds:Ec2] ${this.base}: the session token was refused (401); asking for a new one`);
      const got = await requestToken(this.h, this.base, this.s, this.deadline);
      if (got.kind !== "token") throw new DatasourceError(DS, `${this.base}: a new session token was refused (${got.detail})`, { hint: "the metadata service is failing; the next boot tries again" });
      this.token = got.token;
    })().finally(() => (this.tokenRefresh = null));
    await this.tokenRefresh;
  }

  /** GET `path`; null on 404 when `optional`. Every other failure is a DatasourceError that names the path. */
  async get(path: string, opts: { maxBytes: number; optional?: boolean }): Promise<FetchResponse | null> {
    let res: FetchResponse;
    try {
      const used = this.token;
      res = await this.request(path, opts.maxBytes);
      if (res.status === 401 && used !== null) {
        await this.refreshToken(used);
        res = await this.request(path, opts.maxBytes);
      }
    } catch (err) {
      throw fetchFailure(this.base, path, err, opts.maxBytes);
    }
    if (res.status === 200) return res;
    if (res.status === 404 && opts.optional) return null;
    const where = `${this.base}/${path}`;
    if (res.status === 401) {
      throw new DatasourceError(DS, `${where} refused the session token twice (401 Unauthorized)`, {
        hint: this.usesTokens ? "the metadata service is failing; the next boot tries again" : "the service requires IMDSv2 tokens but refused to issue one; check its configuration",
      });
    }
    if (res.status === 403) throw new DatasourceError(DS, `${where} was refused (403 Forbidden): the metadata service is turned off or blocks this request`, { hint: "turn the metadata service on for this instance, or take Ec2 out of datasource_list" });
    if (res.status === 404) throw new DatasourceError(DS, `${where} does not exist (404)`, { hint: "this service does not look like an EC2 metadata service; check datasource.Ec2.metadata_urls" });
    throw new DatasourceError(DS, `${where} answered HTTP ${res.status}`, { hint: "the metadata service is failing; the next boot tries again (datasource.Ec2.retries sets how often sprout retries)" });
  }
}

function fetchFailure(base: string, path: string, err: unknown, maxBytes: number): DatasourceError {
  if (err instanceof DatasourceError) return err;
  const where = `${base}/${path}`;
  if (err instanceof FetchError) {
    switch (err.kind) {
      case "too-large":
        return new DatasourceError(DS, `${where} sent more than ${maxBytes} bytes; refused`, { cause: err, hint: "a metadata service never sends this much for one key; check what answers at datasource.Ec2.metadata_urls" });
      case "truncated":
        return new DatasourceError(DS, `${where}: the answer was cut short (${err.message})`, { cause: err, hint: "the metadata service or the network failed mid-answer; the next boot tries again" });
      case "timeout":
      case "deadline":
      case "connect":
        return new DatasourceError(DS, `${where}: no answer (${err.message})`, { cause: err, hint: MAX_WAIT_HINT });
      case "tls":
        return new DatasourceError(DS, `${where}: ${err.message}`, { cause: err, hint: err.hint });
      case "redirect":
        return new DatasourceError(DS, `${where} redirected elsewhere; the metadata service never does`, { cause: err, hint: "check what answers at datasource.Ec2.metadata_urls" });
      default:
        break;
    }
  }
  return new DatasourceError(DS, `${where}: ${errorMessage(err)}`, { cause: err, hint: MAX_WAIT_HINT });
}

type TokenAnswer = { kind: "token"; token: string } | { kind: "no-tokens"; detail: string } | { kind: "disabled"; detail: string } | { kind: "not-imds"; detail: string } | { kind: "retry"; detail: string };

async function requestToken(h: Host, base: string, s: Ec2Settings, deadline: number, cancel?: Cancellation): Promise<TokenAnswer> {
  let res: FetchResponse;
  try {
    res = await h.fetch.fetch(`${base}/${TOKEN_PATH}`, { method: "PUT", headers: { [TOKEN_TTL_HEADER]: String(s.tokenTtl) }, timeoutMs: s.timeoutMs, retries: 0, deadline, maxBytes: 8192, maxRedirects: 0, cancel });
  } catch (err) {
    return { kind: "retry", detail: errorMessage(err) };
  }
  const status = `HTTP ${res.status}`;
  if (res.status === 200) {
    const title = htmlTitle(res.body, res.headers["content-type"]);
    if (title !== null) return { kind: "not-imds", detail: `an HTML page (${JSON.stringify(title)}) came back instead of a token` };
    const token = res.body.toString("latin1").trim();
    if (!isValidToken(token)) return { kind: "not-imds", detail: `the answer to the token request is not a token (${res.body.length} bytes)` };
    return { kind: "token", token };
  }
  if (res.status === 403) return { kind: "disabled", detail: status };
  // 400 too: the TTL sent is always valid (checked in the settings), so a service that
  // refuses the request as bad does not know it (an EC2 copy without tokens).
  if (res.status === 404 || res.status === 405 || res.status === 400) return { kind: "no-tokens", detail: status };
  return { kind: "retry", detail: status };
}

/**
 * How long each metadata URL waits for the one before it to answer before it is asked
 * too, as cloud-init's dual_stack does (RFC 6555's "happy eyeballs"): a URL that hangs
 * (an IPv6 address on an IPv4-only network) costs 150 ms, not its whole timeout.
 */
const STAGGER_MS = 150;

/** An answer to a token request that settles which service to read, and how. */
type Decisive = { base: string; got: Exclude<TokenAnswer, { kind: "retry" } | { kind: "not-imds" }> };

/**
 * One round over the URLs, each asked STAGGER_MS after the one before: the first
 * decisive answer wins and the requests still out are called off. Failures are noted
 * in `problems`; a URL where something other than a metadata service answers joins
 * `notImds`. null when no URL gave a decisive answer.
 */
function tokenRound(h: Host, urls: string[], s: Ec2Settings, deadline: number, problems: Map<string, string>, notImds: Set<string>): Promise<Decisive | null> {
  const cancel = new Cancel();
  return new Promise((resolve) => {
    if (urls.length === 0) return resolve(null);
    let unsettled = urls.length;
    const finish = (result: Decisive | null) => {
      if (cancel.cancelled) return;
      cancel.cancel();
      resolve(result);
    };
    urls.forEach(async (base, i) => {
      if (i > 0) await h.clock.sleep(i * STAGGER_MS, cancel);
      if (cancel.cancelled) return;
      const got = await requestToken(h, base, s, deadline, cancel);
      if (cancel.cancelled) return;
      if (got.kind === "retry" || got.kind === "not-imds") {
        problems.set(base, got.detail);
        if (got.kind === "not-imds") notImds.add(base);
        if (--unsettled === 0) finish(null);
      } else finish({ base, got });
    });
  });
}

/** Finds a service that answers among the configured URLs, asking them again until the deadline. */
async function connect(h: Host, log: Logger, s: Ec2Settings, deadline: number): Promise<ImdsSession> {
  let live = [...s.urls];
  const started = h.clock.monoMs();
  const problems = new Map<string, string>();
  let delay = 200;
  for (;;) {
    if (h.clock.monoMs() < deadline) {
      const notImds = new Set<string>();
      const decisive = await tokenRound(h, live, s, deadline, problems, notImds);
      live = live.filter((u) => !notImds.has(u));
      if (decisive) {
        const { base, got } = decisive;
        switch (got.kind) {
          case "token":
            log.info(`[ds:Ec2] ${base}: IMDSv2 session token received`);
            return new ImdsSession(h, log, base, s, deadline, got.token);
          case "disabled":
            throw new DatasourceError(DS, `the metadata service at ${base} is turned off: the token request was refused (403 Forbidden)`, {
              hint: "turn it on (aws ec2 modify-instance-metadata-options --http-endpoint enabled) or take Ec2 out of datasource_list",
            });
          case "no-tokens":
            if (!s.imdsv1Fallback) {
              throw new DatasourceError(DS, `the metadata service at ${base} does not issue session tokens (${got.detail} on PUT /${TOKEN_PATH}) and datasource.Ec2.imdsv1_fallback is false`, {
                hint: "require IMDSv2 on the service, or set datasource.Ec2.imdsv1_fallback: true to read it without tokens",
              });
            }
            log.warn(`[ds:Ec2] ${base} does not issue session tokens (${got.detail} on PUT /${TOKEN_PATH}); falling back to IMDSv1 as datasource.Ec2.imdsv1_fallback allows`);
            return new ImdsSession(h, log, base, s, deadline, null);
        }
      }
    }
    const why = [...problems].map(([u, p]) => `${u}: ${p}`).join("; ") || "no attempt finished";
    if (live.length === 0) throw new DatasourceError(DS, `no EC2 metadata service at ${s.urls.join(", ")} (${why})`, { hint: "a proxy or another web server answers there; check datasource.Ec2.metadata_urls" });
    const remaining = deadline - h.clock.monoMs();
    if (remaining <= 0) {
      const waited = Math.round((h.clock.monoMs() - started) / 100) / 10;
      throw new DatasourceError(DS, `no metadata service answered at ${s.urls.join(", ")} within ${waited} s (${why})`, { hint: MAX_WAIT_HINT });
    }
    await h.clock.sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, 2000);
  }
}

function refuseHtml(base: string, path: string, res: FetchResponse): void {
  const title = htmlTitle(res.body, res.headers["content-type"]);
  if (title !== null) {
    throw new DatasourceError(DS, `${base}/${path} answered with an HTML page (${JSON.stringify(title)}) instead of metadata`, { hint: "a proxy, captive portal or another web server answers at datasource.Ec2.metadata_urls; point it at the metadata service" });
  }
}

/**
 * Reads meta-data/ into a tree: directories become objects, leaves text (or JSON objects). Bounded in keys, depth and bytes.
 * `rootListing` is the answer for `root` when it was asked for already (see fetch), else null.
 */
async function crawl(session: ImdsSession, log: Logger, root: string, rootListing: FetchResponse | null): Promise<JsonObject> {
  let keys = 0;
  let bytes = 0;
  const count = (path: string, n: number) => {
    bytes += n;
    if (bytes > MAX_CRAWL_BYTES) throw new DatasourceError(DS, `meta-data is larger than ${MAX_CRAWL_BYTES} bytes (at ${path}); refused`, { hint: "a metadata service never sends this much; check what answers at datasource.Ec2.metadata_urls" });
  };
  const walk = async (dir: string, node: JsonObject, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) {
      throw new DatasourceError(DS, `meta-data nests deeper than ${MAX_DEPTH} levels at ${dir}: the listings loop`, { hint: "the metadata service lists a directory inside itself; fix the service or check datasource.Ec2.metadata_urls" });
    }
    const res = depth === 0 && rootListing !== null ? rootListing : (await session.get(dir, { maxBytes: MAX_LISTING_BYTES }))!;
    refuseHtml(session.base, dir, res);
    count(dir, res.body.length);
    const listing = parseListing(res.body.toString("utf8"));
    for (const line of listing.rejected) log.warn(`[ds:Ec2] ${dir}: skipped the listing entry ${JSON.stringify(line.slice(0, 80))}: not a safe path segment`);
    keys += listing.entries.length;
    if (keys > MAX_KEYS) throw new DatasourceError(DS, `meta-data has more than ${MAX_KEYS} keys (at ${dir}); refused`, { hint: "the real service lists a few hundred; check what answers at datasource.Ec2.metadata_urls" });
    await Promise.all(
      listing.entries.map(async (e) => {
        if (e.dir) {
          const child: JsonObject = {};
          node[e.name] = child;
          await walk(dir + e.resource, child, depth + 1);
          return;
        }
        const leaf = await session.get(dir + e.resource, { maxBytes: MAX_LEAF_BYTES, optional: true });
        if (leaf === null) {
          log.debug(`[ds:Ec2] ${dir}${e.resource} is listed but missing (404); left out`);
          return;
        }
        count(dir + e.resource, leaf.body.length);
        node[e.name] = decodeLeaf(leaf.body);
      }),
    );
  };
  const tree: JsonObject = {};
  await walk(root, tree, 0);
  return tree;
}

/** The user-data answer, or null with what went wrong when it could not be read. */
type UserDataRead = { res: FetchResponse | null; problem: string | null };

function settled<T>(r: PromiseSettledResult<T>): T {
  if (r.status === "rejected") throw r.reason;
  return r.value;
}

async function readIdentity(session: ImdsSession, version: string): Promise<JsonObject | null> {
  const path = `${version}/dynamic/instance-identity/document`;
  const res = await session.get(path, { maxBytes: MAX_LISTING_BYTES, optional: true });
  if (res === null) return null;
  refuseHtml(session.base, path, res);
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString("utf8"));
  } catch (err) {
    throw new DatasourceError(DS, `${session.base}/${path} is not JSON (${(err as Error).message}; ${res.body.length} bytes)`, { hint: "the answer is cut short or the service is not an EC2 metadata service; the next boot tries again" });
  }
  if (!isPlainObject(doc)) throw new DatasourceError(DS, `${session.base}/${path} is JSON but not an object`, { hint: "check what answers at datasource.Ec2.metadata_urls" });
  return doc;
}

export const ec2: Datasource = {
  id: DS,
  phase: "network",

  async detect(h, ctx) {
    const reason = ec2PlatformReason(platformFacts(h));
    if (reason) return { reason };
    if (ctx.config.metadata_urls !== undefined) return { reason: "datasource.Ec2.metadata_urls is set in the system config" };
    if (forcedByList(ctx)) return { reason: "datasource_list names Ec2 alone" };
    return null;
  },

  async fetch(h, ctx): Promise<InstanceData> {
    if (ctx.stage === "local") throw new NeedNetworkError(DS, "the EC2 metadata service needs the network");
    const s = ec2Settings(ctx.config);
    const log = h.log;
    const session = await connect(h, log, s, ctx.deadline);
    // A current service offers the newest API version: its meta-data/ listing, user-data
    // and identity document are asked for at once (the Fetcher sends them one after the
    // other on one kept connection, as every request to one server), and a listing that
    // answers is the proof the version is offered (as cloud-init probes a version by
    // reading under it), so the version list costs no round trip. A service that answers
    // anything else there (a 404, or an error some EC2 copies give for a version they do
    // not know) is asked for its version list, and the chosen version is read afresh; a
    // listing that fails for another reason fails again in the crawl, which reports it
    // by its path.
    const newest = API_VERSIONS[0];
    // User-data that cannot be read (anything but a 404, after the retries) does not
    // cost the meta-data: as cloud-init, the instance boots with its ssh keys and
    // hostname and without user-data, so it can be reached; `sprout status` says why.
    const userDataOf = (v: string): Promise<UserDataRead> =>
      session.get(`${v}/user-data`, { maxBytes: MAX_USER_DATA_BYTES, optional: true }).then(
        (res) => ({ res, problem: null }),
        (err: unknown) => {
          if (!(err instanceof DatasourceError)) throw err;
          return { res: null, problem: `${err.message.replace(/^\[ds:Ec2\] /, "")}; booted without user-data (none of it is applied)` };
        },
      );
    const early = {
      listing: session.get(`${newest}/meta-data/`, { maxBytes: MAX_LISTING_BYTES, optional: true }),
      userData: userDataOf(newest),
      identity: readIdentity(session, newest),
    };
    // Settled from here on, so neither early answer outlives fetch() or goes unhandled when another fails first.
    const earlyRest = Promise.allSettled([early.userData, early.identity]);
    const firstListing = await early.listing.catch(() => null);
    let version: string = newest;
    let reads: [Promise<UserDataRead>, Promise<JsonObject | null>] = [early.userData, early.identity];
    if (firstListing === null) {
      await earlyRest;
      const versions = await session.get("", { maxBytes: MAX_LISTING_BYTES, optional: true });
      if (versions) refuseHtml(session.base, "", versions);
      version = chooseApiVersion(versions ? versions.body.toString("utf8") : "");
      reads = [userDataOf(version), readIdentity(session, version)];
    }
    log.info(`[ds:Ec2] ${session.base}: reading API version ${version}${session.usesTokens ? "" : " without session tokens (IMDSv1)"}`);
    // user-data and the identity document are read while the crawl runs. All three are
    // waited for before a failure is reported, and the crawl's failure comes first, as
    // when the three were read one after the other.
    const [mdResult, userDataResult, identityResult] = await Promise.allSettled([crawl(session, log, `${version}/meta-data/`, firstListing), ...reads]);
    const md = settled(mdResult);
    const userData = settled(userDataResult);
    const identity = settled(identityResult);
    const sum = summarize(md, identity);
    if (!sum.instanceId) {
      throw new DatasourceError(DS, `${session.base}/${version}/meta-data/ has no instance-id`, { hint: "an EC2 metadata service always lists instance-id; check datasource.Ec2.metadata_urls" });
    }
    const onAws = ec2PlatformReason(platformFacts(h)) !== null;
    // As cloud-init: the NICs the meta-data describes, matched to this machine's by MAC.
    const nics = readNics(h.root);
    const network = ec2NetworkConfig(md.network, nicsByMac(nics), fallbackNic(nics)?.name ?? null, s.fullNetworkConfig);
    for (const w of network.warnings) log.warn(`[ds:Ec2] ${w}`);
    return {
      instanceId: sum.instanceId,
      localHostname: sum.localHostname,
      platform: "ec2",
      cloudName: onAws ? "aws" : "ec2",
      subplatform: `metadata (${session.base})`,
      region: sum.region,
      availabilityZone: sum.availabilityZone,
      publicSshKeys: normalizeSshKeys(md["public-keys"]),
      metaData: md,
      userData: userData.res ? userData.res.body : null,
      vendorData: null,
      networkConfig: network.config,
      extraDs: {
        dynamic: { "instance-identity": { document: identity } },
        _imds: { url: session.base, api_version: version, session_tokens: session.usesTokens },
      },
      extraV1: { instance_type: sum.instanceType },
      sensitivePaths: sensitivePaths(md),
      ...(userData.problem === null ? {} : { warnings: [userData.problem] }),
    };
  },
};
