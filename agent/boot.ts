// The stage engine: one boot is local -> network -> config -> final. `sprout boot`
// runs them all in one process; `sprout init --stage X` runs one and picks up
// what the earlier stages left in /run/sprout and /var/lib/sprout.
import { findDatasource } from "../datasources";
import { MODULES } from "../modules";
import { parseCmdline, type Cmdline } from "./cmdline";
import { datasourceConfig, loadSystemConfig, sproutSettings } from "./config";
import { NeedNetworkError, errorMessage, SproutError } from "./errors";
import type { Host } from "./host/types";
import { INSTANCE_DATA, INSTANCE_DATA_SENSITIVE, instanceDataDocs } from "./instance-data";
import { activateInstance, instanceDirName, isDue, markRun, pathsFor } from "./instance-state";
import { deepMerge, isPlainObject } from "./merge";
import { newStatus, readStatus, writeResult, writeStatus, type ErrorRecord, type StatusDoc } from "./status";
import type { CloudConfig, Datasource, DatasourceContext, InstanceData, JsonObject, Module, ModuleContext, Paths, SproutSettings, Stage } from "./types";
import type { StageGates } from "./stage-gates";
import { runUserScript } from "./user-scripts";
import { processUserData, type ProcessedUserData } from "./userdata";

const BOOT_STATE = "/run/sprout/boot-state.json";

interface BootState {
  /** Datasources detected in the local stage that wait for the network stage, in datasource_list order. */
  pending: string[];
  datasource: string | null;
  instanceId: string | null;
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
  instanceDoc?: JsonObject;
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
  const act = activateInstance(h.root, data.instanceId);
  h.root.writeAtomic(`${act.paths.instanceDir}/user-data.txt`, data.userData ?? Buffer.alloc(0), { mode: 0o600 });
  h.root.writeAtomic(`${act.paths.instanceDir}/vendor-data.txt`, data.vendorData ?? Buffer.alloc(0), { mode: 0o600 });
  if (data.networkConfig !== null && data.networkConfig !== undefined) h.root.writeAtomic(`${act.paths.instanceDir}/network-config.json`, JSON.stringify(data.networkConfig, null, 1) + "\n", { mode: 0o600 });
  const docs = instanceDataDocs(data, ds.id);
  h.root.writeAtomic(INSTANCE_DATA_SENSITIVE, JSON.stringify(docs.sensitive, null, 1) + "\n", { mode: 0o600 });
  h.root.writeAtomic(INSTANCE_DATA, JSON.stringify(docs.redacted, null, 1) + "\n", { mode: 0o644 });
  ctx.instanceDoc = docs.sensitive;
  ctx.state.datasource = ds.id;
  ctx.state.instanceId = data.instanceId;
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
    try {
      const data = await ds.fetch(ctx.h, dsContext(ctx, ds, stage));
      ctx.h.log.info(`datasource ${ds.id} read in ${Math.round(ctx.h.clock.monoMs() - t0)} ms`, { evt: "datasource", stage });
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
      try {
        const found = await ds.detect(h, dsContext(ctx, ds, "local"));
        if (found) {
          h.log.info(`datasource ${ds.id} detected: ${found.reason}`);
          candidates.push(ds);
        }
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

/** The cloud-config modules see: system config, then vendor-data, then user-data. */
function cloudConfig(ctx: BootContext, stage: Stage): CloudConfig {
  if (ctx.cloudConfig) return ctx.cloudConfig;
  const paths = currentPaths(ctx);
  const parts: Array<[ProcessedUserData, string]> = [];
  const vendorEnabled = !(isPlainObject(ctx.system.vendor_data) && ctx.system.vendor_data.enabled === false);
  if (vendorEnabled) parts.push([processUserData(ctx.h.root.tryReadFile(`${paths.instanceDir}/vendor-data.txt`), "vendor-data"), "vendor-data"]);
  parts.push([processUserData(ctx.h.root.tryReadFile(`${paths.instanceDir}/user-data.txt`), "user-data"), "user-data"]);
  let cfg: CloudConfig = ctx.system;
  for (const [ud] of parts) {
    for (const p of ud.problems) record(ctx, stage, p.source, `[${p.source}] ${p.message}`, { file: `${paths.instanceDir}/${p.source}.txt`, line: p.line, col: p.col });
    for (const c of ud.cloudConfigs) cfg = deepMerge(cfg, c.value) as CloudConfig;
  }
  ctx.cloudConfig = cfg;
  return cfg;
}

async function runModules(ctx: BootContext, stage: Stage): Promise<void> {
  const { h } = ctx;
  const cfg = cloudConfig(ctx, stage);
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
  };
  const stageRec = ctx.status.v1.stages[stage];
  for (const mod of MODULES.filter((m: Module) => m.stage === stage)) {
    const log = h.log.child({ stage, module: mod.id });
    if (!isDue(h.root, paths, mod.id, mod.frequency)) {
      stageRec.modules.push({ id: mod.id, status: "not-due", detail: `already ran (${mod.frequency})`, ms: 0 });
      continue;
    }
    const t0 = h.clock.monoMs();
    log.debug(`start ${mod.id}`, { evt: "start", name: `${stage}/${mod.id}` });
    let status: "changed" | "unchanged" | "skipped" | "failed";
    let detail: string | undefined;
    try {
      const res = await mod.run(cfg, { ...mctx, host: { ...h, log } });
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
    markRun(h.root, paths, mod.id, mod.frequency, h.clock.now());
    const ms = Math.round((h.clock.monoMs() - t0) * 10) / 10;
    stageRec.modules.push({ id: mod.id, status, ...(detail ? { detail } : {}), ms });
    log.info(`${mod.id}: ${status}${detail ? `: ${detail}` : ""}`, { evt: "finish", name: `${stage}/${mod.id}`, result: status, ms });
  }
}

const STAGE_BODIES: Record<Stage, (ctx: BootContext) => Promise<void>> = {
  async local(ctx) {
    await selectDatasource(ctx, "local");
    saveState(ctx);
    await runModules(ctx, "local");
  },
  async network(ctx) {
    if (ctx.state.pending.length > 0 || !ctx.state.instanceId) {
      await selectDatasource(ctx, "network");
      saveState(ctx);
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
  if (fresh) {
    h.root.remove(BOOT_STATE);
    status.v1.warnings.push(...warnings, ...cmdline.warnings);
    for (const p of loaded.problems) record(ctx, "local", "config", `[config] ${p.file}${p.line ? `:${p.line}:${p.col}` : ""}: ${p.message}`, { file: p.file, line: p.line, col: p.col });
  } else loadState(ctx);
  for (const w of fresh ? status.v1.warnings : []) h.log.warn(w);
  for (const stage of stages) {
    await opts.gates?.beforeStage(stage, ctx.state.pending.length > 0 || !ctx.state.instanceId);
    const rec = status.v1.stages[stage];
    rec.start = h.clock.now().toISOString();
    rec.end = null;
    rec.fatal = null;
    rec.modules = [];
    status.v1.stage = stage;
    status.v1.done = false;
    writeStatus(h.root, status);
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
    writeStatus(h.root, status);
    opts.gates?.afterStage(stage);
  }
  if (stages.includes("final")) writeResult(h.root, status);
  return status;
}

