import { createHost } from "../host";
import { writeConsole } from "../host/console";
import { INSTANCE_DATA, INSTANCE_DATA_SENSITIVE, lookupKey } from "../instance-data";
import { STATE_DIR } from "../instance-state";
import { UsageError } from "./args";
import type { Command } from "./types";

function listKeys(obj: unknown, prefix = ""): string[] {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return [];
  return Object.entries(obj).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return [key, ...listKeys(v, key)];
  });
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 1);
}

export const queryCommand: Command = {
  name: "query",
  summary: "print instance data (v1.instance_id, ds.meta_data.*, userdata, ...)",
  usage: "sprout query KEY | --all | --list-keys",
  options: {
    all: { type: "boolean", short: "a", help: "print all instance data" },
    "list-keys": { type: "boolean", help: "print every key that can be queried" },
  },
  details: "Sensitive values (and userdata, vendordata) are shown only to root; others see them redacted. Exit 1 when the key does not exist.",
  async run(a, g) {
    if (!a.options.all && !a.options["list-keys"] && a.positionals.length !== 1) throw new UsageError("query needs one KEY, --all or --list-keys");
    const h = createHost({ root: g.root, logFile: null });
    const isRoot = process.getuid?.() === 0;
    const file = isRoot && h.root.exists(INSTANCE_DATA_SENSITIVE) ? INSTANCE_DATA_SENSITIVE : INSTANCE_DATA;
    let text: string | null;
    try {
      text = h.root.tryReadText(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      g.err(`sprout: cannot read ${file}: ${code === "EACCES" ? "permission denied (sprout writes it 0644, so its mode was changed since): run `sudo sprout query`; the next boot writes it afresh" : (err as Error).message}\n`);
      return 1;
    }
    if (!text) {
      g.err(`sprout: no instance data at ${INSTANCE_DATA}: sprout has not run on this boot yet (see \`sprout status\`)\n`);
      return 1;
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
    } catch {
      g.err(`sprout: ${file} is not valid JSON (cut short or edited since sprout wrote it); the next boot writes it afresh\n`);
      return 1;
    }
    delete doc.sensitive_keys;
    if (a.options.all) {
      g.out(JSON.stringify(doc, null, 1) + "\n");
      return 0;
    }
    if (a.options["list-keys"]) {
      g.out([...listKeys(doc), "userdata", "vendordata"].join("\n") + "\n");
      return 0;
    }
    const key = a.positionals[0]!;
    if (key === "userdata" || key === "vendordata") {
      if (!isRoot) {
        g.err(`sprout: ${key} is only shown to root\n`);
        return 1;
      }
      const data = h.root.tryReadFile(`${STATE_DIR}/instance/${key === "userdata" ? "user-data.txt" : "vendor-data.txt"}`);
      if (data) writeConsole(1, data);
      return 0;
    }
    const found = lookupKey(doc, key);
    if (!found.found) {
      g.err(`sprout: no key ${JSON.stringify(key)} in the instance data; \`sprout query --list-keys\` lists them\n`);
      return 1;
    }
    g.out(show(found.value) + "\n");
    return 0;
  },
};
