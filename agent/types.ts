// The documents and plugin contracts shared by the agent, datasources and modules.
import type { Host } from "./host/types";
import type { Cmdline } from "./cmdline";

export type Stage = "local" | "network" | "config" | "final";
export const STAGES: readonly Stage[] = ["local", "network", "config", "final"];

export type JsonObject = { [k: string]: unknown };

/** The system config and the cloud-config merged into it: cloud-init's keys. */
export type CloudConfig = JsonObject;

/** What a datasource found. The agent turns it into instance-data.json. */
export interface InstanceData {
  instanceId: string;
  localHostname: string | null;
  /** cloud-init's platform / cloud_name: "nocloud", "ec2"/"aws", "ovf", "none". */
  platform: string;
  cloudName: string;
  /** Where exactly it came from, e.g. "seed-dir (/var/lib/cloud/seed/nocloud)". */
  subplatform: string;
  region: string | null;
  availabilityZone: string | null;
  publicSshKeys: string[];
  metaData: JsonObject;
  userData: Buffer | null;
  vendorData: Buffer | null;
  networkConfig: unknown;
  /** Further datasource documents, kept under `ds` (e.g. Ec2's dynamic/instance-identity). */
  extraDs?: JsonObject;
  /** Further v1 keys (e.g. instance_type). */
  extraV1?: JsonObject;
  /** Dotted paths under `ds` that must not appear in the redacted instance data. */
  sensitivePaths?: string[];
  /** Problems that did not stop the datasource (an optional file it could not read): `sprout status` shows them. */
  warnings?: string[];
}

export interface DatasourceContext {
  /** datasource.<id> from the system config, {} when absent. */
  config: JsonObject;
  /** The whole merged system config. */
  system: CloudConfig;
  cmdline: Cmdline;
  /** The stage asking: a network form of a datasource throws NeedNetworkError in "local". */
  stage: Stage;
  /** Absolute monotonic time (Clock.monoMs) after which the datasource must give up. */
  deadline: number;
}

export interface Datasource {
  /** cloud-init's name: "NoCloud", "Ec2", "OVF", "None". */
  id: string;
  /** Where fetch normally runs; detect always runs in the local stage. */
  phase: "local" | "network";
  /** Cheap: never waits on the network. Returns why it thinks this machine is its platform. */
  detect(h: Host, ctx: DatasourceContext): Promise<{ reason: string } | null>;
  /** May throw DatasourceError, or NeedNetworkError from the local stage to be retried in the network stage. */
  fetch(h: Host, ctx: DatasourceContext): Promise<InstanceData>;
}

export type ModuleFrequency = "always" | "per-instance" | "once";

export interface ModuleResult {
  status: "changed" | "unchanged" | "skipped";
  detail?: string;
  /** Failures that did not stop the module (one runcmd entry, one file): they make the boot degraded. */
  errors?: string[];
}

/** Where the agent keeps state, all target paths. */
export interface Paths {
  stateDir: string; // /var/lib/sprout
  instanceDir: string; // /var/lib/sprout/instances/<id>
  runDir: string; // /run/sprout
  userDataLog: string; // /var/log/user_data.log
}

export interface ModuleContext {
  host: Host;
  stage: Stage;
  /** The redacted+sensitive instance-data document (v1, ds, ...). */
  instance: JsonObject;
  instanceId: string;
  paths: Paths;
  /** Runs a user script with its output framed in /var/log/user_data.log. */
  runUserScript(name: string, argv: string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<UserScriptResult>;
  /** Settings that are sprout's own (sprout: key of the system config). */
  settings: SproutSettings;
  /** The datasource's id, "None" included. */
  datasource: string;
  /** Writes text to the machine's console as it is (no log prefix); absent or null when the boot is quiet. */
  console?: ((text: string) => void) | null;
}

export interface UserScriptResult {
  exitCode: number | null;
  ok: boolean;
  /** Why it failed, for status.json, e.g. "exit 3" or "timed out after 1800 s". */
  failure: string | null;
}

export interface SproutSettings {
  /** Bound on one user script (runcmd entry, part, scripts dir file). */
  scriptTimeoutMs: number;
  /** Bytes of one script's output kept in user_data.log. */
  scriptLogCap: number;
}

export interface Module {
  id: string;
  stage: Stage;
  frequency: ModuleFrequency;
  /** JSON Schema of the cloud-config keys this module owns (an object schema with `properties`). */
  schema: JsonObject;
  run(cfg: CloudConfig, ctx: ModuleContext): Promise<ModuleResult>;
}
