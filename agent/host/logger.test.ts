// The agent's JSON-lines log: what /var/log/sprout.log, the console and the early
// syslog sink get from one call.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "./logger";
import type { LogRecord } from "./types";

// What the logger writes to the console (fd 2), caught instead of written.
const consoleOut = vi.hoisted(() => [] as string[]);
vi.mock("./console", () => ({ writeConsole: (_fd: 1 | 2, text: string | Uint8Array) => void consoleOut.push(String(text)) }));

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as LogRecord);

describe("createLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON object a line with level, ISO time, bindings, fields and msg", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sprout-log-")), "log/sprout.log");
    const log = createLogger({ file, consoleLevel: null });
    log.info("stage local starting", { evt: "start" });
    log.child({ stage: "local" }).child({ module: "growpart" }).warn("disk is full", { device: "/dev/vda" });
    const [a, b] = lines(file);
    expect(a).toEqual({ level: "info", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), evt: "start", msg: "stage local starting" });
    expect(b).toMatchObject({ level: "warn", stage: "local", module: "growpart", device: "/dev/vda", msg: "disk is full" });
    expect(Object.keys(a!).slice(0, 2)).toEqual(["level", "time"]);
  });

  it("keeps its own level and time when a field has the same name", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sprout-log-")), "sprout.log");
    createLogger({ file, consoleLevel: null }).error("clash", { level: "debug", time: "yesterday" });
    expect(lines(file)[0]).toMatchObject({ level: "error", msg: "clash" });
    expect(lines(file)[0]!.time).not.toBe("yesterday");
  });

  it("records an Error's type, message and stack, and a bigint as a string", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sprout-log-")), "sprout.log");
    createLogger({ file, consoleLevel: null }).error("failed", { err: new TypeError("bad thing"), size: 10n });
    const rec = lines(file)[0]!;
    expect(rec.err).toMatchObject({ type: "TypeError", message: "bad thing", stack: expect.stringContaining("bad thing") });
    expect(rec.size).toBe("10");
  });

  it("drops records below its level", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sprout-log-")), "sprout.log");
    const log = createLogger({ file, consoleLevel: null, level: "info" });
    log.debug("noise");
    log.info("kept");
    expect(lines(file).map((r) => r.msg)).toEqual(["kept"]);
  });

  it("hands every record to sinks as an object, and a throwing sink breaks nothing", () => {
    const log = createLogger({ file: null, consoleLevel: null });
    const got: LogRecord[] = [];
    log.addSink(() => {
      throw new Error("syslog server gone");
    });
    log.addSink((r) => got.push(r));
    log.child({ stage: "final" }).info("done", { ms: 3 });
    expect(got).toEqual([{ level: "info", time: expect.any(String), stage: "final", ms: 3, msg: "done" }]);
  });

  it("echoes records at or above the console level as one readable line", () => {
    consoleOut.length = 0;
    const log = createLogger({ file: null, consoleLevel: "warn" });
    log.info("quiet");
    log.child({ stage: "network", module: "ssh" }).warn("no host keys", { path: "/etc/ssh" });
    const out = consoleOut.join("");
    expect(out).not.toContain("quiet");
    expect(out).toMatch(/sprout\[network\/ssh\]: WARNING no host keys \(path=\/etc\/ssh\)\n$/);
  });

  it("logs to the console only, with the reason, when the file cannot be opened", () => {
    consoleOut.length = 0;
    const dir = mkdtempSync(join(tmpdir(), "sprout-log-"));
    writeFileSync(join(dir, "not-a-dir"), "");
    const log = createLogger({ file: join(dir, "not-a-dir/sprout.log"), consoleLevel: "info" });
    log.info("still here");
    const out = consoleOut.join("");
    expect(out).toMatch(/cannot open log .*not-a-dir\/sprout\.log .*logging to the console only/);
    expect(out).toContain("still here");
  });
});
