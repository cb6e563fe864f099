import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { asRunningSystem, tempRoot, type TempRoot } from "../../test/helpers/target";
import { decodeSeed, seedRandom } from ".";

let root: TempRoot;
afterEach(() => root?.cleanup());

const SEED_FILE = "/var/lib/seed";
const read = () => readFileSync(`${root.dir}${SEED_FILE}`);

describe("seed_random", () => {
  it("decodes data as raw, base64 and gzip, and says what is wrong with bad data", () => {
    expect(decodeSeed("my random string", undefined)).toEqual(Buffer.from("my random string"));
    expect(decodeSeed("bXkgcmFuZG9tIHN0cmluZw==", "b64")).toEqual(Buffer.from("my random string"));
    expect(decodeSeed("bXkgcmFuZG9t\n IHN0cmluZw==", "BASE64")).toEqual(Buffer.from("my random string"));
    expect(decodeSeed(gzipSync("zipped seed").toString("latin1"), "gz")).toEqual(Buffer.from("zipped seed"));
    expect(decodeSeed("bXkgcmFuZG9tIHN0cmluZw=", "base64")).toMatch(/not valid base64/);
    expect(decodeSeed("plain", "gzip")).toMatch(/not gzip data/);
    expect(decodeSeed("x", "rot13")).toMatch(/encoding "rot13" is not one of raw, base64, b64, gzip, gz/);
    expect(decodeSeed(12345, "raw")).toMatch(/must be text, not a number; quote it/);
  });

  it("appends the data and then the meta-data's random_seed to the file, as cloud-init", async () => {
    root = tempRoot({ [SEED_FILE]: "before|" });
    const res = await seedRandom.run({ random_seed: { file: SEED_FILE, data: "bXkgcmFuZG9tIHN0cmluZw==", encoding: "base64" } }, moduleContext(root, { stage: "network", metaData: { random_seed: "FROM-METADATA" } }));
    expect(res).toEqual({ status: "changed", detail: `added 29 bytes to ${SEED_FILE}`, errors: [] });
    expect(read().toString()).toBe("before|my random stringFROM-METADATA");
  });

  it("uses the meta-data's seed with no random_seed key; writes nothing to /dev under --root", async () => {
    root = tempRoot();
    const res = await seedRandom.run({}, moduleContext(root, { stage: "network", metaData: { random_seed: "abc" } }));
    expect(res).toEqual({ status: "unchanged", detail: "3 bytes not added to /dev/urandom: the target is not the running system", errors: [] });
    expect(() => readFileSync(`${root.dir}/dev/urandom`)).toThrow();
  });

  it("runs the command with RANDOM_SEED_FILE, in the target", async () => {
    root = tempRoot();
    // The temp root's /bin/sh is this machine's (a stand-in: chroot would need a whole system).
    root.write("/bin/sh", readFileSync("/bin/sh"), 0o755);
    const ctx = moduleContext(root, "network");
    const res = await seedRandom.run({ random_seed: { file: SEED_FILE, data: "seed", command: ["sh", "-c", `echo "$RANDOM_SEED_FILE" > ${root.dir}/proof`], command_required: true } }, {
      ...ctx,
      // Presented as the running system, so the command runs directly (its files stay in the temp root).
      host: { ...ctx.host, root: asRunningSystem(ctx.host.root) },
    });
    expect(res.errors).toEqual([]);
    expect(res.detail).toMatch(/^added 4 bytes to \/var\/lib\/seed; ran sh$/);
    expect(readFileSync(`${root.dir}/proof`, "utf8")).toBe("/var/lib/seed\n");
  });

  it("a missing command is skipped, unless command_required; a bad command or file is an error and nothing is written", async () => {
    root = tempRoot();
    const ctx = moduleContext(root, "network");
    expect(await seedRandom.run({ random_seed: { file: SEED_FILE, command: ["pollinate", "-q"] } }, ctx)).toEqual({ status: "unchanged", detail: "pollinate is not installed; command skipped", errors: [] });
    expect((await seedRandom.run({ random_seed: { file: SEED_FILE, command: ["pollinate"], command_required: true } }, ctx)).errors).toEqual(["random_seed.command: pollinate is not installed, and command_required is true"]);
    expect((await seedRandom.run({ random_seed: { file: SEED_FILE, command_required: true } }, ctx)).errors).toEqual(["random_seed.command_required is true, but there is no command"]);
    expect((await seedRandom.run({ random_seed: { command: "pollinate -q" } }, ctx)).errors![0]).toMatch(/command must be a list/);
    expect((await seedRandom.run({ random_seed: { file: "seed", data: "x" } }, ctx)).errors).toEqual(['random_seed.file must be an absolute path, not "seed"']);
    expect((await seedRandom.run({ random_seed: { file: SEED_FILE, data: "%%%", encoding: "base64" } }, ctx)).errors![0]).toMatch(/not valid base64.*nothing was written/);
    expect(() => read()).toThrow();
  });
});
