// `sprout boot` (the bundle, as a process) in its network stage against the IMDS
// mock and a seed server on 127.0.0.1: each ends with the right status and a
// clear record of what happened, and the waits end at their bounds.
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { BUNDLE, type CliResult } from "./helpers/cli";
import { startSeedServer, type SeedServer } from "./helpers/seed-server";
import { tempRoot, type TempRoot } from "./helpers/target";
import { INSTANCE_ID, SSH_KEY, defaultMetaData, largeGzipUserData, startImdsMock, type ImdsMock, type ImdsMockOptions } from "./imds-mock/server";

const USER_DATA = "#cloud-config\nwrite_files:\n  - path: /etc/imds-proof\n    content: written from IMDS user-data\n";

let mock: ImdsMock | null = null;
let seed: SeedServer | null = null;
const roots: TempRoot[] = [];
afterEach(async () => {
  await mock?.close();
  await seed?.close();
  mock = null;
  seed = null;
  roots.splice(0).forEach((r) => r.cleanup());
});

/** The bundle as a child process; async so this process's servers keep answering. */
function boot(root: TempRoot, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BUNDLE, "--root", root.dir, "boot"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c: Buffer) => (stdout += c));
    p.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ec2Machine(opts: ImdsMockOptions, ec2: Record<string, unknown> = {}): Promise<TempRoot> {
  mock = await startImdsMock({ userData: USER_DATA, ...opts });
  const r = tempRoot({
    "/proc/cmdline": "root=/dev/vda1 ro\n",
    "/sys/class/dmi/id/product_uuid": "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n",
    "/sys/class/dmi/id/sys_vendor": "Amazon EC2\n",
    "/etc/sprout/config.d/50-imds.yaml": JSON.stringify({ datasource: { Ec2: { metadata_urls: [mock.url], timeout: 1, ...ec2 } } }),
  });
  roots.push(r);
  return r;
}

function read(r: TempRoot, path: string): string {
  return r.host().root.tryReadText(path) ?? "";
}

function status(r: TempRoot): { v1: { datasource: string; instance_id: string; errors: Array<{ source: string; message: string }>; warnings: string[] } } {
  return JSON.parse(read(r, "/run/sprout/status.json"));
}

describe("sprout boot on EC2", () => {
  it("IMDSv2: a clean boot with the instance's id, keys and user-data", async () => {
    const r = await ec2Machine({ mode: "required" });
    const b = await boot(r);
    expect(b.code, b.stderr).toBe(0);
    const s = status(r);
    expect(s.v1).toMatchObject({ datasource: "Ec2", instance_id: INSTANCE_ID, errors: [] });
    const data = JSON.parse(read(r, "/run/sprout/instance-data.json"));
    expect(data.v1).toMatchObject({ cloud_name: "aws", platform: "ec2", region: "eu-west-1", availability_zone: "eu-west-1b", instance_type: "t3.micro", public_ssh_keys: [SSH_KEY] });
    expect(JSON.stringify(data)).not.toContain("mock-secret-access-key");
    expect(read(r, "/run/sprout/instance-data-sensitive.json")).toContain("mock-secret-access-key");
    expect(read(r, "/etc/imds-proof")).toBe("written from IMDS user-data");
    expect(mock!.requests.filter((q) => q.method === "GET").every((q) => q.token !== null)).toBe(true);
  });

  it("IMDSv1 fallback: a clean boot, and the log says it read without tokens", async () => {
    const r = await ec2Machine({ mode: "v1-only", v1OnlyStatus: 405 });
    const b = await boot(r);
    expect(b.code, b.stderr).toBe(0);
    expect(status(r).v1.instance_id).toBe(INSTANCE_ID);
    expect(read(r, "/var/log/sprout.log")).toMatch(/falling back to IMDSv1/);
    expect(read(r, "/etc/imds-proof")).toBe("written from IMDS user-data");
  });

  it("metadata service turned off: a degraded boot on None that says so", async () => {
    const r = await ec2Machine({ mode: "disabled" });
    const b = await boot(r);
    expect(b.code).toBe(2);
    const s = status(r);
    expect(s.v1.datasource).toBe("None");
    expect(s.v1.errors.map((e) => `${e.source}: ${e.message}`).join("\n")).toMatch(/datasource:Ec2: \[ds:Ec2\] the metadata service at .* is turned off/);
  });

  it("a hanging service with max_wait: 3 ends degraded on None, with the reason", async () => {
    const r = await ec2Machine({ faults: [{ match: /./, kind: "hang" }] }, { max_wait: 3 });
    const b = await boot(r, 15_000);
    expect(b.code).toBe(2);
    const s = status(r);
    expect(s.v1.datasource).toBe("None");
    expect(s.v1.errors.map((e) => e.message).join("\n")).toMatch(/no metadata service answered at .* within [23](\.\d)? s/);
  });

  it("configures the network the meta-data describes: every NIC by MAC, secondary addresses, route metrics", async () => {
    const [mac0, mac1] = ["0e:49:61:0f:c3:11", "0e:49:61:0f:c3:22"];
    const metaData = defaultMetaData();
    metaData.network = {
      interfaces: {
        macs: {
          [mac0]: { "device-number": "0", "local-ipv4s": "10.0.0.12\n10.0.0.13", "subnet-ipv4-cidr-block": "10.0.0.0/20", mac: mac0 },
          [mac1]: { "device-number": "1", "local-ipv4s": "10.0.1.7", "subnet-ipv4-cidr-block": "10.0.1.0/24", mac: mac1 },
        },
      },
    };
    const r = await ec2Machine({ metaData });
    for (const [name, mac] of [["eth0", mac0], ["eth1", mac1]]) {
      r.write(`/sys/class/net/${name}/address`, `${mac}\n`);
      r.write(`/sys/class/net/${name}/carrier`, "1\n");
      r.write(`/sys/class/net/${name}/operstate`, "up\n");
    }
    // An image with ifupdown: sprout writes ENI, as cloud-init does on Debian.
    for (const tool of ["ifquery", "ifup", "ifdown"]) r.write(`/sbin/${tool}`, "#!/bin/sh\n", 0o755);
    r.write("/etc/network/interfaces", "source /etc/network/interfaces.d/*\n");
    const b = await boot(r);
    expect(b.code, b.stderr).toBe(0);
    // What cloud-init 22.4.2's Ec2 datasource and ENI renderer make of the same meta-data and NICs.
    expect(read(r, "/etc/network/interfaces.d/50-cloud-init").replace(/^(#.*\n)+/, "")).toBe(
      "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n    metric 100\n\n# control-alias eth0\niface eth0 inet static\n    address 10.0.0.13/20\n\nauto eth1\niface eth1 inet dhcp\n    metric 200\n",
    );
    expect(read(r, "/etc/udev/rules.d/70-persistent-net.rules")).toContain(`ATTR{address}=="${mac1}", NAME="eth1"`);
    const data = JSON.parse(read(r, "/run/sprout/instance-data.json"));
    expect(data.ds.meta_data.network.interfaces.macs[mac0]["local-ipv4s"]).toEqual(["10.0.0.12", "10.0.0.13"]);
  });

  it("a large gzip user-data arrives byte for byte", async () => {
    const gz = largeGzipUserData();
    const r = await ec2Machine({ userData: gz });
    await boot(r);
    expect(status(r).v1.instance_id).toBe(INSTANCE_ID);
    const stored = r.host().root.tryReadFile(`/var/lib/sprout/instances/${INSTANCE_ID}/user-data.txt`);
    expect(stored?.equals(gz)).toBe(true);
  });
});

describe("sprout boot from a seed URL", () => {
  it("ds=nocloud-net;s=URL on the kernel line: a clean boot from the server's seed", async () => {
    seed = await startSeedServer({ "/seed/meta-data": "instance-id: iid-url\nlocal-hostname: urlhost\n", "/seed/user-data": USER_DATA });
    const r = tempRoot({ "/proc/cmdline": `BOOT_IMAGE=/vmlinuz root=/dev/vda1 "ds=nocloud-net;s=${seed.url}/seed/" ro\n` });
    roots.push(r);
    const b = await boot(r);
    expect(b.code, b.stderr).toBe(0);
    expect(status(r).v1).toMatchObject({ datasource: "NoCloud", instance_id: "iid-url" });
    expect(read(r, "/etc/imds-proof")).toBe("written from IMDS user-data");
    expect(seed.requests).toContain("/seed/meta-data");
  });

  it("an unterminated quote still boots, with a warning in the status", async () => {
    seed = await startSeedServer({ "/seed/meta-data": "instance-id: iid-quote\n" });
    const r = tempRoot({ "/proc/cmdline": `root=/dev/vda1 "ds=nocloud;s=${seed.url}/seed/\n` });
    roots.push(r);
    const b = await boot(r);
    expect(b.code, b.stderr).toBe(0);
    const s = status(r);
    expect(s.v1.instance_id).toBe("iid-quote");
    expect(s.v1.warnings.join("\n")).toMatch(/unterminated quote/);
  });

  it("an unreachable seed server: gives up at max_wait, degraded on None with the reason", async () => {
    const gone = await startSeedServer({});
    await gone.close();
    const r = tempRoot({
      "/proc/cmdline": `root=/dev/vda1 ds=nocloud;s=${gone.url}/seed/\n`,
      "/etc/sprout/config.d/50-wait.yaml": "datasource:\n  NoCloud:\n    max_wait: 1\n",
    });
    roots.push(r);
    const b = await boot(r);
    expect(b.code).toBe(2);
    const s = status(r);
    expect(s.v1.datasource).toBe("None");
    expect(s.v1.errors.map((e) => e.message).join("\n")).toMatch(/gave up waiting for the seed at .*max_wait/);
  });

  it("s= with an unsupported scheme: degraded on None, naming the scheme", async () => {
    const r = tempRoot({ "/proc/cmdline": "root=/dev/vda1 ds=nocloud;s=tftp://127.0.0.1/seed/\n" });
    roots.push(r);
    const b = await boot(r);
    expect(b.code).toBe(2);
    expect(status(r).v1.errors.map((e) => e.message).join("\n")).toMatch(/unsupported scheme "tftp".*use file/);
  });
});
