// EC2 and seed URLs in a real Debian chroot with Debian's nodejs: the machine's
// firmware says EC2 (DMI files in the overlay), the metadata service is the mock
// run as its own process (test/imds-mock/serve.mjs) on 127.0.0.1, which the
// chroot shares (the harness does not unshare the network).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { ChrootMachine, e2eUnavailable } from "./harness";

const why = e2eUnavailable();
if (why) console.warn(`skipping e2e: ${why}`);

const SERVE = new URL("../imds-mock/serve.mjs", import.meta.url).pathname;
const USER_DATA = `#cloud-config
hostname: ec2-e2e
write_files:
  - path: /etc/e2e/from-imds.conf
    content: |
      source=imds
runcmd:
  - echo "ran on $(hostname)" > /var/tmp/runcmd.log
`;

const children: ChildProcess[] = [];
const machines: ChrootMachine[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGTERM");
  for (const m of machines.splice(0)) m.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts a process that prints one line with a URL on stdout once it listens. */
async function serve(argv: string[]): Promise<string> {
  const p = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(p);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: p.stdout! }).once("line", resolve);
    p.once("exit", (code) => reject(new Error(`${argv.join(" ")} exited with ${code}`)));
  });
  return (JSON.parse(line) as { url: string }).url;
}

async function ec2Machine(mockArgs: string[], ec2: Record<string, unknown> = {}): Promise<ChrootMachine> {
  const ud = mkdtempSync(join(tmpdir(), "sprout-e2e-ud-"));
  dirs.push(ud);
  writeFileSync(join(ud, "user-data"), USER_DATA);
  const url = await serve([SERVE, "--user-data", join(ud, "user-data"), "--instance-id", "i-0e2e000000000001", ...mockArgs]);
  const m = new ChrootMachine();
  machines.push(m);
  m.write("/sys/class/dmi/id/product_uuid", "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n");
  m.write("/sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
  m.write("/etc/sprout/config.d/50-imds.yaml", JSON.stringify({ datasource: { Ec2: { metadata_urls: [url], timeout: 1, ...ec2 } } }));
  return m;
}

function errors(m: ChrootMachine): string {
  return (JSON.parse(m.read("/run/sprout/status.json")).v1.errors as Array<{ message: string }>).map((e) => e.message).join("\n");
}

describe.skipIf(why !== null)("e2e: EC2 metadata service and seed URLs in a Debian chroot", () => {
  it("IMDSv2: hostname, files, commands, keys and a clean status", async () => {
    const m = await ec2Machine(["--mode", "required"]);
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/etc/hostname")).toBe("ec2-e2e\n");
    expect(m.lastHostname()).toBe("ec2-e2e");
    expect(m.read("/etc/e2e/from-imds.conf")).toBe("source=imds\n");
    expect(m.read("/var/tmp/runcmd.log")).toBe("ran on ec2-e2e\n");
    const s = m.after(["sprout", "status"]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/datasource: Ec2\ninstance-id: i-0e2e000000000001/);
    expect(JSON.parse(m.after(["sprout", "query", "v1.public_ssh_keys"]).stdout)[0]).toMatch(/^ssh-ed25519 /);
    expect(m.after(["sprout", "query", "v1.region"]).stdout).toBe("eu-west-1\n");
    expect(m.read("/run/sprout/instance-data.json")).not.toContain("mock-secret-access-key");
  }, 300_000);

  it("IMDSv1 fallback: the same boot without tokens, and the log says so", async () => {
    const m = await ec2Machine(["--mode", "v1-only"]);
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/etc/hostname")).toBe("ec2-e2e\n");
    expect(m.read("/var/log/sprout.log")).toMatch(/falling back to IMDSv1/);
  }, 300_000);

  it("metadata service turned off: degraded on None, and status says why", async () => {
    const m = await ec2Machine(["--mode", "disabled"]);
    const b = m.boot();
    expect(b.code).toBe(2);
    expect(m.after(["sprout", "status"]).code).toBe(2);
    expect(errors(m)).toMatch(/metadata service at .* is turned off/);
  }, 300_000);

  it("a hanging service with max_wait: 3: the boot still ends, degraded, with the reason", async () => {
    const m = await ec2Machine(["--hang"], { max_wait: 3 });
    const b = m.run(["sprout", "boot"], { timeoutMs: 30_000 });
    expect(b.code).toBe(2);
    expect(errors(m)).toMatch(/no metadata service answered/);
  }, 300_000);

  it("a seed URL on the kernel command line (GRUB-quoted ds=nocloud-net;s=http://...)", async () => {
    const seed = mkdtempSync(join(tmpdir(), "sprout-e2e-seed-"));
    dirs.push(seed);
    mkdirSync(join(seed, "seed"));
    writeFileSync(join(seed, "seed/meta-data"), "instance-id: iid-e2e-url\nlocal-hostname: url-host\n");
    writeFileSync(join(seed, "seed/user-data"), USER_DATA);
    const url = await serve(["-e", STATIC_SERVER, seed]);
    const m = new ChrootMachine();
    machines.push(m);
    m.cmdline = `BOOT_IMAGE=/vmlinuz root=/dev/vda1 "ds=nocloud-net;s=${url}/seed/" ro`;
    const b = m.boot();
    expect(b.code, b.stderr).toBe(0);
    expect(m.read("/etc/hostname")).toBe("ec2-e2e\n");
    expect(m.read("/etc/e2e/from-imds.conf")).toBe("source=imds\n");
    expect(m.after(["sprout", "query", "v1.instance_id"]).stdout).toBe("iid-e2e-url\n");
  }, 300_000);
});

// A static file server for the seed (argv[1] is the directory), printing its URL as serve.mjs does.
const STATIC_SERVER = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
const root = process.argv[1];
const s = http.createServer((req, res) => {
  const p = path.join(root, path.normalize(decodeURIComponent(req.url.split("?")[0])));
  fs.readFile(p, (err, data) => { if (err) { res.writeHead(404); res.end(); } else res.end(data); });
});
s.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ url: "http://127.0.0.1:" + s.address().port })));
process.on("SIGTERM", () => process.exit(0));
`;
