import type { OptionSpec, Parsed } from "./args";

export interface Globals {
  root: string;
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** Longer help: what it does, exit codes. */
  details?: string;
  run(args: Parsed, g: Globals): Promise<number>;
}
