import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Rsyslogd, rsyslogdUnavailable } from "../test/helpers/rsyslogd";
import { tempRoot, type TempRoot } from "../test/helpers/target";
import { runStages } from "./boot";
import { formatRfc5424, parseKmsgRecord, parseSyslogUrl } from "./early-syslog";
import { bootState } from "./status";
import { STAGES } from "./types";

describe("parseSyslogUrl", () => {
  it("reads udp and tcp URLs, default port 514, IPv6 in brackets", () => {
    expect(parseSyslogUrl("udp://10.0.0.5:514")).toEqual({ protocol: "udp", host: "10.0.0.5", port: 514 });
    expect(parseSyslogUrl("tcp://logs.example.com")).toEqual({ protocol: "tcp", host: "logs.example.com", port: 514 });
    expect(parseSyslogUrl("TCP://[2001:db8::1]:6514/")).toEqual({ protocol: "tcp", host: "2001:db8::1", port: 6514 });
  });
  it("says what is wrong and how to write it", () => {
    expect(parseSyslogUrl("http://10.0.0.5:514")).toEqual({ error: expect.stringMatching(/unknown scheme "http": write it as udp:\/\/HOST:PORT or tcp:\/\/HOST:PORT/) });
    expect(parseSyslogUrl("udp://10.0.0.5:70000")).toEqual({ error: expect.stringMatching(/port 70000 is not between 1 and 65535/) });
    expect(parseSyslogUrl("10.0.0.5:514")).toEqual({ error: expect.stringMatching(/is not a syslog URL/) });
    expect(parseSyslogUrl("udp://2001:db8::1:514")).toEqual({ error: expect.stringMatching(/IPv6 in brackets/) });
  });
});

describe("RFC 5424 messages", () => {
  it("formats header, structured data with escapes, and one line of text", () => {
    const line = formatRfc5424({ facility: 3, severity: 4, time: new Date("2026-01-02T03:04:05.678Z"), hostname: "web 1", app: "sprout", procId: "42", msgId: "log", data: { instance: 'i-"1"]', stage: null }, text: "two\nlines" });
    expect(line).toBe('<28>1 2026-01-02T03:04:05.678Z web_1 sprout 42 log [sprout@32473 instance="i-\\"1\\"\\]"] two lines');
    expect(formatRfc5424({ facility: 0, severity: 6, time: new Date(0), hostname: null, app: "kernel", procId: null, msgId: null, data: {}, text: "x".repeat(9000) }).length).toBe(4096);
  });
  it("reads /dev/kmsg records", () => {
    expect(parseKmsgRecord("6,339,5140900,-;NET: Registered protocol family 10")).toEqual({ facility: 0, severity: 6, usec: 5140900, text: "NET: Registered protocol family 10" });
    expect(parseKmsgRecord("30,1,2,-,caller=T1;systemd[1]: started \\x7f")).toMatchObject({ facility: 3, severity: 6, text: "systemd[1]: started \x7f" });
    expect(parseKmsgRecord(" SUBSYSTEM=pci")).toBeNull();
  });
});

const unavailable = rsyslogdUnavailable();
if (unavailable) console.warn(`early syslog tests with rsyslogd skipped: ${unavailable}`);

describe.skipIf(unavailable)("early remote syslog to a real rsyslogd", () => {
  const server = new Rsyslogd();
  const roots: TempRoot[] = [];
  beforeAll(() => server.start(), 20_000);
  afterAll(() => server.stop());
  afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));

  const KMSG = "6,1,1000,-;Linux version 6.1.0-test\n4,2,2000,-;ACPI: a warning\n 3,2,2000,-;SUBSYSTEM=acpi\n";
  function machine(iid: string, files: Record<string, string>): TempRoot {
    const r = tempRoot({
      "/proc/cmdline": "root=/dev/vda1 ro\n",
      "/proc/uptime": "12.50 20.00\n",
      "/etc/hostname": "image-default\n",
      "/dev/kmsg": KMSG,
      "/var/lib/cloud/seed/nocloud/meta-data": `instance-id: ${iid}\nlocal-hostname: web-${iid}\n`,
      "/var/lib/cloud/seed/nocloud/user-data": "#cloud-config\n{}\n",
      ...files,
    });
    roots.push(r);
    return r;
  }

  async function bootAndCollect(iid: string, files: Record<string, string>) {
    const r = machine(iid, files);
    const st = await runStages(r.host(), [...STAGES]);
    const all = await server.waitFor((m) => m.some((x) => x.sd.includes(`instance="${iid}"`) && x.msg.startsWith("stage final finished")));
    return { st, all };
  }

  it("UDP from system config: kernel ring buffer first, then every stage's progress in order, with hostname and instance-id", async () => {
    const { st, all } = await bootAndCollect("iid-udp", { "/etc/sprout/config.yaml": `syslog_remote: udp://127.0.0.1:${server.udpPort}\n` });
    expect(bootState(st)).toBe("done");
    const start = all.findIndex((m) => m.app === "kernel" && m.msg === "Linux version 6.1.0-test");
    expect(start).toBeGreaterThanOrEqual(0);
    const run = all.slice(start);
    expect(run[1]).toMatchObject({ app: "kernel", msgId: "kmsg", msg: "ACPI: a warning", host: "image-default" });
    const stages = run.filter((m) => m.msgId === "stage").map((m) => m.msg.replace(/ \(.*\)$/, ""));
    expect(stages.slice(0, 8)).toEqual(STAGES.flatMap((s) => [`stage ${s} starting`, `stage ${s} finished`]));
    const last = run.find((m) => m.msg.startsWith("stage final finished"))!;
    expect(last).toMatchObject({ app: "sprout", host: "web-iid-udp" });
    expect(last.sd).toMatch(/^\[sprout@32473 instance="iid-udp" stage="final"\]$/);
    expect(run.some((m) => m.app === "sprout" && m.msgId === "log" && /datasource NoCloud: instance iid-udp/.test(m.msg))).toBe(true);
  });

  it("TCP with octet counting, from the kernel command line (which beats the system config)", async () => {
    const { st, all } = await bootAndCollect("iid-tcp", {
      "/proc/cmdline": `root=/dev/vda1 ro sprout.syslog=tcp://127.0.0.1:${server.tcpPort}\n`,
      "/etc/sprout/config.yaml": "syslog_remote: udp://127.0.0.1:9\n",
    });
    expect(bootState(st)).toBe("done");
    const run = all.slice(all.map((m) => m.msg).lastIndexOf("Linux version 6.1.0-test"));
    expect(run[0]!.app).toBe("kernel");
    const stages = run.filter((m) => m.msgId === "stage").map((m) => m.msg.replace(/ \(.*\)$/, ""));
    expect(stages).toEqual(STAGES.flatMap((s) => [`stage ${s} starting`, `stage ${s} finished`]));
    expect(run.filter((m) => m.msgId === "stage").pop()!.sd).toContain('instance="iid-tcp"');
  });

  it("a dead TCP server neither fails the boot nor makes it degraded; the loss is logged", async () => {
    const r = machine("iid-dead", { "/etc/sprout/config.yaml": "syslog_remote: tcp://127.0.0.1:9\n" });
    const st = await runStages(r.host(), [...STAGES]);
    expect(bootState(st)).toBe("done");
    expect(r.host().root.readText("/var/log/sprout.log")).toMatch(/early remote syslog: 0 messages sent, \d+ dropped \(connect ECONNREFUSED 127.0.0.1:9\)/);
  });

  it("an unknown scheme: a clear error in the boot's record, the boot goes on", async () => {
    const r = machine("iid-badurl", { "/etc/sprout/config.yaml": "syslog_remote: http://127.0.0.1:514\n" });
    const st = await runStages(r.host(), [...STAGES]);
    expect(bootState(st)).toBe("degraded");
    expect(st.v1.errors).toEqual([expect.objectContaining({ source: "syslog", message: expect.stringMatching(/\[syslog\] system config syslog_remote: "http:\/\/127.0.0.1:514" has the unknown scheme "http": write it as udp:\/\/HOST:PORT .*early remote syslog is off for this boot/) })]);
    expect(st.v1.stages.final.end).not.toBeNull();
  });
});
