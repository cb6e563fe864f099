// bootcmd: commands run early on every boot (before write_files, users and the
// rest), with INSTANCE_ID in their environment. Same shapes as runcmd.
import type { Module } from "../../agent/types";
import { COMMAND_ENTRY, runCommandList } from "../runcmd";

export const BOOTCMD_SCHEMA = {
  bootcmd: {
    type: "array",
    description:
      "Commands to run very early on every boot. A string runs in /bin/sh; a list is a command and its arguments. INSTANCE_ID is set, so a command can act once per instance (cloud-init-per). Output goes to /var/log/user_data.log.",
    items: COMMAND_ENTRY,
    examples: [["echo 192.168.1.130 mirror.example.com >> /etc/hosts", ["cloud-init-per", "once", "mymkfs", "mkfs", "/dev/vdb"]]],
  },
} as const;

export const bootcmd: Module = {
  id: "bootcmd",
  stage: "network",
  frequency: "always",
  schema: { type: "object", description: "Run commands early on every boot, each entry's exit status recorded.", properties: BOOTCMD_SCHEMA },
  run: (cfg, ctx) => runCommandList(ctx, "bootcmd", cfg.bootcmd),
};
