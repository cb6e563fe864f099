// A real rsyslogd for tests: its own config, pid file and work directory in a
// temporary folder, listening on 127.0.0.1 only (UDP and TCP on free ports),
// writing every message it parsed to a file as HOST|APP|PROCID|MSGID|SD|MSG.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";

export function rsyslogdUnavailable(): string | null {
  return spawnSync("rsyslogd", ["-v"]).status === 0 ? null : "rsyslogd is not installed (apt-get install rsyslog)";
}

export interface ReceivedMessage {
  host: string;
  app: string;
  procId: string;
  msgId: string;
  sd: string;
  msg: string;
}

export class Rsyslogd {
  readonly dir = mkdtempSync(join(tmpdir(), "sprout-rsyslogd-"));
  readonly out = join(this.dir, "messages.log");
  udpPort = 0;
  tcpPort = 0;
  private child: ChildProcess | null = null;
  stderr = "";

  async start(): Promise<void> {
    this.udpPort = await freePort("udp");
    this.tcpPort = await freePort("tcp");
    mkdirSync(join(this.dir, "work"));
    const conf = join(this.dir, "rsyslog.conf");
    writeFileSync(
      conf,
      `global(workDirectory="${this.dir}/work" maxMessageSize="64k")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${this.udpPort}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${this.tcpPort}")
template(name="fields" type="string" string="%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")
*.* action(type="omfile" file="${this.out}" template="fields" flushOnTXEnd="on" asyncWriting="off")
`,
    );
    this.child = spawn("rsyslogd", ["-n", "-f", conf, "-i", join(this.dir, "rsyslogd.pid")], { stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    // Ready when a probe sent over UDP has been written out.
    const probe = dgram.createSocket("udp4");
    try {
      for (let i = 0; i < 100; i++) {
        probe.send(`<14>1 2026-01-01T00:00:00Z probe probe - probe - ready`, this.udpPort, "127.0.0.1");
        await new Promise((ok) => setTimeout(ok, 100));
        if (this.messages().some((m) => m.app === "probe")) return;
        if (this.child.exitCode !== null) break;
      }
    } finally {
      probe.close();
    }
    throw new Error(`rsyslogd did not come up: ${this.stderr}`);
  }

  /** Messages written so far, the readiness probes left out. */
  messages(): ReceivedMessage[] {
    if (!existsSync(this.out)) return [];
    return readFileSync(this.out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [host = "", app = "", procId = "", msgId = "", ...rest] = l.split("|");
        const tail = rest.join("|");
        const sdEnd = tail.startsWith("[") ? tail.indexOf("]|") + 1 : tail.indexOf("|");
        return { host, app, procId, msgId, sd: tail.slice(0, sdEnd), msg: tail.slice(sdEnd + 1).trim() };
      });
  }

  async waitFor(pred: (m: ReceivedMessage[]) => boolean, ms = 10_000): Promise<ReceivedMessage[]> {
    for (let t = 0; t < ms; t += 100) {
      const m = this.messages().filter((x) => x.app !== "probe");
      if (pred(m)) return m;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return this.messages().filter((x) => x.app !== "probe");
  }

  stop(): void {
    if (this.child && this.child.exitCode === null) this.child.kill("SIGKILL");
    this.child = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
