import { describe, expect, it } from "vitest";
import { ProcessRunner } from "./runner";

const runner = new ProcessRunner();

describe("ProcessRunner", () => {
  it("runs argv and captures stdout, stderr and the exit code", async () => {
    const r = await runner.run(["sh", "-c", 'echo out; echo err >&2; exit 3'], { timeoutMs: 5000 });
    expect(r.code).toBe(3);
    expect(r.stdout.toString()).toBe("out\n");
    expect(r.stderr.toString()).toBe("err\n");
    expect(r.timedOut).toBe(false);
  });

  it("passes arguments without a shell", async () => {
    const r = await runner.run(["printf", "%s|", "a b", "$HOME", ";ls"], { timeoutMs: 5000 });
    expect(r.stdout.toString()).toBe("a b|$HOME|;ls|");
  });

  it("kills a program that overruns its timeout, and what it started", async () => {
    const r = await runner.run(["sh", "-c", "sleep 30 & sleep 30; echo never"], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    expect(r.stdout.toString()).toBe("");
  });

  it("reports a program that does not exist instead of throwing", async () => {
    const r = await runner.run(["/nonexistent/prog"], { timeoutMs: 5000 });
    expect(r.spawnError).toMatch(/not found/);
    expect(r.code).toBeNull();
  });

  it("caps captured output and counts what it dropped", async () => {
    const r = await runner.run(["sh", "-c", "head -c 100000 /dev/zero"], { timeoutMs: 5000, maxCapture: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.dropped).toBe(99000);
  });

  it("feeds input and finds programs on PATH", async () => {
    const r = await runner.run(["cat"], { timeoutMs: 5000, input: "abc" });
    expect(r.stdout.toString()).toBe("abc");
    expect(runner.which("sh")).toMatch(/\/sh$/);
    expect(runner.which("no-such-program-sprout")).toBeNull();
  });
});
