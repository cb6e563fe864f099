// The module registry, in run order within each stage. Static on purpose: the
// single-file bundle cannot discover folders at run time. modules/registry.test.ts
// checks every entry has a schema with documented keys and a test.
import type { Module } from "../agent/types";
import { finalMessage } from "./final_message";
import { growpart } from "./growpart";
import { grubFallback, grubFallbackBootOk } from "./grub_fallback";
import { resizefs } from "./resizefs";
import { rescue } from "./rescue";
import { rsyslog } from "./rsyslog";
import { runcmd } from "./runcmd";
import { setHostname } from "./set_hostname";
import { updateHostname } from "./update_hostname";
import { writeFiles, writeFilesDeferred } from "./write_files";

export const MODULES: readonly Module[] = [
  // local (before the network: the disk, then the filesystem on it)
  growpart,
  resizefs,
  rescue,
  // network (cloud-init's "init" stage modules)
  writeFiles,
  setHostname,
  updateHostname,
  rsyslog,
  // config
  grubFallback,
  // final
  writeFilesDeferred,
  runcmd,
  finalMessage,
  // last: reaching it means this boot worked, so the next one needs no fallback kernel
  grubFallbackBootOk,
];

export function findModule(id: string): Module | undefined {
  return MODULES.find((m) => m.id === id);
}
