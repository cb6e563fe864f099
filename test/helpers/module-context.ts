// A ModuleContext on a temp target root, with the real Host (or a Host whose
// Runner / Fetcher records calls instead of running them, for commands that
// must never run on the test machine: apt-get, shutdown, user scripts that
// would write to the machine's own files).
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathsFor } from "../../agent/instance-state";
import type { FetchOptions, FetchResponse, Host, RunOptions, RunResult, TargetRoot } from "../../agent/host/types";
import type { CloudConfig, JsonObject, ModuleContext, Stage } from "../../agent/types";
import { runUserScript } from "../../agent/user-scripts";
import { parseYaml } from "../../agent/yaml";
import { asRunningSystem, type TempRoot } from "./target";

export const INSTANCE_ID = "iid-test-1";

export interface ModuleContextOptions {
  host?: Host;
  /** The whole instance-data document; by default built from v1 and metaData. */
  instance?: JsonObject;
  /** Keys merged over the default v1 (instance_id, local_hostname "testhost", public_ssh_keys []). */
  v1?: JsonObject;
  metaData?: JsonObject;
  /** The whole local-hostname (instance data's sprout.local_fqdn); v1.local_hostname holds its first label. */
  localFqdn?: string;
  stage?: Stage;
}

/** On a temp root (or a Host you made), at a stage given in the options or alone. */
export function moduleContext(target: TempRoot | Host, options: ModuleContextOptions | Stage = {}): ModuleContext {
  const opts: ModuleContextOptions = typeof options === "string" ? { stage: options } : options;
  const host = opts.host ?? ("cleanup" in target ? target.host() : target);
  const paths = pathsFor(INSTANCE_ID);
  const stage = opts.stage ?? "final";
  const settings = { scriptTimeoutMs: 30_000, scriptLogCap: 64 * 1024 };
  return {
    host,
    stage,
    instance: opts.instance ?? {
      v1: { instance_id: INSTANCE_ID, local_hostname: "testhost", public_ssh_keys: [], ...opts.v1 },
      ds: { meta_data: opts.metaData ?? {} },
      ...(opts.localFqdn === undefined ? {} : { sprout: { local_fqdn: opts.localFqdn } }),
    },
    instanceId: INSTANCE_ID,
    paths,
    settings,
    datasource: "NoCloud",
    runUserScript: (name, argv, o) => runUserScript({ host, paths, instanceId: INSTANCE_ID, stage, settings, echo: null }, name, argv, o),
  };
}

export interface Recorded {
  host: Host;
  runs: Array<{ argv: string[]; opts: RunOptions }>;
  fetches: Array<{ url: string; opts: FetchOptions }>;
}

/** A Host whose Runner and Fetcher record and answer from `answer` instead of acting. */
export function recordingHost(base: Host, answer: { run?: (argv: string[]) => Partial<RunResult>; fetch?: (url: string) => FetchResponse } = {}): Recorded {
  const rec: Recorded = { host: base, runs: [], fetches: [] };
  rec.host = {
    ...base,
    clock: { ...base.clock, sleep: async () => undefined },
    run: {
      which: (n) => base.run.which(n),
      run: async (argv, opts) => {
        rec.runs.push({ argv, opts });
        return { argv, code: 0, signal: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), dropped: 0, timedOut: false, spawnError: null, durationMs: 1, ...answer.run?.(argv) };
      },
    },
    fetch: {
      fetch: async (url, opts) => {
        rec.fetches.push({ url, opts });
        return answer.fetch ? answer.fetch(url) : { url, status: 200, headers: {}, body: Buffer.alloc(0) };
      },
    },
  };
  return rec;
}

/**
 * recordingHost on a temp root presented as the running system (asRunningSystem: every
 * path still lands in the temp root), where `installed` are the only programs `which`
 * finds. For modules that act on the live machine only: nothing they ask for is run.
 */
export function recordingRunningSystem(base: Host, installed: string[], answer: Parameters<typeof recordingHost>[1] = {}, rootOverrides: Partial<TargetRoot> = {}): Recorded {
  const rec = recordingHost(base, answer);
  rec.host = { ...rec.host, root: asRunningSystem(rec.host.root, rootOverrides), run: { ...rec.host.run, which: (n: string) => (installed.includes(n) ? `/usr/sbin/${n}` : null) } };
  return rec;
}

// shared/ sits beside the repository (in CI too): reach it relative to this file.
const DOCS = resolve(__dirname, "../../../shared/corpus/cloud-init/module-docs");

/** The module-docs examples of a cloud-init module (e.g. "cc_ssh"): file name, text and parsed cloud-config. */
export function docExamples(ccName: string): Array<{ file: string; text: string; config: CloudConfig }> {
  return readdirSync(`${DOCS}/${ccName}`)
    .sort()
    .map((f) => {
      const text = readFileSync(`${DOCS}/${ccName}/${f}`, "utf8");
      return { file: `${DOCS}/${ccName}/${f}`, text, config: parseYaml(text).value as CloudConfig };
    });
}

/** A minimal /etc for useradd --prefix: passwd, group, shadow, gshadow, os-release. */
export const ETC_FILES: Record<string, string> = {
  "etc/passwd": "root:x:0:0:root:/root:/bin/bash\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\n",
  "etc/group": "root:x:0:\nsys:x:3:\nadm:x:4:\nsudo:x:27:\nusers:x:100:\n",
  "etc/shadow": "root:*:19000:0:99999:7:::\nsys:*:19000:0:99999:7:::\n",
  "etc/gshadow": "root:*::\nsys:*::\nadm:*::\nsudo:*::\nusers:*::\n",
  "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
};
