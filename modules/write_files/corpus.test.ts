// write_files with the module-docs examples and the bad inputs of issue 4.
import { afterEach, describe, expect, it } from "vitest";
import { docExamples, ETC_FILES, moduleContext, recordingHost } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { writeFiles, writeFilesDeferred } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

describe("write_files module-docs examples", () => {
  const ex = docExamples("cc_write_files");
  it("example1: b64 content (its '...' dropped, as cloud-init's decoder does)", async () => {
    root = tempRoot(ETC_FILES);
    const res = await writeFiles.run(ex[0]!.config, moduleContext(root));
    expect(res.errors).toEqual([]);
    expect(root.host().root.readText("/etc/sysconfig/selinux")).toMatch(/^\n# This file controls the state of SELinux/);
  });
  it("example2: appends to /etc/crontab", async () => {
    root = tempRoot({ ...ETC_FILES, "etc/crontab": "# existing\n" });
    expect((await writeFiles.run(ex[1]!.config, moduleContext(root))).errors).toEqual([]);
    expect(root.host().root.readText("/etc/crontab")).toBe("# existing\n15 * * * * root ship_logs\n");
  });
  it("example3: gzip !!binary content, mode 0755", async () => {
    root = tempRoot(ETC_FILES);
    expect((await writeFiles.run(ex[2]!.config, moduleContext(root))).errors).toEqual([]);
    expect(root.host().root.readText("/usr/bin/hello")).toBe("#!/bin/sh\necho hello world\n");
    expect(root.host().root.stat("/usr/bin/hello")!.mode).toBe(0o755);
  });
  it("example4: an empty file", async () => {
    root = tempRoot(ETC_FILES);
    await writeFiles.run(ex[3]!.config, moduleContext(root));
    expect(root.host().root.readText("/root/CLOUD_INIT_WAS_HERE")).toBe("");
  });
  it("example5: deferred to the final stage; the owner must exist by then", async () => {
    root = tempRoot(ETC_FILES);
    expect((await writeFiles.run(ex[4]!.config, moduleContext(root))).status).toBe("skipped");
    const res = await writeFilesDeferred.run(ex[4]!.config, moduleContext(root));
    expect(res.errors![0]).toMatch(/no user "nginx" in \/etc\/passwd/);
    root.write("etc/passwd", ETC_FILES["etc/passwd"] + "nginx:x:101:101::/var/www:/usr/sbin/nologin\n");
    root.write("etc/group", ETC_FILES["etc/group"] + "nginx:x:101:\n");
    expect((await writeFilesDeferred.run(ex[4]!.config, moduleContext(root))).errors).toEqual([]);
    expect(root.host().root.stat("/etc/nginx/conf.d/example.com.conf")).toMatchObject({ mode: 0o640, uid: 101, gid: 101 });
  });
  it("example6: content from a source URL with its headers (recorded: no request leaves the machine)", async () => {
    root = tempRoot(ETC_FILES);
    const rec = recordingHost(root.host(), { fetch: (url) => ({ url, status: 200, headers: {}, body: Buffer.from("#!/bin/sh\necho hi\n") }) });
    expect((await writeFiles.run(ex[5]!.config, moduleContext(root, { host: rec.host }))).errors).toEqual([]);
    expect(rec.fetches[0]!.opts.headers).toMatchObject({ Authorization: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" });
    expect(root.host().root.readText("/usr/bin/hello")).toBe("#!/bin/sh\necho hi\n");
  });
});

describe("write_files bad input: each entry reported, the others written, nothing half-written", () => {
  it("a path that is a directory, bad base64, a mode that is not octal", async () => {
    root = tempRoot({ ...ETC_FILES, "srv/dir/keep": "x" });
    const res = await writeFiles.run(
      {
        write_files: [
          { path: "/srv/dir", content: "x" },
          { path: "/etc/b64", encoding: "b64", content: "not*base64" },
          { path: "/etc/mode", content: "x", permissions: "0999" },
          { path: "/etc/mode2", content: "x", permissions: "rw-r--r--" },
          { path: "/etc/good", content: "ok\n" },
        ],
      },
      moduleContext(root),
    );
    expect(res.errors).toEqual([
      "write_files[0] (/srv/dir): /srv/dir is a directory; remove it or choose another path",
      "write_files[1] (/etc/b64): content is not valid base64",
      `write_files[2] (/etc/mode): permissions "0999" is not an octal mode like '0644'`,
      `write_files[3] (/etc/mode2): permissions "rw-r--r--" is not an octal mode like '0644'`,
    ]);
    const r = root.host().root;
    expect(r.readText("/srv/dir/keep")).toBe("x");
    expect(["/etc/b64", "/etc/mode", "/etc/mode2"].some((p) => r.exists(p))).toBe(false);
    expect(r.readText("/etc/good")).toBe("ok\n");
  });
});
