// User-data through a whole boot (runStages on a temp root with a NoCloud seed):
// what lands in status.json, the instance dir and user_data.log.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { runStages } from "../boot";
import { STAGES } from "../types";
import { tempRoot, type TempRoot } from "../../test/helpers/target";

let root: TempRoot;
let server: Server | null = null;
afterEach(() => {
  root?.cleanup();
  server?.close();
  server = null;
});

const SEED = "var/lib/cloud/seed/nocloud";
const IDIR = "/var/lib/sprout/instances/iid-ud";

function seeded(userData: string | Buffer, extra: Record<string, string | Buffer> = {}): TempRoot {
  return tempRoot({ [`${SEED}/meta-data`]: "instance-id: iid-ud\nlocal-hostname: udhost\n", [`${SEED}/user-data`]: userData, "etc/sprout/config.yaml": "datasource_list: [NoCloud, None]\nssh_genkeytypes: [ed25519]\nsprout: {fetch_timeout: 2, fetch_retries: 1}\n", ...extra });
}

async function boot(r: TempRoot) {
  const h = r.host();
  const status = await runStages(h, [...STAGES]);
  return { h, status, v1: status.v1 };
}

/** The paths the last serve() answered, in order. */
let hits: string[] = [];

/** A server on 127.0.0.1: /slow never answers, /missing is 404, anything else serves routes[path]. */
async function serve(routes: Record<string, string>): Promise<string> {
  hits = [];
  server = createServer((req, res) => {
    hits.push(req.url!);
    if (req.url === "/slow") return; // never answers: the fetch's timeout must end it
    const body = routes[req.url!];
    res.statusCode = body === undefined ? 404 : 200;
    res.end(body ?? "not found");
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("user-data in a boot", () => {
  it("a YAML error is in status.json with file, line and column; the rest of the boot runs", async () => {
    root = seeded("#cloud-config\nruncmd:\n  - echo a\n bad: [\n");
    const { v1, h } = await boot(root);
    const err = v1.errors.find((e) => e.source === "user-data")!;
    expect(err).toMatchObject({ stage: "network", file: `${IDIR}/user-data.txt`, line: expect.any(Number), col: expect.any(Number) });
    expect(err.message).toMatch(/^\[user-data\] user-data: YAML error: .*; this cloud-config was not applied$/);
    expect(v1.done).toBe(true);
    expect(h.root.readText("/etc/hostname")).toBe("udhost\n");
    expect(v1.stages.final.modules.find((m) => m.id === "final_message")!.status).toBe("changed");
  });

  it("keeps user-data.txt and user-data.txt.i with mode 0600, and runs shell parts, boothooks and cloud-config", async () => {
    root = seeded(gzipSync("#cloud-config\nwrite_files: [{path: /etc/from-ud, content: hi}]\n"));
    const { v1, h } = await boot(root);
    expect(v1.errors).toEqual([]);
    expect(h.root.readText("/etc/from-ud")).toBe("hi");
    for (const f of ["user-data.txt", "user-data.txt.i"]) expect(h.root.stat(`${IDIR}/${f}`)!.mode).toBe(0o600);
    expect(h.root.readText(`${IDIR}/user-data.txt.i`)).toMatch(/Content-Type: text\/cloud-config/);
  });

  it("a boothook runs on every boot with INSTANCE_ID; a shell part once per instance", async () => {
    const mime = [
      'Content-Type: multipart/mixed; boundary="b"',
      "MIME-Version: 1.0",
      "",
      "--b",
      "Content-Type: text/cloud-boothook",
      "",
      "#cloud-boothook",
      "#!/bin/sh",
      'echo "hook $INSTANCE_ID" >> boothook.out',
      "--b",
      "Content-Type: text/x-shellscript",
      'Content-Disposition: attachment; filename="once.sh"',
      "",
      "#!/bin/sh",
      "echo once >> once.out",
      "--b--",
      "",
    ].join("\n");
    root = seeded(mime);
    await boot(root);
    const second = await boot(root);
    expect(second.v1.errors).toEqual([]);
    const r = second.h.root;
    expect(r.readText("/boothook.out")).toBe("hook iid-ud\nhook iid-ud\n");
    expect(r.readText("/once.out")).toBe("once\n");
    expect(r.readText("/var/log/user_data.log")).toMatch(/BEGIN once\.sh stage=final instance=iid-ud/);
  });

  it("text/x-shellscript-per-boot, -per-instance and -per-once parts go to the scripts folders and run as those say", async () => {
    const part = (type: string, name: string, body: string) => [`--b`, `Content-Type: ${type}`, `Content-Disposition: attachment; filename="${name}"`, "", body];
    const mime = [
      'Content-Type: multipart/mixed; boundary="b"',
      "MIME-Version: 1.0",
      "",
      ...part("text/x-shellscript-per-boot", "every.sh", "#!/bin/sh\r\necho boot >> per-boot.out\r"),
      ...part("text/x-shellscript-per-instance", "inst.sh", "#!/bin/sh\necho instance >> per-instance.out"),
      ...part("text/x-shellscript-per-once", "../once.sh", "#!/bin/sh\necho once >> per-once.out"),
      "--b--",
      "",
    ].join("\n");
    root = seeded(mime);
    const first = await boot(root);
    expect(first.v1.errors).toEqual([]);
    expect(JSON.stringify(first.v1.warnings ?? [])).not.toMatch(/not supported/);
    await boot(root);
    const r = root.host().root;
    expect(r.readText("/per-boot.out")).toBe("boot\nboot\n");
    expect(r.readText("/per-instance.out")).toBe("instance\n");
    expect(r.readText("/per-once.out")).toBe("once\n");
    // Windows line ends made Unix ones, so the #! line names /bin/sh, not "/bin/sh\r".
    expect(r.readText("/var/lib/sprout/scripts/per-boot/every.sh")).toBe("#!/bin/sh\necho boot >> per-boot.out");
    expect(r.stat("/var/lib/sprout/scripts/per-boot/every.sh")!.mode).toBe(0o700);
    expect(r.readdir("/var/lib/sprout/scripts/per-once")).toEqual(["once.sh"]);
    expect(r.readdir("/var/lib/sprout/scripts/per-instance")).toEqual(["inst.sh"]);
  });

  it("#include: a URL that times out or 404s is reported (bounded), the rest applied; #include-once is cached per instance", async () => {
    const base = await serve({ "/a.yaml": "#cloud-config\nwrite_files: [{path: /etc/inc-a, content: a}]\n", "/once.yaml": "#cloud-config\nbootcmd: [echo once-included]\n" });
    root = seeded(`#include\n${base}/a.yaml\n${base}/missing\n${base}/slow\n#include-once ${base}/once.yaml\n`);
    const { v1, h } = await boot(root);
    expect(h.root.readText("/etc/inc-a")).toBe("a");
    const msgs = v1.errors.map((e) => e.message);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toMatch(/#include .*\/missing failed: the server answered HTTP 404 \(not found: check the URL\); the rest of the user-data was applied/);
    expect(msgs[1]).toMatch(/#include .*\/slow failed: .*no complete answer within 2000 ms/);
    expect(h.root.readdir(`${IDIR}/include-once`)).toHaveLength(1);
    expect(h.root.readText("/var/log/user_data.log")).toContain("once-included");
  }, 120_000);

  it("stages run as separate processes (sprout init --stage) fetch an #include once and apply it in each stage", async () => {
    const base = await serve({
      "/inc.yaml": "#cloud-config\nbootcmd: [echo inc-bootcmd]\nruncmd: [echo inc-runcmd]\nwrite_files: [{path: /etc/inc-final, content: f, defer: true}]\n",
      "/cc": "#cloud-config\nfinal_message: from-the-kernel-line $INSTANCE_ID\n",
    });
    root = seeded(`#include\n${base}/inc.yaml\n${base}/missing\n`, { "proc/cmdline": `quiet cloud-config-url=${base}/cc\n` });
    for (const stage of STAGES) await runStages(root.host(), [stage]);
    const h = root.host();
    expect(hits.filter((p) => p === "/inc.yaml")).toHaveLength(1);
    expect(hits.filter((p) => p === "/cc")).toHaveLength(1);
    expect(h.root.readText("/var/log/sprout.log")).toContain("from-the-kernel-line iid-ud");
    expect(hits.filter((p) => p === "/missing")).toHaveLength(1);
    const log = h.root.readText("/var/log/user_data.log");
    expect(log).toContain("inc-bootcmd");
    expect(log).toContain("inc-runcmd");
    expect(h.root.readText("/etc/inc-final")).toBe("f");
    // The 404 is reported once, by the network stage that fetched it.
    const status = JSON.parse(h.root.readText("/run/sprout/status.json"));
    expect(status.v1.errors.map((e: { message: string }) => e.message).filter((m: string) => m.includes("/missing"))).toHaveLength(1);
    expect(status.v1.done).toBe(true);
  }, 60_000);

  it("keys no module reads are a warning naming each (with the key a typo was meant to be); the boot stays clean", async () => {
    root = seeded("#cloud-config\nwrite_file: [{path: /etc/x, content: x}]\nbyobu_by_default: enable\nruncmd: [echo ok]\n", { [`${SEED}/vendor-data`]: "#cloud-config\nvendor_thing: 1\n" });
    const { v1 } = await boot(root);
    expect(v1.errors).toEqual([]);
    expect(v1.warnings).toContain("[user-data] ignored 2 keys no sprout module reads: write_file (did you mean write_files?), byobu_by_default (cloud-init's byobu module, which sprout does not have); `sprout schema --docs` lists the modules and their keys");
    expect(v1.warnings).toContain("[vendor-data] ignored a key no sprout module reads: vendor_thing; `sprout schema --docs` lists the modules and their keys");
    // Known keys, deprecated ones and the agent's own are not named.
    root.cleanup();
    root = seeded("#cloud-config\nhostname: h\nmerge_how: list(append)\nruncmd: [echo ok]\n");
    expect((await boot(root)).v1.warnings.filter((w) => w.includes("ignored"))).toEqual([]);
  });

  it("vendor-data is applied first (user-data wins) and vendor_data: {enabled: false} switches it off", async () => {
    root = seeded("#cloud-config\nwrite_files: [{path: /etc/who, content: user}]\n", { [`${SEED}/vendor-data`]: "#cloud-config\nwrite_files: [{path: /etc/who, content: vendor}]\ntimezone: Nowhere/Land\n" });
    const { h, v1 } = await boot(root);
    expect(h.root.readText("/etc/who")).toBe("user");
    expect(v1.errors.map((e) => e.message).join()).toMatch(/Nowhere\/Land/);
    root.cleanup();
    root = seeded("#cloud-config\nvendor_data: {enabled: false}\n", { [`${SEED}/vendor-data`]: "#cloud-config\ntimezone: Nowhere/Land\n" });
    expect((await boot(root)).v1.errors).toEqual([]);
  });

  it("cloud-config-url on the kernel command line is fetched, kept 0600 and applied with the system config", async () => {
    const base = await serve({ "/cc": "#cloud-config\nwrite_files: [{path: /etc/from-cmdline, content: k}]\n" });
    root = seeded("", { "proc/cmdline": `quiet cloud-config-url=${base}/cc\n` });
    const { h, v1 } = await boot(root);
    expect(v1.errors).toEqual([]);
    expect(h.root.readText("/etc/from-cmdline")).toBe("k");
    expect(h.root.stat("/etc/sprout/config.d/91_kernel_cmdline_url.cfg")!.mode).toBe(0o600);
  });

  it("a jinja part with a missing variable renders CI_MISSING_JINJA_VAR and is reported", async () => {
    root = seeded("## template: jinja\n#cloud-config\nwrite_files: [{path: /etc/j, content: '{{ v1.local_hostname }} {{ ds.meta_data.nope }}'}]\n");
    const { h, v1 } = await boot(root);
    expect(h.root.readText("/etc/j")).toBe("udhost CI_MISSING_JINJA_VAR/nope");
    expect(v1.errors[0]!.message).toMatch(/jinja variable "ds.meta_data.nope" is not in the instance data/);
  });
});
