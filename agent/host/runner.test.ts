import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("does not wait for a process the program left running with its output, nor kill it at the deadline", async () => {
    // `server &` in a user script: the shell exits at once, the server keeps the pipes open.
    const r = await runner.run(["sh", "-c", "sleep 60 & echo $!"], { timeoutMs: 1500 });
    const pid = Number(r.stdout.toString().trim());
    try {
      expect(r).toMatchObject({ code: 0, timedOut: false, outputLeftOpen: true });
      // Past the deadline: the left-running process was not killed with the program's group.
      await new Promise((res) => setTimeout(res, 2000));
      expect(() => process.kill(pid, 0)).not.toThrow();
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("hands the output of a left-running process to a reader that appends it to the log it is given, up to a cap", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sprout-runner-"));
    const log = join(dir, "user_data.log");
    writeFileSync(log, "");
    let pid = 0;
    try {
      // The process goes on running after it prints: its lines must reach the log as they come, not when it ends.
      const r = await runner.run(["sh", "-c", "(sleep 2; echo late-line; echo 0123456789abcdef; exec sleep 60) & echo early; echo $! >&2"], { timeoutMs: 10_000, leftoverOutput: { appendTo: log, maxBytes: 20 } });
      pid = Number(r.stderr.toString().trim());
      expect(r.stdout.toString()).toBe("early\n");
      expect(r.outputLeftOpen).toBe(true);
      for (let waited = 0; waited < 10_000 && readFileSync(log, "utf8").length < 20; waited += 100) await new Promise((res) => setTimeout(res, 100));
      expect(readFileSync(log, "utf8")).toBe("late-line\n0123456789");
    } finally {
      if (pid > 0) process.kill(pid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a program whose output ends with it is not marked as leaving anything open", async () => {
    const r = await runner.run(["sh", "-c", "echo done"], { timeoutMs: 5000 });
    expect(r.outputLeftOpen).toBeUndefined();
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
