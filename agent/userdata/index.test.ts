import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { processUserData, typeFromContent } from ".";
import { parseMime } from "./mime";
import { renderJinja } from "../jinja";

const MIME = resolve(__dirname, "../../../shared/corpus/cloud-init/mime");
const corpus = (f: string) => readFileSync(`${MIME}/${f}`);
const ud = (text: string | Buffer, extra = {}) => processUserData(Buffer.isBuffer(text) ? text : Buffer.from(text), { source: "user-data", ...extra });
const errors = (r: Awaited<ReturnType<typeof ud>>) => r.problems.filter((p) => !p.warning);

const INSTANCE = { v1: { instance_id: "i-123", local_hostname: "web1", public_ssh_keys: ["ssh-ed25519 AAAA k1", "ssh-rsa BBBB k2"] }, ds: { meta_data: { "local-hostname": "web1", tags: { env: "prod" } } } };

describe("MIME corpus", () => {
  it("a single-part message with MIME-Version is read by its content", async () => {
    const r = await ud(corpus("filter_cloud_multipart_1.email"));
    expect(r.problems).toEqual([]);
    expect(r.cloudConfig).toEqual({ b: "c", "launch-index": 2 });
  });
  it("the Launch-Index header message parses", async () => {
    expect((await ud(corpus("filter_cloud_multipart_header.email"))).cloudConfig).toEqual({ b: "c" });
  });
  it("a multipart message splits into its three parts", async () => {
    const m = parseMime(corpus("filter_cloud_multipart_2.email"));
    expect(m.problems).toEqual([]);
    expect(m.parts.map((p) => p.contentType)).toEqual(["text/cloud-config", "text/plain", "text/plain"]);
    expect(m.parts[1]!.body.toString()).toMatch(/^\n#cloud-config-archive\n/);
    const r = await ud(corpus("filter_cloud_multipart_2.email"));
    expect(errors(r)).toEqual([]);
    expect(r.cloudConfig).toEqual({ b: "c", "launch-index": 2 });
    // The archive's plain/text entry is not something sprout runs: a warning, not an error.
    expect(r.problems.some((p) => p.warning && /plain\/text/.test(p.message))).toBe(true);
  });
  it("a cloud-config-archive gives its cloud-configs and scripts", async () => {
    const r = await ud(corpus("filter_cloud_multipart.yaml"));
    expect(errors(r)).toEqual([]);
    expect(r.cloudConfig).toEqual({ blah: true, "launch-index": 4 });
    expect(r.scripts.map((s) => s.name)).toEqual(["b2.txt", "b2.txt.2", "b2.txt.3"]);
    expect(r.scripts[0]!.content.toString()).toBe('#!/bin/bash \\n echo "stuff"');
  });
});

function mime(parts: Array<{ type: string; body: string; headers?: string[] }>, boundary = "XyZ"): string {
  const out = [`Content-Type: multipart/mixed; boundary="${boundary}"`, "MIME-Version: 1.0", ""];
  for (const p of parts) out.push(`--${boundary}`, `Content-Type: ${p.type}`, ...(p.headers ?? []), "", p.body);
  out.push(`--${boundary}--`, "");
  return out.join("\n");
}

describe("MIME parts", () => {
  it("decodes base64 and quoted-printable parts, keeps filenames, merges with Merge-Type", async () => {
    const text = mime([
      { type: "text/cloud-config", body: "#cloud-config\nruncmd: [a]\n" },
      { type: "text/cloud-config", headers: ["Content-Transfer-Encoding: base64", "Merge-Type: list(append)+dict(recurse_array)"], body: Buffer.from("#cloud-config\nruncmd: [b]\n").toString("base64") },
      { type: "text/x-shellscript", headers: ['Content-Disposition: attachment; filename="setup.sh"', "Content-Transfer-Encoding: quoted-printable"], body: "#!/bin/sh\necho a=3Db\n" },
      { type: "text/cloud-boothook", body: "#cloud-boothook\n#!/bin/sh\necho early\n" },
    ]);
    const r = await ud(text);
    expect(r.problems).toEqual([]);
    expect(r.cloudConfig).toEqual({ runcmd: ["a", "b"] });
    expect(r.scripts).toEqual([{ name: "setup.sh", content: Buffer.from("#!/bin/sh\necho a=b\n") }]);
    expect(r.boothooks[0]!.content.toString()).toBe("#!/bin/sh\necho early\n");
  });
  it("a bad boundary is reported and nothing is applied", async () => {
    const text = mime([{ type: "text/cloud-config", body: "#cloud-config\na: 1\n" }]).replace('boundary="XyZ"', 'boundary="other"');
    const r = await ud(text);
    expect(r.cloudConfig).toBeNull();
    expect(errors(r)[0]!.message).toMatch(/boundary "other" never appears/);
  });
  it("an undecodable part is reported; the other parts still apply", async () => {
    const text = mime([
      { type: "text/cloud-config", headers: ["Content-Transfer-Encoding: base64"], body: "!!!not base64!!!" },
      { type: "text/cloud-config", body: "#cloud-config\nok: true\n" },
    ]);
    const r = await ud(text);
    expect(r.cloudConfig).toEqual({ ok: true });
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]!.message).toMatch(/part 1.*not valid base64.*skipped/);
  });
  it("a multipart without a boundary is reported", async () => {
    const r = await ud("Content-Type: multipart/mixed\nMIME-Version: 1.0\n\nbody\n");
    expect(errors(r)[0]!.message).toMatch(/without a boundary/);
  });
});

describe("gzip", () => {
  it("whole user-data and per part", async () => {
    expect((await ud(gzipSync("#cloud-config\na: 1\n"))).cloudConfig).toEqual({ a: 1 });
    const text = ["Content-Type: multipart/mixed; boundary=B", "MIME-Version: 1.0", "", "--B", "Content-Type: application/x-gzip", "Content-Transfer-Encoding: base64", "", gzipSync("#cloud-config\nb: 2\n").toString("base64"), "--B--", ""].join("\n");
    expect((await ud(text)).cloudConfig).toEqual({ b: 2 });
  });
  it("truncated gzip is reported", async () => {
    const z = gzipSync("#cloud-config\n" + "a: 1\n".repeat(1000));
    const r = await ud(z.subarray(0, z.length - 20));
    expect(r.cloudConfig).toBeNull();
    expect(errors(r)[0]!.message).toMatch(/truncated/);
  });
  it("a gzip bomb is refused", async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from("#cloud-config\n"), Buffer.alloc(64 * 1024 * 1024, 0x20)]));
    expect(bomb.length).toBeLessThan(200 * 1024);
    const r = await ud(bomb);
    expect(r.cloudConfig).toBeNull();
    expect(errors(r)[0]!.message).toMatch(/inflates to more than 33554432 bytes; refused/);
  });
});

describe("formats", () => {
  it("detects types like cloud-init", () => {
    expect(typeFromContent("#include-once\nx")).toBe("text/x-include-once-url");
    expect(typeFromContent("  #cloud-config-archive\n")).toBe("text/cloud-config-archive");
    expect(typeFromContent("## template: jinja\n#cloud-config\n")).toBe("text/jinja2");
    expect(typeFromContent("hello")).toBeNull();
  });
  it("YAML errors carry line and column; the boot goes on", async () => {
    const r = await ud("#cloud-config\nruncmd:\n  - a\n b: [\n");
    expect(r.cloudConfig).toBeNull();
    expect(errors(r)[0]).toMatchObject({ source: "user-data", line: expect.any(Number), col: expect.any(Number) });
    expect(errors(r)[0]!.message).toMatch(/YAML error/);
  });
  it("unknown formats are reported", async () => {
    expect(errors(await ud("hello world\n"))[0]!.message).toMatch(/unrecognised user-data format/);
  });
  it("#include fetches each URL and applies what it gets; a failure is reported and the rest applied", async () => {
    const fetched: string[] = [];
    const r = await ud("#include\nhttp://a/one\n# comment\n\nhttp://a/bad\n#include-once http://a/two\n", {
      fetchInclude: async (url: string, once: boolean) => {
        fetched.push(`${url}${once ? " once" : ""}`);
        if (url.endsWith("bad")) throw new Error("the server answered HTTP 404");
        return Buffer.from(url.endsWith("one") ? "#cloud-config\none: 1\n" : "#!/bin/sh\necho two\n");
      },
    });
    expect(fetched).toEqual(["http://a/one", "http://a/bad", "http://a/two once"]);
    expect(r.cloudConfig).toEqual({ one: 1 });
    expect(r.scripts).toHaveLength(1);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]!.message).toMatch(/#include http:\/\/a\/bad failed: the server answered HTTP 404/);
  });
  it("an include that includes itself stops at the depth bound", async () => {
    const r = await ud("#include http://loop/\n", { fetchInclude: async () => Buffer.from("#include http://loop/\n") });
    expect(errors(r)[0]!.message).toMatch(/nest deeper/);
  });
  it("jinja cloud-config is rendered with the instance data", async () => {
    const r = await ud("## template: jinja\n#cloud-config\nhostname: {{ ds.meta_data.local_hostname }}\nurl: http://x/{{ v1.instance_id }}/{{ v1.nope }}\n", { instance: INSTANCE });
    expect(r.cloudConfig).toEqual({ hostname: "web1", url: "http://x/i-123/CI_MISSING_JINJA_VAR/nope" });
    expect(errors(r)[0]!.message).toMatch(/"v1.nope" is not in the instance data/);
  });
  it("jinja scripts are rendered too", async () => {
    const r = await ud("## template: jinja\n#!/bin/sh\necho {{ instance_id }}\n", { instance: INSTANCE });
    expect(r.scripts[0]!.content.toString()).toBe("#!/bin/sh\necho i-123\n");
  });
});

describe("jinja subset", () => {
  const render = (t: string) => renderJinja(t, { ...INSTANCE.v1, ...INSTANCE });
  it("if / elif / else, for over lists and dicts, filters, whitespace control", () => {
    expect(render("{% if v1.local_hostname == 'web1' %}yes{% else %}no{% endif %}").text).toBe("yes");
    expect(render("{% if x is defined %}a{% elif v1.instance_id.startswith('i-') %}b{% endif %}").text).toBe("b");
    expect(render("{% for k in v1.public_ssh_keys %}- {{ k }}\n{% endfor %}").text).toBe("- ssh-ed25519 AAAA k1\n- ssh-rsa BBBB k2\n");
    expect(render("{% for k, v in ds.meta_data.tags.items() %}{{ k }}={{ v }}{% endfor %}").text).toBe("env=prod");
    expect(render("{{ v1.zone | default('none') | upper }}").text).toBe("NONE");
    expect(render("a\n  {%- if true -%}\n  b\n{%- endif %}").text).toBe("ab");
    expect(render("{# comment #}x").text).toBe("x");
    expect(render("{% if 'web' in v1.local_hostname and not false %}ok{% endif %}").text).toBe("ok");
  });
  it("syntax errors name the line", () => {
    expect(() => render("a\n{% if x %}\nb\n")).toThrow(/endif/);
    expect(() => render("a\nb\n{{ x | nosuch }}")).toThrowError(expect.objectContaining({ line: 3 }));
  });
});
