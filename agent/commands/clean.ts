import { createHost } from "../host";
import { RUN_DIR, STATE_DIR, USER_DATA_LOG } from "../instance-state";
import type { Command } from "./types";

export const SEED_DIR = "/var/lib/cloud/seed";

export const cleanCommand: Command = {
  name: "clean",
  summary: "forget the instance state so the next boot runs as a first boot",
  usage: "sprout clean [--logs] [--seed]",
  options: {
    logs: { type: "boolean", short: "l", help: "also remove /var/log/sprout.log and /var/log/user_data.log" },
    seed: { type: "boolean", short: "s", help: `also remove the seed directory ${SEED_DIR}` },
  },
  details: "For rebundling an image: run it last, then shut down. The system config in /etc/sprout is kept.",
  async run(a, g) {
    const h = createHost({ root: g.root, logFile: null });
    const removed: string[] = [];
    const rm = (p: string) => {
      if (h.root.lstat(p) !== null) {
        h.root.remove(p, { recursive: true });
        removed.push(p);
      }
    };
    rm(STATE_DIR);
    rm(RUN_DIR);
    if (a.options.logs) {
      rm("/var/log/sprout.log");
      rm(USER_DATA_LOG);
    }
    if (a.options.seed) rm(SEED_DIR);
    g.out(removed.length ? `removed: ${removed.join(", ")}\n` : "nothing to remove\n");
    return 0;
  },
};
