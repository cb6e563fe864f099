// The stage engine: one boot is local -> network -> config -> final. `sprout boot`
// runs them all in one process; `sprout init --stage X` runs one and picks up
// what the earlier stages left in /run/sprout and /var/lib/sprout.
import { findDatasource } from "../datasources";
import { idleResult, MODULE_MANIFEST } from "../modules/manifest";
import { type ModuleLists, planModule, readModuleLists } from "./module-lists";
import { parseCmdline, type Cmdline } from "./cmdline";
import { datasourceConfig, loadSystemConfig, sproutSettings } from "./config";
import { startEarlySyslog } from "./early-syslog";
import { NeedNetworkError, errorMessage, SproutError } from "./errors";
import type { Host } from "./host/types";
import { INSTANCE_DATA, INSTANCE_DATA_SENSITIVE, instanceDataDocs, v1Extras } from "./instance-data";
import { activateInstance, instanceDirName, isDue, markRun, pathsFor } from "./instance-state";
import { isPlainObject } from "./merge";
import { newStatus, readStatus, writeResult, writeStatus, type ErrorRecord, type StatusDoc } from "./status";
import type { CloudConfig, Datasource, DatasourceContext, InstanceData, JsonObject, ModuleContext, Paths, SproutSettings, Stage } from "./types";
import type { StageGates } from "./stage-gates";
import { bootKnownKeys } from "./schema/known-keys";
import { applyNetworkConfig } from "./network";
import { runUserScript } from "./user-scripts";
import { consumeUserData } from "./userdata/consume";

const BOOT_STATE = "/run/sprout/boot-state.json";

interface BootState {
  /** Datasources detected in the local stage that wait for the network stage, in datasource_list order. */
  pending: string[];
  datasource: string | null;
  instanceId: string | null;
  /** The instance whose user-data the network stage of this boot processed (user-data.txt.i). */
  userDataProcessedFor?: string | null;
  /** Whether the adopted instance is new on this machine (the network-config is rendered only then). */
  newInstance?: boolean;
}

export interface BootContext {
  h: Host;
  system: CloudConfig;
  cmdline: Cmdline;
  settings: SproutSettings;
  status: StatusDoc;
  state: BootState;
  echo: ((text: string) => void) | null;
  /** Memoised per process: the cloud-config modules see, and the instance-data document. */
  cloudConfig?: CloudConfig;
  /** Which instance and pass (local / full) cloudConfig was computed for. */
  cloudConfigKey?: string;
  instanceDoc?: JsonObject;
  /** The adopted datasource's network-config (null: none), for the network rendering of the same stage. */
  networkConfig?: unknown;
}

function record(ctx: BootContext, stage: Stage | null, source: string, message: string, loc: { file?: string; line?: number; col?: number } = {}): void {
  const e: ErrorRecord = { source, message, stage, ...loc };
  ctx.status.v1.errors.push(e);
  ctx.h.log.error(message, { stage: stage ?? undefined, source, ...loc });
}

function saveState(ctx: BootContext): void {
  ctx.h.root.writeAtomic(BOOT_STATE, JSON.stringify(ctx.state) + "\n", { mode: 0o600 });
}

function loadState(ctx: BootContext): void {
  const text = ctx.h.root.tryReadText(BOOT_STATE);
  if (!text) return;
  try {
    ctx.state = { ...ctx.state, ...(JSON.parse(text) as BootState) };
  } catch {
    ctx.h.log.warn(`${BOOT_STATE} is unreadable; starting this stage without it`);
  }
}

function dsContext(ctx: BootContext, ds: Datasource, stage: Stage): DatasourceContext {
  const config = datasourceConfig(ctx.system, ds.id);
  const maxWait = typeof config.max_wait === "number" ? config.max_wait : stage === "local" ? 10 : 60;
  return { config, system: ctx.system, cmdline: ctx.cmdline, stage, deadline: ctx.h.clock.monoMs() + maxWait * 1000 };
}

function datasourceList(ctx: BootContext): Datasource[] {
  const raw = ctx.system.datasource_list;
  const ids = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(/[\s,]+/) : ["None"];
  const out: Datasource[] = [];
  for (const id of ids) {
    const ds = findDatasource(id);
    if (ds) out.push(ds);
    else ctx.status.v1.warnings.push(`datasource_list names ${JSON.stringify(id)}, which sprout does not know; ignored`);
  }
  if (!out.some((d) => d.id === "None")) out.push(findDatasource("None")!);
  return out;
}

/** Records the instance found: state dirs, the raw user-data, instance-data.json. */
function adopt(ctx: BootContext, ds: Datasource, data: InstanceData): void {
  const { h } = ctx;
  const dirName = instanceDirName(data.instanceId);
  if (dirName.changed) ctx.status.v1.warnings.push(`instance-id ${JSON.stringify(data.instanceId)} is not a safe directory name; its state is kept in instances/${dirName.name}`);
  for (const w of data.warnings ?? []) {
    const message = `[ds:${ds.id}] ${w}`;
    ctx.status.v1.warnings.push(message);
    h.log.warn(message);
  }
  const act = activateInstance(h.root, data.instanceId);
  // Copies of what the datasource holds: a crash loses nothing the next boot does not
  // read again, so they skip the fsync (the instance-id and semaphores are what must last).
  const copy = { mode: 0o600, durable: false };
  h.root.writeAtomic(`${act.paths.instanceDir}/user-data.txt`, data.userData ?? Buffer.alloc(0), copy);
  h.root.writeAtomic(`${act.paths.instanceDir}/vendor-data.txt`, data.vendorData ?? Buffer.alloc(0), copy);
  if (data.networkConfig !== null && data.networkConfig !== undefined) h.root.writeAtomic(`${act.paths.instanceDir}/network-config.json`, JSON.stringify(data.networkConfig, null, 1) + "\n", copy);
  const docs = instanceDataDocs(data, ds.id, v1Extras(h.root));
  h.root.writeAtomic(INSTANCE_DATA_SENSITIVE, JSON.stringify(docs.sensitive, null, 1) + "\n", { mode: 0o600 });
  h.root.writeAtomic(INSTANCE_DATA, JSON.stringify(docs.redacted, null, 1) + "\n", { mode: 0o644 });
  ctx.instanceDoc = docs.sensitive;
  // Modules of an earlier stage (local, before a network datasource) saw no user-data: read it afresh.
  ctx.cloudConfig = undefined;
  ctx.state.datasource = ds.id;
  ctx.state.instanceId = data.instanceId;
  ctx.state.newInstance = act.isNew;
  ctx.networkConfig = data.networkConfig ?? null;
  ctx.state.pending = [];
  ctx.status.v1.datasource = ds.id;
  ctx.status.v1.instance_id = data.instanceId;
  h.log.info(`datasource ${ds.id}: instance ${data.instanceId}${act.isNew ? " (first boot of this instance)" : ""}`, { datasource: ds.id, subplatform: data.subplatform });
}

/** Tries datasources in order; returns true when one was adopted. */
async function tryDatasources(ctx: BootContext, list: Datasource[], stage: Stage): Promise<boolean> {
  for (const [i, ds] of list.entries()) {
    if (stage === "local" && ds.phase === "network") {
      // An earlier-listed network datasource outranks later local ones: wait for the network stage.
      ctx.state.pending = list.slice(i).map((d) => d.id);
      ctx.h.log.info(`datasource ${ds.id} needs the network; deferred to the network stage`);
      return false;
    }
    const t0 = ctx.h.clock.monoMs();
    const c0 = ctx.h.clock.cpuMs();
    try {
      const data = await ds.fetch(ctx.h, dsContext(ctx, ds, stage));
      const timing = { ms: Math.round((ctx.h.clock.monoMs() - t0) * 10) / 10, cpu_ms: Math.round((ctx.h.clock.cpuMs() - c0) * 10) / 10 };
      ctx.h.log.info(`datasource ${ds.id} read in ${Math.round(timing.ms)} ms`, { evt: "datasource", stage, datasource: ds.id, ...timing });
      adopt(ctx, ds, data);
      return true;
    } catch (err) {
      if (err instanceof NeedNetworkError && stage === "local") {
        ctx.state.pending = list.slice(i).map((d) => d.id);
        ctx.h.log.info(`${err.message}; deferred to the network stage`);
        return false;
      }
      const msg = err instanceof SproutError ? err.full : `[ds:${ds.id}] ${errorMessage(err)}`;
      record(ctx, stage, `datasource:${ds.id}`, `${msg}; trying the next datasource`, err instanceof SproutError ? err.location : undefined);
    }
  }
  return false;
}

async function selectDatasource(ctx: BootContext, stage: "local" | "network"): Promise<void> {
  const { h } = ctx;
  let candidates: Datasource[];
  if (stage === "local") {
    candidates = [];
    for (const ds of datasourceList(ctx)) {
      const t0 = h.clock.monoMs();
      const c0 = h.clock.cpuMs();
      try {
        const found = await ds.detect(h, dsContext(ctx, ds, "local"));
        // Timed for the bench and for a person reading the log: detection runs at every boot.
        const timing = { evt: "datasource-detect", stage, datasource: ds.id, ms: Math.round((h.clock.monoMs() - t0) * 10) / 10, cpu_ms: Math.round((h.clock.cpuMs() - c0) * 10) / 10 };
        if (found) {
          h.log.info(`datasource ${ds.id} detected: ${found.reason}`, timing);
          candidates.push(ds);
        } else h.log.debug(`datasource ${ds.id} not detected`, timing);
      } catch (err) {
        record(ctx, stage, `datasource:${ds.id}`, `detection failed: ${errorMessage(err)}`);
      }
    }
  } else {
    candidates = ctx.state.pending.map((id) => findDatasource(id)).filter((d): d is Datasource => !!d);
  }
  if (await tryDatasources(ctx, candidates, stage)) return;
  if (stage === "local" && ctx.state.pending.length > 0) return;
  // Nothing worked: None still runs the modules with the system config.
  adopt(ctx, findDatasource("None")!, await findDatasource("None")!.fetch(h, dsContext(ctx, findDatasource("None")!, stage)));
}

function instanceDoc(ctx: BootContext): JsonObject {
  if (ctx.instanceDoc) return ctx.instanceDoc;
  const text = ctx.h.root.tryReadText(INSTANCE_DATA_SENSITIVE);
  if (text) {
    try {
      ctx.instanceDoc = JSON.parse(text) as JsonObject;
      return ctx.instanceDoc;
    } catch {
      ctx.h.log.warn(`${INSTANCE_DATA_SENSITIVE} is unreadable`);
    }
  }
  return { v1: {}, ds: {} };
}

function currentPaths(ctx: BootContext): Paths {
  return pathsFor(ctx.state.instanceId ?? "iid-datasource-none");
}

/**
 * The cloud-config modules see: system config, then vendor-data, then user-data.
 * The local stage gets a first look without the network; the network stage
 * processes it fully (includes, scripts, boothooks) and reports its problems.
 */
async function cloudConfig(ctx: BootContext, stage: Stage): Promise<CloudConfig> {
  const key = `${ctx.state.instanceId}:${stage === "local" ? "local" : "full"}`;
  if (ctx.cloudConfig && ctx.cloudConfigKey === key) return ctx.cloudConfig;
  const full = stage !== "local";
  // Stages run as separate processes (sprout init --stage ...) share the network stage's work.
  const reuseProcessed = (stage === "config" || stage === "final") && ctx.state.userDataProcessedFor === ctx.state.instanceId;
  const knownKeys = full && !reuseProcessed ? bootKnownKeys() : undefined;
  const res = await consumeUserData(ctx.h, { system: ctx.system, cmdline: ctx.cmdline, paths: currentPaths(ctx), instance: instanceDoc(ctx), full, reuseProcessed, knownKeys });
  if (stage === "network" && ctx.state.userDataProcessedFor !== ctx.state.instanceId) {
    ctx.state.userDataProcessedFor = ctx.state.instanceId;
    saveState(ctx);
  }
  const seen = new Set(ctx.status.v1.errors.map((e) => e.message));
  for (const p of full ? res.problems : []) {
    const message = `[${p.source}] ${p.message}`;
    if (p.warning) {
      if (!ctx.status.v1.warnings.includes(message)) {
        ctx.status.v1.warnings.push(message);
        ctx.h.log.warn(message);
      }
    } else if (!seen.has(message)) record(ctx, stage, p.source, message, { file: p.file, line: p.line, col: p.col });
  }
  ctx.cloudConfig = res.config;
  ctx.cloudConfigKey = key;
  return res.config;
}

async function runModules(ctx: BootContext, stage: Stage): Promise<void> {
  const { h } = ctx;
  const cfg = await cloudConfig(ctx, stage);
  const paths = currentPaths(ctx);
  const instanceId = ctx.state.instanceId ?? "iid-datasource-none";
  const mctx: ModuleContext = {
    host: h,
    stage,
    instance: instanceDoc(ctx),
    instanceId,
    paths,
    settings: ctx.settings,
    datasource: ctx.state.datasource ?? "None",
    runUserScript: (name, argv, opts) => runUserScript({ host: h, paths, instanceId, stage, settings: ctx.settings, echo: ctx.echo }, name, argv, opts),
    console: ctx.echo,
  };
  const stageRec = ctx.status.v1.stages[stage];
  const lists = moduleLists(ctx, cfg, stage);
  for (const mod of MODULE_MANIFEST.filter((m) => m.stage === stage)) {
    const log = h.log.child({ stage, module: mod.id });
    const plan = planModule(mod.id, mod.frequency, lists);
    if (!plan.runs) {
      stageRec.modules.push({ id: mod.id, status: "skipped", detail: plan.reason, ms: 0 });
      log.info(`${mod.id}: skipped: ${plan.reason}`, { evt: "finish", name: `${stage}/${mod.id}`, result: "skipped", ms: 0 });
      continue;
    }
    const frequency = plan.frequency;
    if (!isDue(h.root, paths, mod.id, frequency)) {
      stageRec.modules.push({ id: mod.id, status: "not-due", detail: `already ran (${frequency})`, ms: 0 });
      continue;
    }
    const t0 = h.clock.monoMs();
    log.debug(`start ${mod.id}`, { evt: "start", name: `${stage}/${mod.id}` });
    let status: "changed" | "unchanged" | "skipped" | "failed";
    let detail: string | undefined;
    let idle = false;
    try {
      const mctxHere = { ...mctx, host: { ...h, log } };
      // A module with nothing to do is not even loaded (modules/manifest.ts).
      // preserve_hostname is honoured from user-data too: sprout keeps a name it is told to keep (docs/compat.md).
      const cfgHere = !plan.systemConfigOnly ? cfg : cfg.preserve_hostname === undefined ? ctx.system : { ...ctx.system, preserve_hostname: cfg.preserve_hostname };
      const skipped = idleResult(mod, cfgHere, mctxHere);
      idle = skipped !== null;
      const res = skipped ?? (await (await mod.load()).run(cfgHere, mctxHere));
      status = res.status;
      detail = res.detail;
      for (const e of res.errors ?? []) record(ctx, stage, `module:${mod.id}`, `[module:${mod.id}] ${e}`);
      if (res.errors?.length) status = status === "skipped" ? "failed" : status;
    } catch (err) {
      status = "failed";
      detail = errorMessage(err);
      const loc = err instanceof SproutError ? err.location : undefined;
      record(ctx, stage, `module:${mod.id}`, err instanceof SproutError ? err.full : `[module:${mod.id}] ${detail}`, loc);
    }
    // A module left idle (none of its keys set) has not run, and keeps no semaphore, as in
    // cloud-init (a module without its activating keys is skipped before it runs): a later
    // boot of this instance whose config gains its keys runs it.
    if (!idle) markRun(h.root, paths, mod.id, frequency, h.clock.now());
    const ms = Math.round((h.clock.monoMs() - t0) * 10) / 10;
    stageRec.modules.push({ id: mod.id, status, ...(detail ? { detail } : {}), ms });
    log.info(`${mod.id}: ${status}${detail ? `: ${detail}` : ""}`, { evt: "finish", name: `${stage}/${mod.id}`, result: status, ms });
  }
}

/**
 * The config's module lists (agent/module-lists.ts), their problems reported once a boot:
 * in the first stage that sees the whole config (the local stage's is a first look).
 */
function moduleLists(ctx: BootContext, cfg: CloudConfig, stage: Stage): ModuleLists {
  const lists = readModuleLists(cfg);
  if (stage === "local") return lists;
  for (const p of lists.problems) {
    const message = `[config] ${p}`;
    if (ctx.status.v1.warnings.includes(message)) continue;
    ctx.status.v1.warnings.push(message);
    ctx.h.log.warn(message, { stage });
  }
  return lists;
}

/**
 * Renders the network configuration (agent/network) for the instance adopted in
 * this stage; with no datasource yet (one that needs the network), the system
 * config's or the DHCP fallback, as cloud-init does before its network stage.
 */
async function renderNetwork(ctx: BootContext, stage: Stage): Promise<void> {
  const adopted = ctx.state.instanceId !== null && ctx.networkConfig !== undefined;
  const t0 = ctx.h.clock.monoMs();
  const c0 = ctx.h.clock.cpuMs();
  const res = await applyNetworkConfig(ctx.h, {
    cmdline: ctx.cmdline,
    system: ctx.system,
    datasource: adopted ? { id: ctx.state.datasource ?? "None", config: ctx.networkConfig } : null,
    newInstance: adopted ? ctx.state.newInstance !== false : true,
    // In the network stage the image's networking has already started: what is rendered now is brought up now.
    bringUp: stage === "network",
  });
  for (const w of res.warnings) {
    ctx.status.v1.warnings.push(w);
    ctx.h.log.warn(w, { stage });
  }
  for (const e of res.errors) record(ctx, stage, "network", e);
  const timing = { ms: Math.round((ctx.h.clock.monoMs() - t0) * 10) / 10, cpu_ms: Math.round((ctx.h.clock.cpuMs() - c0) * 10) / 10 };
  ctx.h.log.info(`network: ${res.status}: ${res.detail}`, { evt: "network", stage, result: res.status, files: res.files, ...timing });
}

const STAGE_BODIES: Record<Stage, (ctx: BootContext) => Promise<void>> = {
  async local(ctx) {
    await selectDatasource(ctx, "local");
    saveState(ctx);
    await renderNetwork(ctx, "local");
    await runModules(ctx, "local");
  },
  async network(ctx) {
    if (ctx.state.pending.length > 0 || !ctx.state.instanceId) {
      await selectDatasource(ctx, "network");
      saveState(ctx);
      if (ctx.networkConfig !== undefined) await renderNetwork(ctx, "network");
    }
    await runModules(ctx, "network");
  },
  async config(ctx) {
    await runModules(ctx, "config");
  },
  async final(ctx) {
    await runModules(ctx, "final");
  },
};

export interface RunStagesOptions {
  echo?: ((text: string) => void) | null;
  /** Synchronises the stages with systemd's ordering points (agent/stage-gates.ts). */
  gates?: StageGates;
}

/** Runs the given stages in order. Never throws: what goes wrong is in the returned status. */
export async function runStages(h: Host, stages: Stage[], opts: RunStagesOptions = {}): Promise<StatusDoc> {
  const loaded = loadSystemConfig(h.root);
  let cmdText = "";
  const warnings: string[] = [];
  try {
    const t = h.root.tryReadText("/proc/cmdline", 65536);
    if (t === null) warnings.push("no /proc/cmdline: read no kernel arguments");
    else cmdText = t;
  } catch (err) {
    warnings.push(`cannot read /proc/cmdline (${(err as Error).message}): read no kernel arguments`);
  }
  const cmdline = parseCmdline(cmdText);
  const fresh = stages[0] === "local";
  const bootId = h.root.tryReadText("/proc/sys/kernel/random/boot_id")?.trim() ?? null;
  const status = (!fresh && readStatus(h.root)) || newStatus(bootId);
  const ctx: BootContext = {
    h,
    system: loaded.config,
    cmdline,
    settings: sproutSettings(loaded.config),
    status,
    state: { pending: [], datasource: null, instanceId: null },
    echo: opts.echo ?? null,
  };
  const hostnameOf = (doc?: JsonObject): string | null => {
    const v1 = doc?.v1;
    return isPlainObject(v1) && typeof v1.local_hostname === "string" ? v1.local_hostname : null;
  };
  const early = startEarlySyslog(h, loaded.config, cmdline, { kernelLog: fresh, identity: () => ({ instanceId: ctx.state.instanceId, hostname: hostnameOf(ctx.instanceDoc) }) });
  if (early.problem) record(ctx, stages[0] ?? null, "syslog", early.problem);
  if (fresh) {
    h.root.remove(BOOT_STATE);
    status.v1.warnings.push(...warnings, ...cmdline.warnings);
    for (const p of loaded.problems) record(ctx, "local", "config", `[config] ${p.file}${p.line ? `:${p.line}:${p.col}` : ""}: ${p.message}`, { file: p.file, line: p.line, col: p.col });
  } else loadState(ctx);
  for (const w of fresh ? status.v1.warnings : []) h.log.warn(w);
  // status.json is written when a stage starts and when the run ends. A stage's end
  // goes to disk with the next stage's start, which follows at once: one rename, not two
  // (replacing a file costs a flush on ext4). Where something waits in between (a stage
  // gate), the finished stage is written before the wait. The stage's done marker for
  // systemd follows its status, so a unit ordered after it reads the stage as finished.
  let finishedUnsaved: Stage | null = null;
  const saveStatus = (): void => {
    writeStatus(h.root, status);
    if (finishedUnsaved) opts.gates?.afterStage(finishedUnsaved);
    finishedUnsaved = null;
  };
  for (const [i, stage] of stages.entries()) {
    await opts.gates?.beforeStage(stage, ctx.state.pending.length > 0 || !ctx.state.instanceId, () => finishedUnsaved && saveStatus());
    const rec = status.v1.stages[stage];
    rec.start = h.clock.now().toISOString();
    rec.end = null;
    rec.fatal = null;
    rec.modules = [];
    status.v1.stage = stage;
    status.v1.done = false;
    saveStatus();
    const t0 = h.clock.monoMs();
    h.log.info(`stage ${stage} starting`, { evt: "start", name: stage, stage });
    try {
      await STAGE_BODIES[stage](ctx);
    } catch (err) {
      rec.fatal = errorMessage(err);
      record(ctx, stage, `stage:${stage}`, `stage ${stage} could not complete: ${errorMessage(err)}`);
      if (!(err instanceof SproutError) && err instanceof Error && err.stack) h.log.debug(err.stack);
    }
    rec.end = h.clock.now().toISOString();
    rec.ms = Math.round((h.clock.monoMs() - t0) * 10) / 10;
    h.log.info(`stage ${stage} finished${rec.fatal ? " with a fatal error" : ""}`, { evt: "finish", name: stage, stage, ms: rec.ms, result: rec.fatal ? "error" : "ok" });
    status.v1.stage = null;
    if (stage === "final") status.v1.done = true;
    finishedUnsaved = stage;
    if (i === stages.length - 1) saveStatus();
  }
  if (stages.includes("final")) writeResult(h.root, status);
  await early.syslog?.end();
  return status;
}

