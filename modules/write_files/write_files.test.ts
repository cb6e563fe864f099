import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { parseYaml } from "../../agent/yaml";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { decodeContent, parsePermissions, writeFiles, writeFilesDeferred } from ".";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));
function root(): TempRoot {
  const r = tempRoot({ "/etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n", "/etc/group": "root:x:0:\napp:x:1002:\nadm:x:4:\n" });
  roots.push(r);
  return r;
}
const read = (r: TempRoot, p: string) => readFileSync(join(r.dir, p), "utf8");
const cfg = (yaml: string) => parseYaml(yaml).value as Record<string, unknown>;

describe("write_files", () => {
  it("writes text, base64 and gzip+base64 content with modes and owners", async () => {
    const r = root();
    const gz = gzipSync("zipped\n").toString("base64");
    const res = await writeFiles.run(
      cfg(`write_files:
  - path: /etc/plain
    content: hello
  - path: /etc/b64
    encoding: b64
    content: ${Buffer.from("decoded").toString("base64")}
    permissions: '0600'
  - path: /etc/gz
    encoding: gz+b64
    content: ${gz}
    permissions: 0640
    owner: app:adm
`),
      moduleContext(r),
    );
    expect(res.errors).toEqual([]);
    expect(read(r, "/etc/plain")).toBe("hello");
    expect(statSync(join(r.dir, "etc/plain")).mode & 0o7777).toBe(0o644);
    expect(read(r, "/etc/b64")).toBe("decoded");
    expect(statSync(join(r.dir, "etc/b64")).mode & 0o7777).toBe(0o600);
    expect(read(r, "/etc/gz")).toBe("zipped\n");
    const st = statSync(join(r.dir, "etc/gz"));
    expect(st.mode & 0o7777).toBe(0o640);
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([1001, 4]);
  });

  it("appends, and leaves deferred files to the final stage (write_files_deferred)", async () => {
    const r = root();
    r.write("/etc/motd", "line1\n");
    const c = cfg("write_files:\n  - path: /etc/motd\n    content: \"line2\\n\"\n    append: true\n  - path: /etc/later\n    content: x\n    defer: true\n");
    await writeFiles.run(c, moduleContext(r));
    expect(read(r, "/etc/motd")).toBe("line1\nline2\n");
    expect(() => read(r, "/etc/later")).toThrow();
    await writeFilesDeferred.run(c, moduleContext(r, { stage: "final" }));
    expect(read(r, "/etc/later")).toBe("x");
    expect(read(r, "/etc/motd")).toBe("line1\nline2\n");
  });

  it("reports each bad entry clearly and still writes the good ones", async () => {
    const r = root();
    mkdirSync(join(r.dir, "etc/isdir"), { recursive: true });
    r.write("/etc/keep", "old");
    const res = await writeFiles.run(
      cfg(`write_files:
  - path: /etc/isdir
    content: x
  - path: /etc/keep
    content: "%%%"
    encoding: b64
  - path: /etc/perm
    content: x
    permissions: rwxr-xr-x
  - path: /etc/owner
    content: x
    owner: nobody-here
  - content: no path
  - path: /etc/good
    content: fine
`),
      moduleContext(r),
    );
    expect(res.errors).toHaveLength(5);
    expect(res.errors![0]).toMatch(/\/etc\/isdir.*is a directory/);
    expect(res.errors![1]).toMatch(/not valid base64/);
    expect(res.errors![2]).toMatch(/not an octal mode/);
    expect(res.errors![3]).toMatch(/no user "nobody-here"/);
    expect(res.errors![4]).toMatch(/has no path/);
    expect(read(r, "/etc/good")).toBe("fine");
    expect(read(r, "/etc/keep")).toBe("old");
  });

  it("parses permissions the ways cloud-config writes them", () => {
    expect(parsePermissions("0644")).toBe(0o644);
    expect(parsePermissions(0o600)).toBe(0o600);
    expect(parsePermissions("755")).toBe(0o755);
    expect(parsePermissions("0o700")).toBe(0o700);
    expect(parsePermissions("0999")).toBeNull();
    expect(parsePermissions(undefined)).toBe(0o644);
  });

  it("refuses truncated gzip", () => {
    const gz = gzipSync("a".repeat(1000));
    expect(() => decodeContent(gz.subarray(0, gz.length - 10).toString("base64"), "gz+b64")).toThrow(/not valid gzip/);
  });

  it("applies cloud-init's documented examples", async () => {
    const { readdirSync } = await import("node:fs");
    const { createServer } = await import("node:http");
    // Example 6 fetches a URL on the internet: serve it from 127.0.0.1 instead.
    const server = createServer((req, res) => res.end(`served ${req.url} auth=${req.headers.authorization}`));
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    const port = (server.address() as { port: number }).port;
    try {
      const dir = join(__dirname, "../../../shared/corpus/cloud-init/module-docs/cc_write_files");
      for (const f of readdirSync(dir)) {
        const r = root();
        r.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/var/www:/bin/false\n");
        r.write("/etc/group", "root:x:0:\nnginx:x:101:\n");
        const text = readFileSync(join(dir, f), "utf8").replace(/https?:\/\/[^/\s]+\//g, `http://127.0.0.1:${port}/`);
        const c = cfg(text);
        const a = await writeFiles.run(c, moduleContext(r));
        const b = await writeFilesDeferred.run(c, moduleContext(r, { stage: "final" }));
        expect([...(a.errors ?? []), ...(b.errors ?? [])], f).toEqual([]);
        for (const e of c.write_files as Array<{ path: string }>) expect(statSync(join(r.dir, e.path)).isFile(), `${f}: ${e.path}`).toBe(true);
      }
    } finally {
      server.close();
    }
  });
});
