import type { TargetRoot } from "./host/types";
import { STAGES, type Stage } from "./types";

export const STATUS_FILE = "/run/sprout/status.json";
export const RESULT_FILE = "/run/sprout/result.json";

export interface ErrorRecord {
  /** What failed: "module:write_files", "script:runcmd[2]", "datasource:Ec2", "user-data", "config". */
  source: string;
  message: string;
  stage: Stage | null;
  file?: string;
  line?: number;
  col?: number;
}

export interface ModuleRecord {
  id: string;
  status: "changed" | "unchanged" | "skipped" | "failed" | "not-due";
  detail?: string;
  ms: number;
}

export interface StageRecord {
  start: string | null;
  end: string | null;
  ms: number | null;
  /** Set when the stage could not complete (exit 1). */
  fatal: string | null;
  modules: ModuleRecord[];
}

export interface StatusDoc {
  v1: {
    boot_id: string | null;
    datasource: string | null;
    instance_id: string | null;
    /** The stage running now, or null. */
    stage: Stage | null;
    done: boolean;
    stages: Record<Stage, StageRecord>;
    errors: ErrorRecord[];
    warnings: string[];
  };
}

export type BootState = "not-started" | "running" | "done" | "degraded" | "error";

function emptyStage(): StageRecord {
  return { start: null, end: null, ms: null, fatal: null, modules: [] };
}

export function newStatus(bootId: string | null): StatusDoc {
  const stages = Object.fromEntries(STAGES.map((s) => [s, emptyStage()])) as Record<Stage, StageRecord>;
  return { v1: { boot_id: bootId, datasource: null, instance_id: null, stage: null, done: false, stages, errors: [], warnings: [] } };
}

export function readStatus(root: TargetRoot): StatusDoc | null {
  const text = root.tryReadText(STATUS_FILE);
  if (text === null) return null;
  try {
    const doc = JSON.parse(text) as StatusDoc;
    return doc && doc.v1 && doc.v1.stages ? doc : null;
  } catch {
    return null;
  }
}

export function writeStatus(root: TargetRoot, doc: StatusDoc): void {
  root.writeAtomic(STATUS_FILE, JSON.stringify(doc, null, 1) + "\n", { mode: 0o644 });
}

export function bootState(doc: StatusDoc | null): BootState {
  if (!doc) return "not-started";
  const stages = Object.values(doc.v1.stages);
  if (stages.some((s) => s.fatal)) return doc.v1.done || doc.v1.stage === null ? "error" : "running";
  if (!doc.v1.done) return stages.some((s) => s.start) ? "running" : "not-started";
  return doc.v1.errors.length > 0 ? "degraded" : "done";
}

/** `sprout status` exit codes: 0 clean, 1 a stage could not complete, 2 degraded. */
export function exitCodeFor(state: BootState): number {
  return state === "error" ? 1 : state === "degraded" ? 2 : 0;
}

export function writeResult(root: TargetRoot, doc: StatusDoc): void {
  const state = bootState(doc);
  const result = { v1: { datasource: doc.v1.datasource, instance_id: doc.v1.instance_id, status: state, errors: doc.v1.errors } };
  root.writeAtomic(RESULT_FILE, JSON.stringify(result, null, 1) + "\n", { mode: 0o644 });
}
