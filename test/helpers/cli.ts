// Runs the built bundle (dist/sprout.js) as a user would.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

export const BUNDLE = resolve(__dirname, "../../dist/sprout.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function sprout(args: string[], opts: { timeoutMs?: number; env?: Record<string, string>; prefix?: string[] } = {}): CliResult {
  const argv = [...(opts.prefix ?? []), process.execPath, BUNDLE, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 30_000, env: { ...process.env, ...opts.env } });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
