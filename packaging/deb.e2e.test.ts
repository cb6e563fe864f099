// sprout's Debian package in a real Debian chroot (the e2e harness: Debian's own
// nodejs 18, dpkg, debconf): build + lintian, install, boot, upgrade over an older
// version, purge, installer preseed through debconf, and a missing nodejs.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChrootMachine, e2eUnavailable } from "../test/e2e/harness";

const REPO = resolve(__dirname, "..");
const VERSION: string = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version;
const NEWER = `${VERSION}+upgrade1`;

function unavailable(): string | null {
  const e2e = e2eUnavailable();
  if (e2e) return e2e;
  for (const tool of ["dpkg-buildpackage", "dh", "fakeroot", "dpkg-deb"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `package tests need ${tool}: apt-get install debhelper dpkg-dev fakeroot lintian`;
  }
  return null;
}
const why = unavailable();
if (why) console.warn(`skipping package tests: ${why}`);

const NONINTERACTIVE = ["env", "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true"];

/** The same package with a higher version, as an upgrade would bring it. */
function repackWithVersion(deb: string, version: string, outDir: string): string {
  const tree = join(outDir, "tree");
  spawnSync("dpkg-deb", ["-R", deb, tree], { stdio: "inherit" });
  const control = join(tree, "DEBIAN/control");
  writeFileSync(control, readFileSync(control, "utf8").replace(/^Version: .*$/m, `Version: ${version}`));
  const out = join(outDir, `sprout_${version}_all.deb`);
  const r = spawnSync("dpkg-deb", ["--root-owner-group", "-b", tree, out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`dpkg-deb -b failed: ${r.stderr}`);
  return out;
}

/** Every path in the machine outside the pseudo filesystems, to see what purge removes. */
function fileList(m: ChrootMachine): Set<string> {
  const r = m.run(["find", "/", "-xdev", "(", "-path", "/proc", "-o", "-path", "/run", "-o", "-path", "/dev", "-o", "-path", "/tmp", "-o", "-path", "/var/cache/debconf", "-o", "-path", "/var/lib/dpkg", "-o", "-path", "/var/log/dpkg.log", "-o", "-path", "/var/log/apt", ")", "-prune", "-o", "-print"]);
  return new Set(r.stdout.split("\n").filter(Boolean));
}

describe.skipIf(why !== null)("the Debian package", () => {
  let deb = "";
  let newer = "";
  let build = { code: 0 as number | null, out: "" };
  let scratch = "";

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "sprout-deb-test-"));
    // Awaited, not spawnSync: build + lintian take a minute or more, too long to block a test worker.
    build = await new Promise((res) => {
      const p = spawn("sh", [join(REPO, "packaging/build-deb")], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (out += d));
      const timer = setTimeout(() => p.kill("SIGTERM"), 600_000);
      p.on("close", (code) => {
        clearTimeout(timer);
        res({ code, out });
      });
    });
    deb = join(REPO, `dist/sprout_${VERSION}_all.deb`);
    if (build.code === 0) newer = repackWithVersion(deb, NEWER, scratch);
  }, 900_000);
  afterAll(() => scratch && rmSync(scratch, { recursive: true, force: true }));

  it("builds with debhelper and lintian reports no errors or warnings", () => {
    expect(build.code, build.out).toBe(0);
    expect(build.out).not.toMatch(/^[EW]: /m);
  });

  it("its systemd units pass systemd-analyze verify", () => {
    if (spawnSync("sh", ["-c", "command -v systemd-analyze"]).status !== 0) return void console.warn("systemd-analyze missing; skipped (apt-get install systemd)");
    // The package's files over the host's own units: a real systemd tree to resolve against.
    const root = join(scratch, "verify-root");
    expect(spawnSync("dpkg-deb", ["-x", deb, root]).status).toBe(0);
    spawnSync("cp", ["-rn", "/lib/systemd/system/.", join(root, "lib/systemd/system/")]);
    const units = ["sprout.service", "sprout-local.service", "sprout-network.service", "sprout-config.service", "sprout-final.service", "sprout.target"].map((u) => join(root, "lib/systemd/system", u));
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...units], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_LEVEL: "notice" } });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  describe("install, upgrade, purge", () => {
    let m: ChrootMachine;
    let before: Set<string>;
    beforeAll(() => {
      m = new ChrootMachine();
      // The harness copies the bundle in by hand; the package owns those paths here.
      // (The chroot has a merged /usr: the package's /lib/... is read as /usr/lib/....)
      m.run(["rm", "-rf", "/usr/bin/sprout", "/usr/lib/sprout"]);
      m.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-deb-1\n");
      // cloud-init-per as cloud-init's bootcmd example calls it: this chroot has no cloud-init, the package brings the helper.
      m.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nhostname: deb-host\nbootcmd:\n  - [cloud-init-per, once, marker, sh, -c, 'echo per-once >> /var/tmp/per']\nruncmd:\n  - echo first >> /var/tmp/runs\n");
      before = fileList(m);
    }, 1_200_000);
    afterAll(() => m?.cleanup());

    it("installs with dpkg and boots on Debian's nodejs 18", () => {
      m.write("/var/tmp/sprout.deb", readFileSync(deb));
      const i = m.run([...NONINTERACTIVE, "dpkg", "-i", "/var/tmp/sprout.deb"]);
      expect(i.code, i.stdout + i.stderr).toBe(0);
      expect(m.run(["node", "--version"]).stdout).toMatch(/^v18\./);
      expect(m.run(["sprout", "--version"]).stdout).toBe(`sprout ${VERSION}\n`);
      for (const f of ["/usr/lib/sprout/stage-gate", "/usr/lib/systemd/system/sprout.service", "/usr/lib/systemd/system-generators/sprout-generator", "/usr/share/man/man1/sprout-boot.1.gz", "/usr/share/bash-completion/completions/sprout"]) expect(m.exists(f), f).toBe(true);
      expect(m.run(["dpkg-query", "-W", "-f=${Conffiles}", "sprout"]).stdout).toMatch(/\/etc\/sprout\/config\.yaml [0-9a-f]{32}/);
      expect(m.exists("/etc/sprout/config.d/90-debconf.yaml")).toBe(false);
      // postinst made the first boot's code cache on a throwaway root, which it removed,
      // and touched nothing of the machine's own.
      expect(m.run(["sh", "-c", "ls /var/cache/sprout"]).stdout).toMatch(/^code-[0-9a-f]{16}-v18\.[0-9.]+-x64-boot\.bin$/m);
      expect(m.run(["sh", "-c", "ls -d /tmp/sprout-warm.* /etc/sprout-warm 2>/dev/null; true"]).stdout).toBe("");
      // Debian's Node 18 has no start-up snapshot of its own: postinst made one, and sprout starts from it.
      expect(m.run(["sh", "-c", "ls /var/cache/sprout"]).stdout).toMatch(/^startup\.blob\nstartup\.stamp$/m);
      const traced = m.run(["sh", "-x", "/usr/bin/sprout", "--version"]);
      expect(traced.stdout).toBe(`sprout ${VERSION}\n`);
      expect(traced.stderr).toMatch(/^\+ exec \/usr\/bin\/node --snapshot-blob \/var\/cache\/sprout\/startup\.blob -- --version$/m);
      expect(m.exists("/var/lib/sprout/instance")).toBe(false);
      expect(m.exists("/var/log/sprout.log")).toBe(false);
      const b = m.boot();
      expect(b.code, b.stderr).toBe(0);
      expect(m.read("/etc/hostname")).toBe("deb-host\n");
      expect(m.read("/var/tmp/runs")).toBe("first\n");
      expect(m.read("/var/tmp/per")).toBe("per-once\n");
      expect(m.exists("/usr/bin/cloud-init-per")).toBe(false);
      // cloud-init's command line, for scripts that call it, once linked by the image builder.
      m.after(["ln", "-s", "/usr/lib/sprout/cloud-init", "/usr/local/bin/cloud-init"]);
      const st = m.after(["cloud-init", "status", "--wait", "--long"]);
      expect(st.code, st.stderr).toBe(0);
      expect(st.stdout).toMatch(/^status: done$/m);
      expect(m.exists("/var/lib/cloud/instance/boot-finished")).toBe(true);
      m.run(["rm", "/usr/local/bin/cloud-init"]);
    });

    it("an upgrade keeps the admin's config and the instance state", () => {
      m.run(["sh", "-c", "echo 'datasource_list: [NoCloud, None]' >> /etc/sprout/config.yaml"]);
      m.write("/var/tmp/sprout-newer.deb", readFileSync(newer));
      const u = m.run([...NONINTERACTIVE, "dpkg", "-i", "/var/tmp/sprout-newer.deb"]);
      expect(u.code, u.stdout + u.stderr).toBe(0);
      expect(m.run(["dpkg-query", "-W", "-f=${Version}", "sprout"]).stdout).toBe(NEWER);
      expect(m.read("/etc/sprout/config.yaml")).toMatch(/^datasource_list: \[NoCloud, None\]$/m);
      expect(m.read("/var/lib/sprout/instance/user-data.txt")).toMatch(/deb-host/);
      // The old build's caches are gone and the new build's boot cache is there.
      const caches = m.run(["sh", "-c", "ls /var/cache/sprout"]).stdout.split("\n").filter(Boolean);
      expect(caches.filter((f) => f.endsWith("-boot.bin")), caches.join(" ")).toHaveLength(1);
      // Same instance after the upgrade: per-instance modules do not run again.
      const b = m.boot();
      expect(b.code, b.stderr).toBe(0);
      expect(m.read("/var/tmp/runs")).toBe("first\n");
      // bootcmd runs at every boot; cloud-init-per once keeps its command to the first.
      expect(m.read("/var/tmp/per")).toBe("per-once\n");
    });

    it("the start-up snapshot is used only when this node binary made it on this CPU, without NODE_OPTIONS, and only root can have written it", () => {
      const exec = (env = "") => {
        const r = m.run(["sh", "-c", `${env} sh -x /usr/bin/sprout --version 2>&1 >/dev/null | grep '^+ exec'; ${env} sprout --version`]);
        return r.stdout;
      };
      const fromSnapshot = `+ exec /usr/bin/node --snapshot-blob /var/cache/sprout/startup.blob -- --version\nsprout ${VERSION}\n`;
      const fromBundle = `+ exec /usr/bin/node /usr/lib/sprout/sprout.js --version\nsprout ${VERSION}\n`;
      expect(exec()).toBe(fromSnapshot);
      expect(exec("SPROUT_CODE_CACHE_DIR=off")).toBe(fromBundle);
      // Another node binary (an upgrade replaces the file): its stamp no longer fits.
      const stamp = m.read("/var/cache/sprout/startup.stamp");
      const [nodeId, cpu] = stamp.split("\n");
      m.write("/var/cache/sprout/startup.stamp", `1:2\n${cpu}\n`);
      expect(exec()).toBe(fromBundle);
      // Another CPU (an image made on one machine, booted on another): V8 would refuse the snapshot.
      m.write("/var/cache/sprout/startup.stamp", `${nodeId}\n: fpu vme\n`);
      expect(exec()).toBe(fromBundle);
      m.write("/var/cache/sprout/startup.stamp", stamp);
      expect(exec()).toBe(fromSnapshot);
      // V8 flags in NODE_OPTIONS make Node refuse it too.
      expect(exec("NODE_OPTIONS=--max-old-space-size=200")).toBe(fromBundle);
      // A blob a group could write is code someone else may have chosen.
      m.run(["chmod", "g+w", "/var/cache/sprout/startup.blob"]);
      expect(exec()).toBe(fromBundle);
      m.run(["chmod", "g-w", "/var/cache/sprout/startup.blob"]);
      expect(exec()).toBe(fromSnapshot);
      // The dpkg trigger on a Node.js upgrade runs warm-code-cache, which makes them anew.
      m.run(["rm", "/var/cache/sprout/startup.stamp"]);
      expect(exec()).toBe(fromBundle);
      expect(m.run(["/usr/lib/sprout/warm-code-cache"]).code).toBe(0);
      expect(exec()).toBe(fromSnapshot);
    });

    it("purge removes sprout's state, cache and logs, and nothing else", () => {
      expect(m.exists("/var/log/sprout.log")).toBe(true);
      expect(m.exists("/var/log/user_data.log")).toBe(true);
      const p = m.run([...NONINTERACTIVE, "apt-get", "purge", "-y", "sprout"]);
      expect(p.code, p.stdout + p.stderr).toBe(0);
      const after = fileList(m);
      for (const gone of ["/var/lib/sprout", "/var/lib/cloud/instance", "/var/log/sprout.log", "/var/log/user_data.log", "/etc/sprout", "/usr/lib/sprout", "/usr/bin/sprout"]) expect(after.has(gone), gone).toBe(false);
      // What the boot made for the machine stays, and so does everything that was there before.
      expect(m.read("/etc/hostname")).toBe("deb-host\n");
      expect(m.exists("/var/lib/cloud/seed/nocloud/meta-data")).toBe(true);
      expect([...before].filter((f) => !after.has(f))).toEqual([]);
      // Files the boot created that are not sprout's own survive the purge.
      expect(after.has("/var/tmp/runs")).toBe(true);
    });
  });

  describe("installer preseed (debconf)", () => {
    let m: ChrootMachine;
    let server: ReturnType<typeof spawn> | null = null;
    afterAll(() => {
      server?.kill();
      m?.cleanup();
    });

    it("preseeded answers become config.d/90-debconf.yaml and the machine boots from the seed URL", async () => {
      // A NoCloud seed over http on 127.0.0.1 (the chroot shares this network namespace).
      const seed = mkdtempSync(join(tmpdir(), "sprout-preseed-seed-"));
      writeFileSync(join(seed, "meta-data"), "instance-id: iid-preseed\nlocal-hostname: preseeded\n");
      writeFileSync(join(seed, "user-data"), "#cloud-config\nwrite_files:\n  - path: /etc/from-seed-url\n    content: served\n");
      server = spawn(process.execPath, ["-e", `const fs=require("fs"),p=require("path");require("http").createServer((q,r)=>{const f=p.join(${JSON.stringify(seed)},p.basename(q.url));fs.readFile(f,(e,d)=>{r.statusCode=e?404:200;r.end(e?"":d)})}).listen(0,"127.0.0.1",function(){console.log(this.address().port)})`], { stdio: ["ignore", "pipe", "inherit"] });
      const port = await new Promise<number>((res) => server!.stdout!.once("data", (d) => res(Number(String(d).trim()))));
      m = new ChrootMachine();
      m.run(["rm", "-rf", "/usr/bin/sprout", "/usr/lib/sprout"]);
      m.write("/var/tmp/sprout.deb", readFileSync(deb));
      m.write(
        "/var/tmp/preseed.cfg",
        `sprout sprout/seedfrom string http://127.0.0.1:${port}/seeds/web01/\nsprout sprout/datasources multiselect NoCloud, None\nsprout sprout/syslog_remote string udp://127.0.0.1:5514\n`,
      );
      expect(m.run(["debconf-set-selections", "/var/tmp/preseed.cfg"]).code).toBe(0);
      const i = m.run([...NONINTERACTIVE, "dpkg", "-i", "/var/tmp/sprout.deb"]);
      expect(i.code, i.stdout + i.stderr).toBe(0);
      expect(m.read("/etc/sprout/config.d/90-debconf.yaml")).toBe(
        [
          "# Written by the sprout package from debconf (the installer preseed).",
          "# Change it with: dpkg-reconfigure sprout  (edits here are overwritten).",
          "datasource_list: [NoCloud, None]",
          "datasource:",
          "  NoCloud:",
          `    seedfrom: "http://127.0.0.1:${port}/seeds/web01/"`,
          'syslog_remote: "udp://127.0.0.1:5514"',
          "",
        ].join("\n"),
      );
      const b = m.run(["sprout", "boot"]);
      rmSync(seed, { recursive: true, force: true });
      expect(b.code, b.stdout + b.stderr).toBe(0);
      expect(m.exists("/etc/from-seed-url"), b.stdout + b.stderr + m.read("/run/sprout/status.json")).toBe(true);
      expect(m.read("/etc/from-seed-url")).toBe("served");
      expect(JSON.parse(m.read("/run/sprout/instance-data.json")).v1.instance_id).toBe("iid-preseed");
    });

    it("a preseeded seed URL that is not a URL is reported and dropped; the install goes on", () => {
      m.run([...NONINTERACTIVE, "dpkg", "--purge", "sprout"]);
      m.write("/var/tmp/preseed-bad.cfg", "sprout sprout/seedfrom string not a url\nsprout sprout/datasources multiselect NoCloud, None\n");
      expect(m.run(["debconf-set-selections", "/var/tmp/preseed-bad.cfg"]).code).toBe(0);
      const i = m.run([...NONINTERACTIVE, "dpkg", "-i", "/var/tmp/sprout.deb"]);
      expect(i.code, i.stdout + i.stderr).toBe(0);
      expect(i.stderr).toMatch(/the preseeded seed URL "not a url" is not an http:\/\/, https:\/\/ or file:\/\/ URL; ignored/);
      const cfg = m.read("/etc/sprout/config.d/90-debconf.yaml");
      expect(cfg).toMatch(/^datasource_list: \[NoCloud, None\]$/m);
      expect(cfg).not.toMatch(/seedfrom/);
    });
  });

  it("without nodejs, sprout fails with a message naming the package", () => {
    const m = new ChrootMachine();
    try {
      m.run(["rm", "-rf", "/usr/bin/sprout", "/usr/lib/sprout"]);
      m.write("/var/tmp/sprout.deb", readFileSync(deb));
      expect(m.run([...NONINTERACTIVE, "dpkg", "-i", "/var/tmp/sprout.deb"]).code).toBe(0);
      m.run(["rm", "-f", "/usr/bin/node", "/usr/bin/nodejs"]);
      const b = m.run(["sprout", "boot", "--gates"]);
      expect(b.code).toBe(127);
      expect(b.stderr).toMatch(/Node\.js is not installed .* Install the Debian package nodejs: apt install nodejs/);
    } finally {
      m.cleanup();
    }
  });
});
