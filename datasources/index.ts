// The datasource registry: every datasource sprout knows, by cloud-init's name.
// Static on purpose: the single-file bundle cannot discover folders at run time.
// datasources/registry.test.ts checks each entry has a conformance test.
import type { Datasource } from "../agent/types";
import { ec2 } from "./ec2";
import { noCloud } from "./nocloud";
import { none } from "./none";
import { ovf } from "./ovf";

export const DATASOURCES: readonly Datasource[] = [noCloud, ovf, ec2, none];

export function findDatasource(id: string): Datasource | undefined {
  const want = id.toLowerCase();
  return DATASOURCES.find((d) => d.id.toLowerCase() === want);
}
