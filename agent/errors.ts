// Typed errors. Each carries a prefix a person can grep ("[ds:Ec2]", "[module:write_files]")
// and a hint that says what to do next; `cause` keeps the underlying error.

export interface ErrorLocation {
  file?: string;
  line?: number;
  col?: number;
  path?: string; // key path inside a document, e.g. "write_files[0].encoding"
}

export class SproutError extends Error {
  readonly prefix: string;
  readonly hint: string | undefined;
  readonly location: ErrorLocation | undefined;
  constructor(prefix: string, message: string, opts: { hint?: string; cause?: unknown; location?: ErrorLocation } = {}) {
    super(`${prefix} ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.prefix = prefix;
    this.hint = opts.hint;
    this.location = opts.location;
  }
  /** The message and the hint together, as shown to a person. */
  get full(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

export class PathEscapeError extends SproutError {
  constructor(path: string, root: string) {
    super("[host]", `refusing path ${JSON.stringify(path)}: it leaves the target root ${root}`, {
      hint: "paths in configuration must stay inside the target root",
    });
  }
}

export type FetchErrorKind = "timeout" | "connect" | "deadline" | "too-large" | "scheme" | "redirect" | "truncated" | "not-found" | "io" | "tls" | "cancelled";

export class FetchError extends SproutError {
  readonly kind: FetchErrorKind;
  readonly url: string;
  constructor(kind: FetchErrorKind, url: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super("[fetch]", `${url}: ${message}`, opts);
    this.kind = kind;
    this.url = url;
  }
}

export class DatasourceError extends SproutError {
  readonly datasource: string;
  constructor(datasource: string, message: string, opts: { hint?: string; cause?: unknown; location?: ErrorLocation } = {}) {
    super(`[ds:${datasource}]`, message, opts);
    this.datasource = datasource;
  }
}

/** A datasource that needs the network: the local stage defers it to the network stage. */
export class NeedNetworkError extends DatasourceError {}

export class ConfigError extends SproutError {
  constructor(message: string, opts: { hint?: string; cause?: unknown; location?: ErrorLocation } = {}) {
    super("[config]", message, opts);
  }
}

export class ModuleError extends SproutError {
  constructor(module: string, message: string, opts: { hint?: string; cause?: unknown; location?: ErrorLocation } = {}) {
    super(`[module:${module}]`, message, opts);
  }
}

export class UserDataError extends SproutError {
  constructor(message: string, opts: { hint?: string; cause?: unknown; location?: ErrorLocation } = {}) {
    super("[user-data]", message, opts);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof SproutError) return err.full;
  if (err instanceof Error) return err.message;
  return String(err);
}
