#!/usr/bin/env node
// make-ova: turn a raw or qcow2 disk image into an .ova that VMware and VirtualBox
// import: the disk as a streamOptimized VMDK (qemu-img), an OVF 1.0 descriptor with
// the instance properties (descriptor.mjs), a SHA256 manifest, and a ustar archive
// with the .ovf first and the .mf right after it, as DSP0243 asks.
//
//   node packaging/ova/make-ova.mjs --disk IMAGE -o OUT.ova [--name NAME] [--cpus N]
//        [--memory MiB] [--controller scsi|sata] [--os-id N] [--os-description TEXT]
//
// Needs qemu-img (qemu-utils) and tar. Exit 0 written, 1 a step failed, 2 usage error.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ovfDescriptor } from "./descriptor.mjs";

const USAGE = "usage: make-ova.mjs --disk IMAGE -o OUT.ova [--name NAME] [--cpus N] [--memory MiB] [--controller scsi|sata] [--os-id N] [--os-description TEXT]";
/** Converting a multi-GB image takes minutes on a slow disk; beyond this something is wrong. */
const CONVERT_TIMEOUT_MS = 60 * 60 * 1000;

class UsageError extends Error {}

export function parseArgs(argv) {
  const o = { name: null, cpus: 2, memory: 2048, controller: "scsi", osId: 96, osDescription: "Debian GNU/Linux (64-bit)" };
  const names = { "--disk": "disk", "-o": "output", "--output": "output", "--name": "name", "--cpus": "cpus", "--memory": "memory", "--controller": "controller", "--os-id": "osId", "--os-description": "osDescription" };
  for (let i = 0; i < argv.length; i++) {
    const key = names[argv[i]];
    if (!key) throw new UsageError(`unknown argument ${argv[i]}`);
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${argv[i - 1]} needs a value`);
    o[key] = v;
  }
  if (!o.disk) throw new UsageError("--disk IMAGE is required");
  if (!o.output) throw new UsageError("-o OUT.ova is required");
  for (const k of ["cpus", "memory", "osId"]) {
    const n = Number(o[k]);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${k === "osId" ? "os-id" : k} must be a positive whole number`);
    o[k] = n;
  }
  if (o.controller !== "scsi" && o.controller !== "sata") throw new UsageError("--controller is scsi or sata");
  o.name ??= basename(o.output).replace(/\.ova$/i, "");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.name)) throw new UsageError(`--name ${JSON.stringify(o.name)}: use letters, digits, ., _ and -`);
  return o;
}

function run(argv, timeout = 120_000) {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: "utf8", timeout, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const why = err.code === "ENOENT" ? `${argv[0]} is not installed (apt install ${argv[0] === "qemu-img" ? "qemu-utils" : argv[0]})` : (err.stderr || err.message).trim();
    throw new Error(`${argv.join(" ")}: ${why}`);
  }
}

async function sha256(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest("hex");
}

export async function makeOva(o) {
  const disk = resolve(o.disk);
  const info = JSON.parse(run(["qemu-img", "info", "--output=json", disk]));
  if (!["raw", "qcow2", "vmdk", "vdi", "vpc", "vhdx"].includes(info.format)) throw new Error(`${disk}: qemu-img sees a ${info.format} image; give a raw or qcow2 disk`);
  const work = mkdtempSync(join(tmpdir(), "make-ova-"));
  try {
    const vmdkName = `${o.name}-disk1.vmdk`;
    const vmdk = join(work, vmdkName);
    run(["qemu-img", "convert", "-f", info.format, "-O", "vmdk", "-o", `subformat=streamOptimized,adapter_type=${o.controller === "sata" ? "ide" : "lsilogic"}`, disk, vmdk], CONVERT_TIMEOUT_MS);
    const ovfName = `${o.name}.ovf`;
    const version = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
    const xml = ovfDescriptor({ name: o.name, vmdkName, vmdkSize: statSync(vmdk).size, capacity: info["virtual-size"], cpus: o.cpus, memoryMiB: o.memory, controller: o.controller, osId: o.osId, osDescription: o.osDescription, product: "sprout image", version });
    writeFileSync(join(work, ovfName), xml);
    const mfName = `${o.name}.mf`;
    const mf = [];
    for (const f of [ovfName, vmdkName]) mf.push(`SHA256(${f})= ${await sha256(join(work, f))}`);
    writeFileSync(join(work, mfName), mf.join("\n") + "\n");
    // ustar, in this order, owned by root: what ovftool and VirtualBox expect to stream.
    const out = resolve(o.output);
    const tmpOut = join(dirname(out), `.${basename(out)}.tmp`);
    try {
      run(["tar", "--format=ustar", "--owner=0", "--group=0", "--numeric-owner", "--mode=0644", "-cf", tmpOut, "-C", work, ovfName, mfName, vmdkName], CONVERT_TIMEOUT_MS);
      renameSync(tmpOut, out);
    } finally {
      rmSync(tmpOut, { force: true });
    }
    return { ova: out, files: [ovfName, mfName, vmdkName] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`make-ova: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  makeOva(opts).then(
    (r) => process.stdout.write(`wrote ${r.ova} (${r.files.join(", ")})\n`),
    (err) => {
      process.stderr.write(`make-ova: ${err.message}\n`);
      process.exit(1);
    },
  );
}
