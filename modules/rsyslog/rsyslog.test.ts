import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { parseConfigs, parseRemote, remoteLines } from "./parse";
import { rsyslog } from ".";

describe("parseRemote", () => {
  it("reads selector, protocol, host and port the way cloud-init does", () => {
    expect(parseRemote("a", "10.0.0.5")).toEqual({ name: "a", selector: "*.*", proto: "@", host: "10.0.0.5", port: null });
    expect(parseRemote("b", "kern.* @@logs.example.com:1514 # central")).toEqual({ name: "b", selector: "kern.*", proto: "@@", host: "logs.example.com", port: 1514 });
    expect(parseRemote("c", "*.info;mail.none @[2001:db8::1]:514")).toMatchObject({ host: "2001:db8::1", port: 514, proto: "@" });
  });
  it("writes the rsyslog line with IPv6 back in brackets", () => {
    expect(remoteLines(parseRemote("v6", "@@[2001:db8::1]:514") as never)).toBe("# v6\n*.* @@[2001:db8::1]:514\n");
  });
  it("refuses a bad port, an unbracketed IPv6 address and stray words, saying how to write them", () => {
    expect(parseRemote("p", "@10.0.0.5:70000")).toEqual({ error: 'remotes.p ("@10.0.0.5:70000"): port "70000" is not a number between 1 and 65535' });
    expect(parseRemote("p", "@10.0.0.5:0")).toHaveProperty("error");
    expect(parseRemote("p", "@10.0.0.5:syslog")).toEqual({ error: expect.stringMatching(/port "syslog" is not a number/) });
    expect(parseRemote("v6", "@@2001:db8::1:514")).toEqual({ error: expect.stringMatching(/2001:db8::1:514 looks like an IPv6 address without brackets; put the address in brackets, e.g. @\[2001:db8::1\]:514/) });
    expect(parseRemote("w", "*.* @a @b")).toEqual({ error: expect.stringMatching(/write it as "\[selector\] \[@\|@@\]host\[:port\]"/) });
  });
  it("configs: strings to the default file, {filename, content} to their own", () => {
    expect(parseConfigs(["a", { filename: "x.conf", content: "b" }, { content: "c" }, 5], "20.conf")).toEqual({
      entries: [{ filename: "20.conf", content: "a" }, { filename: "x.conf", content: "b" }, { filename: "20.conf", content: "c" }],
      errors: ["configs[3] must be a string or {filename, content}"],
    });
  });
});

describe("the rsyslog module", () => {
  const roots: TempRoot[] = [];
  afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));
  const machine = () => {
    const r = tempRoot();
    roots.push(r);
    return r;
  };
  const run = (r: TempRoot, conf: unknown) => rsyslog.run({ rsyslog: conf }, moduleContext(r.host(), "network"));
  const read = (r: TempRoot, p: string) => readFileSync(join(r.dir, p), "utf8");

  it("writes configs and remotes, restarts only when a file changed", async () => {
    const r = machine();
    const reload = ["sh", "-c", `echo restart >> ${r.dir}/restarts`];
    const conf = { configs: ["*.err /var/log/errors.log", { filename: "30-app.conf", content: "local3.* /var/log/app.log" }], remotes: { central: "*.* @@10.0.0.5:514", v6: "@[2001:db8::1]" }, service_reload_command: reload };
    const first = await run(r, conf);
    expect(first).toMatchObject({ status: "changed", errors: [] });
    expect(read(r, "/etc/rsyslog.d/20-cloud-config.conf")).toBe("*.err /var/log/errors.log\n# begin remotes\n# central\n*.* @@10.0.0.5:514\n# v6\n*.* @[2001:db8::1]\n# end remotes\n");
    expect(read(r, "/etc/rsyslog.d/30-app.conf")).toBe("local3.* /var/log/app.log\n");
    expect(read(r, "/restarts")).toBe("restart\n");
    expect(await run(r, conf)).toMatchObject({ status: "unchanged" });
    expect(read(r, "/restarts")).toBe("restart\n");
    await run(r, { ...conf, remotes: { central: "*.* @@10.0.0.6:514" } });
    expect(read(r, "/restarts")).toBe("restart\nrestart\n");
  });

  it("auto does not restart anything when the target is not the running system", async () => {
    const r = machine();
    const res = await run(r, { remotes: { a: "@127.0.0.1:514" } });
    expect(res.status).toBe("changed");
    expect(res.detail).toMatch(/rsyslog not restarted \(no running systemd here\)/);
  });

  it("the old list form and the legacy rsyslog_dir/rsyslog_filename keys", async () => {
    const r = machine();
    await rsyslog.run({ rsyslog: ["*.* @10.0.0.1"], rsyslog_dir: "/etc/rs", rsyslog_filename: "x.conf" }, moduleContext(r.host(), "network"));
    expect(read(r, "/etc/rs/x.conf")).toBe("*.* @10.0.0.1\n");
  });

  it("a bad remote: clear errors, the remotes file keeps its old content, other files are still written", async () => {
    const r = machine();
    r.write("/etc/rsyslog.d/20-cloud-config.conf", "# written by hand before\n*.* @@10.9.9.9:514\n");
    const res = await run(r, { configs: [{ filename: "30-app.conf", content: "local3.* /var/log/app.log" }], remotes: { port: "@10.0.0.5:99999", v6: "@@2001:db8::1:514", ok: "@10.0.0.7" }, service_reload_command: ["true"] });
    expect(res.status).toBe("changed");
    expect(res.errors).toEqual([
      expect.stringMatching(/^remotes.port .*port "99999" is not a number between 1 and 65535$/),
      expect.stringMatching(/^remotes.v6 .*without brackets; put the address in brackets/),
      "/etc/rsyslog.d/20-cloud-config.conf left as it was because of the remotes error above; fix the entry and boot again (or run `sprout clean`)",
    ]);
    expect(read(r, "/etc/rsyslog.d/20-cloud-config.conf")).toBe("# written by hand before\n*.* @@10.9.9.9:514\n");
    expect(read(r, "/etc/rsyslog.d/30-app.conf")).toBe("local3.* /var/log/app.log\n");
  });

  it("a failing restart command is an error; the files stay written", async () => {
    const r = machine();
    const res = await run(r, { remotes: { a: "@127.0.0.1" }, service_reload_command: ["false"] });
    expect(res.errors).toEqual([expect.stringMatching(/restarting rsyslog with `false` failed \(exit 1.*restart rsyslog by hand/)]);
    expect(existsSync(join(r.dir, "/etc/rsyslog.d/20-cloud-config.conf"))).toBe(true);
  });

  const noRsyslogd = spawnSync("rsyslogd", ["-v"]).status !== 0;
  it.skipIf(noRsyslogd)("rsyslogd -N1 accepts the generated drop-in (and rejects a broken one, so the check can fail)", async () => {
    const r = machine();
    await run(r, { configs: ["*.err /var/log/errors.log"], remotes: { central: "*.* @@10.0.0.5:514", v6: "kern.* @[2001:db8::1]:1514 # v6", plain: "logs.example.com" }, service_reload_command: ["true"] });
    const main = join(r.dir, "rsyslog.conf");
    writeFileSync(main, `global(workDirectory="${r.dir}")\n$IncludeConfig ${r.dir}/etc/rsyslog.d/*.conf\n`);
    const ok = spawnSync("rsyslogd", ["-N1", "-f", main], { encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    r.write("/etc/rsyslog.d/99-broken.conf", "*.* action(type=\"omfwd\" target=)\n");
    expect(spawnSync("rsyslogd", ["-N1", "-f", main], { encoding: "utf8" }).status).not.toBe(0);
  });
});
