// The datasource conformance suite. Every datasource's test file calls
// `datasourceConformance(...)` with machines laid out for it; the suite checks the
// contract every datasource must keep:
//   - detect() finds each of its own machines, fetch() returns well-formed InstanceData
//     with the expected instance-id;
//   - detect() ignores every other datasource's machines (FOREIGN_MACHINES below) and an
//     empty machine;
//   - each broken input makes fetch() throw a typed DatasourceError whose message names
//     the datasource and carries a hint, within a bound (never a hang).
import { describe, expect, it } from "vitest";
import { parseCmdline } from "../../agent/cmdline";
import { defaultConfig } from "../../agent/config";
import { DatasourceError } from "../../agent/errors";
import { deepMerge } from "../../agent/merge";
import type { Datasource, DatasourceContext, InstanceData, JsonObject, Stage } from "../../agent/types";
import { tempRoot, type TempRoot } from "../helpers/target";

export interface Machine {
  name: string;
  /** Lays the machine out under root (files, seeds), starting servers if needed. */
  setup(root: TempRoot): Promise<MachineSetup> | MachineSetup;
}

export interface MachineSetup {
  /** The instance-id fetch must return (own machines only). */
  instanceId?: string;
  /** System config for the datasource context (merged over the defaults). */
  config?: JsonObject;
  /** Kernel command line. */
  cmdline?: string;
  /** Stage the fetch runs in (default: the datasource's phase). */
  stage?: Stage;
  cleanup?: () => Promise<void> | void;
}

/**
 * Machines of each datasource, used as "foreign" machines for the others. A datasource's
 * test adds its typical machine here (keep them cheap: files only, no servers).
 */
export const FOREIGN_MACHINES: Record<string, Machine> = {
  NoCloud: {
    name: "NoCloud seed directory",
    setup: (r) => {
      r.write("/var/lib/cloud/seed/nocloud/meta-data", "instance-id: iid-nocloud-foreign\n");
      r.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\n{}\n");
      return {};
    },
  },
  OVF: {
    name: "OVF environment seed file",
    setup: (r) => {
      r.write(
        "/var/lib/cloud/seed/ovf-env.xml",
        '<?xml version="1.0"?><Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection><Property oe:key="instance-id" oe:value="iid-ovf-foreign"/></PropertySection></Environment>\n',
      );
      return {};
    },
  },
  Ec2: {
    name: "EC2 instance (firmware says Amazon EC2; no metadata service reachable)",
    setup: (r) => {
      r.write("/sys/class/dmi/id/product_uuid", "ec2e1916-9099-7caf-fd21-012345abcdef\n");
      r.write("/sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
      r.write("/sys/class/dmi/id/product_name", "t3.micro\n");
      r.write("/sys/class/dmi/id/board_asset_tag", "i-0123456789abcdef0\n");
      r.write("/sys/hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef\n");
      return {};
    },
  },
};

function context(ds: Datasource, s: MachineSetup, r: TempRoot): DatasourceContext {
  const system = deepMerge(defaultConfig(), s.config ?? {}) as JsonObject;
  const dsCfg = ((system.datasource as JsonObject | undefined)?.[ds.id] as JsonObject | undefined) ?? {};
  void r;
  return { config: dsCfg, system, cmdline: parseCmdline(s.cmdline ?? ""), stage: s.stage ?? ds.phase, deadline: performance.now() + 5000 };
}

export function checkInstanceData(d: InstanceData): void {
  expect(typeof d.instanceId).toBe("string");
  expect(d.instanceId.length).toBeGreaterThan(0);
  expect(d.localHostname === null || typeof d.localHostname === "string").toBe(true);
  expect(typeof d.platform).toBe("string");
  expect(typeof d.cloudName).toBe("string");
  expect(typeof d.subplatform).toBe("string");
  expect(Array.isArray(d.publicSshKeys)).toBe(true);
  for (const k of d.publicSshKeys) expect(typeof k).toBe("string");
  expect(typeof d.metaData).toBe("object");
  expect(d.metaData).not.toBeNull();
  expect(d.userData === null || Buffer.isBuffer(d.userData)).toBe(true);
  expect(d.vendorData === null || Buffer.isBuffer(d.vendorData)).toBe(true);
  // Warnings, when there are any, are sentences for `sprout status`: non-empty strings.
  if (d.warnings !== undefined) for (const w of d.warnings) expect(typeof w === "string" && w.length > 0).toBe(true);
  // The instance data must survive JSON (it is written to /run/sprout/instance-data.json).
  expect(() => JSON.stringify({ ...d, userData: null, vendorData: null })).not.toThrow();
}

export function datasourceConformance(opts: { ds: Datasource; own: Machine[]; broken: Machine[] }): void {
  const { ds } = opts;
  describe(`datasource conformance: ${ds.id}`, () => {
    for (const m of opts.own) {
      it(`detects and reads its own machine: ${m.name}`, async () => {
        const r = tempRoot();
        const s = await m.setup(r);
        try {
          const h = r.host();
          const found = await ds.detect(h, context(ds, s, r));
          expect(found, "detect() should find this machine").not.toBeNull();
          expect(typeof found!.reason).toBe("string");
          const data = await ds.fetch(h, context(ds, s, r));
          checkInstanceData(data);
          if (s.instanceId !== undefined) expect(data.instanceId).toBe(s.instanceId);
        } finally {
          await s.cleanup?.();
          r.cleanup();
        }
      });
    }
    const foreign = Object.entries(FOREIGN_MACHINES).filter(([id]) => id !== ds.id);
    for (const [id, m] of [["empty", { name: "an empty machine", setup: () => ({}) }] as [string, Machine], ...foreign]) {
      it.skipIf(ds.id === "None")(`ignores ${id === "empty" ? "" : `${id}'s `}${m.name}`, async () => {
        const r = tempRoot();
        const s = await m.setup(r);
        try {
          const found = await ds.detect(r.host(), context(ds, s, r));
          expect(found, `${ds.id} must not claim ${m.name}`).toBeNull();
        } finally {
          await s.cleanup?.();
          r.cleanup();
        }
      });
    }
    for (const m of opts.broken) {
      it(`raises a typed error on broken input: ${m.name}`, async () => {
        const r = tempRoot();
        const s = await m.setup(r);
        try {
          const err = await ds.fetch(r.host(), context(ds, s, r)).then(
            () => null,
            (e: unknown) => e,
          );
          expect(err, "fetch() should have failed").toBeInstanceOf(DatasourceError);
          expect((err as DatasourceError).message).toContain(`[ds:${ds.id}]`);
          expect((err as DatasourceError).hint, "the error should say what to do").toBeTruthy();
        } finally {
          await s.cleanup?.();
          r.cleanup();
        }
      });
    }
  });
}
