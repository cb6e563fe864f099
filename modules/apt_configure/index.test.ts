import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Host, RunResult } from "../../agent/host/types";
import { moduleContext, recordingHost } from "../../test/helpers/module-context";
import { asRunningSystem, tempRoot, type TempRoot } from "../../test/helpers/target";
import { aptConfigure, CONF_FILE, PROXY_FILE } from ".";

// apt-get, debconf-set-selections, dpkg and getent never run on the test machine:
// the Runner records them (and answers like the real ones where a test needs it).
const FIX = join(__dirname, "fixtures");
const REPO_ASC = readFileSync(join(FIX, "repo-key.asc"), "utf8");
const REPO_GPG = readFileSync(join(FIX, "repo-key.gpg"));
const OTHER_ASC = readFileSync(join(FIX, "other-key.asc"), "utf8");
const REPO_FPR = "9E53B191DBCA9C76902472304369E73EE2F47536";
const BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n';
const IMAGE_LIST = "deb http://deb.debian.org/debian bookworm main\n";

let root: TempRoot;
let server: Server | null = null;
afterEach(async () => {
  root?.cleanup();
  if (server) await new Promise((r) => server!.close(r));
  server = null;
});

function machine(extra: Record<string, string> = {}): TempRoot {
  root = tempRoot({ "etc/os-release": BOOKWORM, "etc/apt/sources.list": IMAGE_LIST, ...extra });
  return root;
}
const file = (p: string) => readFileSync(join(root.dir, p), "utf8");
const exists = (p: string) => {
  try {
    statSync(join(root.dir, p));
    return true;
  } catch {
    return false;
  }
};
const stdout = (text: string): Partial<RunResult> => ({ stdout: Buffer.from(text) });

async function run(cfg: Record<string, unknown>, answer?: (argv: string[]) => Partial<RunResult>, host?: (rec: Host) => Host) {
  const rec = recordingHost(root.host(), { run: answer });
  const h = host ? host(rec.host) : rec.host;
  const res = await aptConfigure.run(cfg, moduleContext(root, { host: h, stage: "config" }));
  return { res, runs: rec.runs.map((r) => r.argv), rec };
}
const chrooted = (...argv: string[]) => ["chroot", root.dir, ...argv];
const APT_UPDATE = ["apt-get", "--option=Dpkg::Options::=--force-confold", "--option=Dpkg::options::=--force-unsafe-io", "--assume-yes", "--quiet", "update"];

describe("apt_configure", () => {
  it("runs in cloud-init's config stage, once per instance, before packages are installed", async () => {
    const { MODULES } = await import("..");
    const ids = MODULES.map((m) => m.id);
    expect(aptConfigure.stage).toBe("config");
    expect(aptConfigure.frequency).toBe("per-instance");
    expect(ids.indexOf("apt_configure")).toBeLessThan(ids.indexOf("package_update_upgrade_install"));
  });

  it("without apt keys: no command runs and nothing is written", async () => {
    machine();
    const { res, runs } = await run({ packages: ["jq"] });
    expect(res.status).toBe("skipped");
    expect(runs).toEqual([]);
  });

  it("proxies: cloud-init's file name and lines, in cloud-init's order; apt.conf to 94cloud-init-config", async () => {
    machine();
    const { res, runs } = await run({
      apt: { proxy: "http://proxy.example:3128/", https_proxy: "http://proxy.example:3129/", ftp_proxy: "ftp://proxy.example:2121/", conf: 'APT::Install-Recommends "false";\n' },
    });
    expect(res.errors).toEqual([]);
    expect(file(PROXY_FILE)).toBe('Acquire::http::Proxy "http://proxy.example:3128/";\nAcquire::ftp::Proxy "ftp://proxy.example:2121/";\nAcquire::https::Proxy "http://proxy.example:3129/";\n');
    expect(statSync(join(root.dir, PROXY_FILE)).mode & 0o777).toBe(0o644);
    expect(file(CONF_FILE)).toBe('APT::Install-Recommends "false";\n');
    expect(file("etc/apt/sources.list")).toBe(IMAGE_LIST);
    expect(runs).toEqual([]); // no source added: no apt-get update
  });

  it("an earlier instance's proxy and apt.conf files go when this one configures none (as cloud-init)", async () => {
    machine({ [PROXY_FILE]: 'Acquire::http::Proxy "http://old:3128/";\n', [CONF_FILE]: "old\n" });
    const { res } = await run({});
    expect(res.status).toBe("changed");
    expect(exists(PROXY_FILE) || exists(CONF_FILE)).toBe(false);
  });

  it("the deprecated top-level keys still work, each to its own name; a conflict with apt: is reported and apt: wins", async () => {
    machine();
    const { res } = await run({ apt_proxy: "http://a:1/", apt_https_proxy: "http://b:2/", apt_ftp_proxy: "ftp://c:3/" });
    expect(file(PROXY_FILE)).toBe('Acquire::http::Proxy "http://a:1/";\nAcquire::ftp::Proxy "ftp://c:3/";\nAcquire::https::Proxy "http://b:2/";\n');
    expect(res.detail).toMatch(/deprecated keys used: apt_proxy, apt_ftp_proxy, apt_https_proxy/);
    const both = await run({ apt: { proxy: "http://new:1/" }, apt_proxy: "http://old:1/" });
    expect(file(PROXY_FILE)).toBe('Acquire::http::Proxy "http://new:1/";\n');
    expect(both.res.errors).toEqual(["apt.proxy and the deprecated top-level key for it disagree; sprout used apt.proxy (remove the old key)"]);
  });

  it("a proxy that would break apt's configuration is refused, the others are written", async () => {
    machine();
    const { res } = await run({ apt: { http_proxy: 'http://x/";\nAPT::Get::AllowUnauthenticated "true', https_proxy: "http://ok:1/" } });
    expect(res.errors).toEqual(['apt.http_proxy must be one proxy URL (e.g. http://proxy.example.com:3128/) without quotes, ";" or line breaks; it was not written']);
    expect(file(PROXY_FILE)).toBe('Acquire::https::Proxy "http://ok:1/";\n');
  });

  it("a third-party repository with an inline key: the key dearmored where cloud-init puts it, the source, then apt-get update (chrooted)", async () => {
    machine();
    const { res, runs } = await run({
      apt: {
        sources: {
          "example-repo": { source: "deb https://repo.example/debian $RELEASE main", key: REPO_ASC },
          signed: { source: "deb [signed-by=$KEY_FILE] https://signed.example/debian $RELEASE main", key: REPO_ASC, filename: "signed-by.list" },
        },
      },
    });
    expect(res.errors).toEqual([]);
    expect(readFileSync(join(root.dir, "etc/apt/trusted.gpg.d/example-repo.gpg")).equals(REPO_GPG)).toBe(true);
    expect(file("etc/apt/sources.list.d/example-repo.list")).toBe("deb https://repo.example/debian bookworm main\n");
    // $KEY_FILE: the key goes apart, so apt trusts it only for this source.
    expect(readFileSync(join(root.dir, "etc/apt/cloud-init.gpg.d/signed-by.gpg")).equals(REPO_GPG)).toBe(true);
    expect(file("etc/apt/sources.list.d/signed-by.list")).toBe("deb [signed-by=/etc/apt/cloud-init.gpg.d/signed-by.gpg] https://signed.example/debian bookworm main\n");
    expect(exists("etc/apt/trusted.gpg.d/signed-by.gpg")).toBe(false);
    expect(runs).toEqual([chrooted(...APT_UPDATE)]);
    expect(file("etc/apt/sources.list")).toBe(IMAGE_LIST);
  });

  it("append (the default) adds to the file once; append: false replaces it; filename may be absolute", async () => {
    machine({ "etc/apt/sources.list.d/tools.list": "deb http://old.example/debian bookworm main\n" });
    await run({ apt: { sources: { tools: { source: "deb http://new.example/debian $RELEASE main" } } } });
    await run({ apt: { sources: { tools: { source: "deb http://new.example/debian $RELEASE main" } } } });
    expect(file("etc/apt/sources.list.d/tools.list")).toBe("deb http://old.example/debian bookworm main\ndeb http://new.example/debian bookworm main\n");
    await run({ apt: { sources: { tools: { source: "deb http://only.example/debian $RELEASE main", append: false }, abs: { source: "deb http://abs.example/ ./", filename: "/etc/apt/sources.list.d/other" } } } });
    expect(file("etc/apt/sources.list.d/tools.list")).toBe("deb http://only.example/debian bookworm main\n");
    expect(file("etc/apt/sources.list.d/other.list")).toBe("deb http://abs.example/ ./\n");
  });

  it("bad entries are reported by name with what to do, nothing of them is written, the others are applied", async () => {
    machine();
    const cut = REPO_ASC.split("\n").filter((_, i) => i !== 3).join("\n");
    const { res, runs } = await run({
      apt: {
        sources: {
          cutkey: { source: "deb https://cut.example/debian $RELEASE main", key: cut },
          private: { source: "deb https://p.example/debian $RELEASE main", key: "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQWGBF\n-----END PGP PRIVATE KEY BLOCK-----\n" },
          typo: { source: "deb $MIRORR $RELEASE main" },
          notdeb: { source: "https://repo.example/debian bookworm main" },
          deb822: { source: "Types: deb\nURIs: https://repo.example/debian\nSuites: bookworm\nComponents: main" },
          nokey: { source: "deb [signed-by=$KEY_FILE] https://nokey.example/debian $RELEASE main" },
          notamap: "deb https://x.example/debian bookworm main",
          escapes: { source: "deb https://e.example/debian $RELEASE main", filename: "/../../../../../../../../tmp/escape" },
          good: { source: "deb https://good.example/debian $RELEASE main", key: OTHER_ASC },
        },
      },
    });
    expect(res.errors).toEqual([
      expect.stringMatching(/^apt\.sources\.cutkey: the key's (checksum|base64).*; the entry was skipped$/),
      expect.stringMatching(/^apt\.sources\.private: this is a PRIVATE key block: apt needs the repository's public key .*; the entry was skipped$/),
      expect.stringMatching(/^apt\.sources\.typo\.source: the template uses \$MIRORR, but only \$RELEASE, \$MIRROR, \$PRIMARY, \$SECURITY are defined; the entry was skipped$/),
      expect.stringMatching(/^apt\.sources\.notdeb\.source: "https:\/\/repo.example\/debian bookworm main" is not a deb line: write "deb \[options\] URI SUITE COMPONENT\.\.\."/),
      expect.stringMatching(/^apt\.sources\.deb822\.source: "Types: deb" is deb822/),
      "apt.sources.nokey.source uses $KEY_FILE but the entry has no key: or keyid:; add the repository's key; the entry was skipped",
      'apt.sources.notamap must be a mapping (source: "deb ...", key: ..., filename: ...); it was skipped',
      expect.stringMatching(/^apt\.sources\.escapes: could not write \/\.\.\/.*\/tmp\/escape\.list \(.*\); check filename:$/),
    ]);
    for (const n of ["cutkey", "private", "typo", "notdeb", "deb822", "nokey", "notamap"]) {
      expect(exists(`etc/apt/sources.list.d/${n}.list`)).toBe(false);
      expect(exists(`etc/apt/trusted.gpg.d/${n}.gpg`)).toBe(false);
    }
    expect(file("etc/apt/sources.list.d/good.list")).toBe("deb https://good.example/debian bookworm main\n");
    expect(exists("etc/apt/trusted.gpg.d/good.gpg")).toBe(true);
    expect(runs).toEqual([chrooted(...APT_UPDATE)]);
  });

  it("a failing apt-get update is reported; the sources stay in place", async () => {
    machine();
    const { res } = await run({ apt: { sources: { r: { source: "deb https://r.example/debian $RELEASE main" } } } }, (argv) =>
      argv.includes("update") ? { code: 100, stderr: Buffer.from("E: Failed to fetch https://r.example/debian/dists/bookworm/InRelease  Could not resolve 'r.example'\n") } : {},
    );
    expect(res.errors).toEqual([expect.stringMatching(/^apt-get update failed: E: Failed to fetch .*Could not resolve 'r.example' \(the new sources are in place; packages from them may not install\)$/)]);
    expect(file("etc/apt/sources.list.d/r.list")).toBe("deb https://r.example/debian bookworm main\n");
  });

  it("primary and security mirrors rewrite sources.list from Debian's template when preserve_sources_list is false", async () => {
    machine();
    const { res, runs } = await run({
      apt: { preserve_sources_list: false, primary: [{ arches: ["default"], uri: "http://mirror.example/debian" }], security: [{ arches: ["default"], uri: "http://mirror.example/debian-security" }], disable_suites: ["backports"] },
    });
    expect(res.errors).toEqual([]);
    const list = file("etc/apt/sources.list");
    expect(list.startsWith("## Note, this file is written by cloud-init on first boot of an instance\n")).toBe(true);
    expect(list.split("\n").filter((l) => /^(# suite disabled by cloud-init: )?deb /.test(l))).toEqual([
      "deb http://mirror.example/debian bookworm main",
      "deb http://mirror.example/debian-security bookworm-security main",
      "deb http://mirror.example/debian bookworm-updates main",
      "# suite disabled by cloud-init: deb http://mirror.example/debian bookworm-backports main",
    ]);
    expect(runs).toEqual([]); // "default" alone: the architecture is not needed
  });

  it("only primary given: security is the primary mirror too (cloud-init's rule); $MIRROR and $SECURITY in sources follow", async () => {
    machine();
    await run({ apt: { preserve_sources_list: false, primary: [{ arches: ["default"], uri: "http://m.example/debian" }], sources: { s: { source: "deb $SECURITY $RELEASE-security main" } } } });
    expect(file("etc/apt/sources.list")).toContain("deb http://m.example/debian bookworm-security main\n");
    expect(file("etc/apt/sources.list.d/s.list")).toBe("deb http://m.example/debian bookworm-security main\n");
  });

  it("an image's own /etc/cloud/templates/sources.list.debian.tmpl is used instead of the built-in one", async () => {
    machine({ "etc/cloud/templates/sources.list.debian.tmpl": "## template:jinja\n# ours\ndeb {{mirror}} {{codename}} main non-free-firmware\n" });
    await run({ apt: { preserve_sources_list: false, primary: [{ arches: ["default"], uri: "http://m.example/debian" }] } });
    expect(file("etc/apt/sources.list")).toBe("# ours\ndeb http://m.example/debian bookworm main non-free-firmware\n");
  });

  it("on Debian sources.list is kept by default (Debian's cloud-init config), and the detail says how to change it", async () => {
    machine();
    const { res } = await run({ apt: { primary: [{ arches: ["default"], uri: "http://m.example/debian" }] } });
    expect(file("etc/apt/sources.list")).toBe(IMAGE_LIST);
    expect(res.detail).toMatch(/sources\.list kept: preserve_sources_list is true by default on Debian; set apt\.preserve_sources_list: false/);
  });

  it("mirrors per architecture (dpkg --print-architecture in the target) and search: the first candidate whose host resolves", async () => {
    machine();
    const answer = (argv: string[]) => {
      if (argv.includes("--print-architecture")) return stdout("arm64\n");
      if (argv.includes("ahosts")) return argv.at(-1) === "near.example" ? stdout("10.0.0.5 STREAM near.example\n") : { code: 2 };
      return {};
    };
    const { res, runs } = await run(
      {
        apt: {
          preserve_sources_list: false,
          primary: [
            { arches: ["amd64", "default"], uri: "http://amd64.example/debian" },
            { arches: ["arm64"], search: ["http://far.example/debian", "http://near.example/debian"] },
          ],
          sources_list: "deb $MIRROR $RELEASE main\ndeb $SECURITY $RELEASE-security main\n",
        },
      },
      answer,
    );
    expect(res.errors).toEqual([]);
    expect(file("etc/apt/sources.list")).toBe("deb http://near.example/debian bookworm main\ndeb http://near.example/debian bookworm-security main\n");
    expect(runs).toEqual([chrooted("dpkg", "--print-architecture"), chrooted("getent", "ahosts", "far.example"), chrooted("getent", "ahosts", "near.example")]);
  });

  it("a mirror that is not a URL: reported, sources.list untouched, sources that need the mirror skipped, the rest applied", async () => {
    machine();
    const { res } = await run({
      apt: {
        preserve_sources_list: false,
        primary: [{ arches: ["default"], uri: "mirror.example/debian" }],
        proxy: "http://p:1/",
        sources: { usesmirror: { source: "deb $MIRROR $RELEASE contrib" }, own: { source: "deb http://own.example/debian $RELEASE main" } },
      },
    });
    expect(res.errors).toEqual([
      'apt.primary[0].uri "mirror.example/debian" is not a mirror URL: write e.g. "http://mirror.example.com/debian"; sources.list was not written',
      "apt.sources.usesmirror.source uses the mirror, which is not usable (see the apt.primary/apt.security error); the entry was skipped",
    ]);
    expect(file("etc/apt/sources.list")).toBe(IMAGE_LIST);
    expect(exists(PROXY_FILE)).toBe(true);
    expect(exists("etc/apt/sources.list.d/usesmirror.list")).toBe(false);
    expect(file("etc/apt/sources.list.d/own.list")).toBe("deb http://own.example/debian bookworm main\n");
  });

  it("a sources_list template with an unknown variable or a line that is not a deb line is not written", async () => {
    machine();
    const bad = await run({ apt: { preserve_sources_list: false, sources_list: "deb $MIRROR $CODENAME main\n" } });
    expect(bad.res.errors).toEqual([expect.stringMatching(/^apt\.sources_list: the template does not render: line 1: the template uses \$CODENAME, but only .* are defined; sources\.list was not written$/)]);
    const notdeb = await run({ apt: { preserve_sources_list: false, sources_list: "$MIRROR $RELEASE main\n" } });
    expect(notdeb.res.errors).toEqual([expect.stringMatching(/is not a deb line.*; sources\.list was not written$/)]);
    expect(file("etc/apt/sources.list")).toBe(IMAGE_LIST);
  });

  it("debconf_selections go to debconf-set-selections on stdin, in the order of their names; a malformed set is skipped", async () => {
    machine();
    const rec = recordingHost(root.host());
    const res = await aptConfigure.run(
      { apt: { debconf_selections: { zz: "tzdata tzdata/Areas select Europe", aa: "# comment\nkeyboard-configuration keyboard-configuration/layoutcode string de\n", bad: "just-a-word", long: "pkg pkg/q string one \\\n  two" } } },
      moduleContext(root, { host: rec.host }),
    );
    expect(rec.runs.map((r) => r.argv)).toEqual([chrooted("debconf-set-selections")]);
    expect(rec.runs[0]!.opts.input).toBe("# comment\nkeyboard-configuration keyboard-configuration/layoutcode string de\n\npkg pkg/q string one \\\n  two\ntzdata tzdata/Areas select Europe\n");
    expect(res.errors).toEqual(['apt.debconf_selections.bad: "just-a-word" is not "package question type value"; the set was skipped']);
  });

  it("with --root / the commands run directly, not through chroot", async () => {
    machine();
    const rec = recordingHost(root.host());
    const systemRoot: Host = { ...rec.host, root: asRunningSystem(rec.host.root) };
    await aptConfigure.run({ apt: { debconf_selections: { a: "p p/q string v" } } }, moduleContext(root, { host: systemRoot }));
    expect(rec.runs.map((r) => r.argv)).toEqual([["debconf-set-selections"]]);
  });

  it("the oldest formats: apt_sources as a list (one file for entries without a filename), apt_mirror as the primary mirror", async () => {
    machine();
    const { res } = await run({
      apt_sources: [{ source: "deb http://a.example/debian $RELEASE main" }, { source: "deb http://b.example/debian $RELEASE main" }, { source: "deb http://c.example/debian $RELEASE main", filename: "c.list" }],
      apt_mirror: "http://old-style.example/debian",
      apt_preserve_sources_list: false,
    });
    expect(res.errors).toEqual([]);
    expect(file("etc/apt/sources.list.d/cloud_config_sources.list")).toBe("deb http://a.example/debian bookworm main\ndeb http://b.example/debian bookworm main\n");
    expect(file("etc/apt/sources.list.d/c.list")).toBe("deb http://c.example/debian bookworm main\n");
    expect(file("etc/apt/sources.list")).toContain("deb http://old-style.example/debian bookworm main\n");
  });

  it("generate_mirrorlists writes apt-transport-mirror lists instead of sources.list; a key alone (no source) is installed", async () => {
    machine();
    const { res } = await run({ apt: { generate_mirrorlists: true, primary: [{ arches: ["default"], uri: "http://m.example/debian" }], sources: { keyonly: { key: REPO_ASC } } } });
    expect(res.errors).toEqual([]);
    expect(file("etc/apt/mirrors/debian.list")).toBe("http://m.example/debian\n");
    expect(file("etc/apt/mirrors/debian-security.list")).toBe("http://m.example/debian\n");
    expect(file("etc/apt/sources.list")).toBe(IMAGE_LIST);
    expect(readFileSync(join(root.dir, "etc/apt/trusted.gpg.d/keyonly.gpg")).equals(REPO_GPG)).toBe(true);
  });

  it("ppa: sources go to add-apt-repository (Ubuntu's); where it is missing, the error says what to write instead", async () => {
    machine();
    const { res, runs } = await run({ apt: { sources: { tools: { source: "ppa:example/tools" } } } }, (argv) => (argv.includes("add-apt-repository") ? { code: null, spawnError: "spawn add-apt-repository ENOENT" } : {}));
    expect(runs).toEqual([chrooted("add-apt-repository", "--no-update", "ppa:example/tools")]);
    expect(res.errors).toEqual(["apt.sources.tools: add-apt-repository ppa:example/tools failed: spawn add-apt-repository ENOENT (PPAs are Ubuntu's, from software-properties-common; on Debian write a deb line)"]);
    expect(exists("etc/apt/sources.list.d/tools.list")).toBe(false);
  });

  it("apt: that is not a mapping, and sources that are not a mapping, are reported", async () => {
    machine();
    expect((await run({ apt: ["proxy"] })).res.errors).toEqual(["apt must be a mapping (proxy:, sources:, primary:, ...), not a list; nothing under it was applied"]);
    expect((await run({ apt: { sources: ["deb http://x/ bookworm main"] } })).res.errors).toEqual(["apt.sources must be a mapping of names to sources (name: {source: deb ..., key: ...}); none were added"]);
  });

  it("not Debian or Ubuntu: skipped, said why", async () => {
    root = tempRoot({ "etc/os-release": "ID=fedora\n" });
    const { res, runs } = await run({ apt: { proxy: "http://p:1/" } });
    expect(res.status).toBe("skipped");
    expect(res.detail).toMatch(/apt: is for Debian and Ubuntu; this machine is fedora/);
    expect(runs).toEqual([]);
  });

  describe("keyid from a keyserver (a stand-in on 127.0.0.1)", () => {
    async function keyserver(answers: Record<string, string | number>): Promise<{ url: string; asked: string[] }> {
      const asked: string[] = [];
      server = createServer((req, res) => {
        const u = new URL(req.url ?? "/", "http://x");
        asked.push(`${u.pathname}?${u.searchParams.toString()}`);
        const a = answers[u.searchParams.get("search") ?? ""];
        if (typeof a === "string") res.writeHead(200, { "content-type": "application/pgp-keys" }).end(a);
        else res.writeHead(a ?? 404).end("No results found");
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      return { url: `hkp://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
    }
    const realFetch = (base: Host) => (h: Host) => ({ ...h, fetch: base.fetch });

    it("fetches the key over HKP, keeps only the key asked for, and installs it", async () => {
      machine();
      const ks = await keyserver({ [`0x${REPO_FPR}`]: `${OTHER_ASC}\n${REPO_ASC}` });
      const { res } = await run({ apt: { sources: { ks: { source: "deb https://ks.example/debian $RELEASE main", keyid: REPO_FPR.replace(/(.{4})/g, "$1 ").trim(), keyserver: ks.url } } } }, undefined, realFetch(root.host()));
      expect(res.errors).toEqual([]);
      expect(ks.asked).toEqual([`/pks/lookup?op=get&options=mr&search=0x${REPO_FPR}`]);
      expect(readFileSync(join(root.dir, "etc/apt/trusted.gpg.d/ks.gpg")).equals(REPO_GPG)).toBe(true);
    });

    it("a key the server does not have, or a different key, is reported and the entry skipped", async () => {
      machine();
      const ks = await keyserver({ "0x4369E73EE2F47536": OTHER_ASC });
      const { res } = await run(
        { apt: { sources: { missing: { source: "deb https://a.example/debian $RELEASE main", keyid: "0BADC0DE0BADC0DE", keyserver: ks.url }, swapped: { source: "deb https://b.example/debian $RELEASE main", keyid: "4369E73EE2F47536", keyserver: ks.url }, badid: { keyid: "keyid" } } } },
        undefined,
        realFetch(root.host()),
      );
      expect(res.errors).toEqual([
        `apt.sources.missing: keyserver ${ks.url} has no key 0BADC0DE0BADC0DE: check the keyid, or give the key itself with key:; the entry was skipped`,
        `apt.sources.swapped: keyserver ${ks.url} answered with a key that is not 4369E73EE2F47536; it was not installed; the entry was skipped`,
        'apt.sources.badid: keyid "keyid" is not a key id: give 8, 16 or 40 hex digits (the fingerprint: gpg --fingerprint); the entry was skipped',
      ]);
      expect(exists("etc/apt/sources.list.d/missing.list") || exists("etc/apt/sources.list.d/swapped.list")).toBe(false);
    });

    it("a keyserver that cannot be reached is a bounded failure with what to do", async () => {
      machine();
      const ks = await keyserver({});
      const port = (server!.address() as AddressInfo).port;
      await new Promise((r) => server!.close(r));
      server = null;
      const { res } = await run({ apt: { sources: { down: { source: "deb https://a.example/debian $RELEASE main", keyid: REPO_FPR, keyserver: `http://127.0.0.1:${port}` } } } }, undefined, realFetch(root.host()));
      expect(ks.asked).toEqual([]);
      expect(res.errors).toEqual([expect.stringMatching(/^apt\.sources\.down: could not fetch key 9E53B191DBCA9C76902472304369E73EE2F47536 from keyserver http:\/\/127\.0\.0\.1:\d+ \(.*\); the machine needs to reach it, or give the key itself with key:; the entry was skipped$/)]);
    });
  });
});
