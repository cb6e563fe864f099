// disk_setup's partition layouts, as cloud-init's cc_disk_setup computes them, without
// touching a disk: the definition checked, the sfdisk script for a disk of a given
// size, and whether a disk's present table already is the layout asked for.

/** sgdisk's type codes, which cloud-init passes to sgdisk, as the GUIDs sfdisk takes. */
export const GPT_TYPES: Record<string, string> = {
  "8300": "0FC63DAF-8483-4772-8E79-3D69D8477DE4", // Linux filesystem
  "8200": "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", // Linux swap
  "8302": "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", // Linux /home
  "8e00": "E6D6D379-F507-44C2-A23C-238F2A3DF928", // Linux LVM
  fd00: "A19D880F-05FC-4D3B-A006-743F0F84911E", // Linux RAID
  ef00: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", // EFI system
  ef02: "21686148-6449-6E6F-744E-656564454649", // BIOS boot
  "0700": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", // Microsoft basic data
};

export interface PartSpec {
  percent: number;
  /** MBR: a hex id (83, 82, ...); GPT: a GUID. Null: Linux. */
  type: string | null;
}

export interface DiskDefinition {
  tableType: "mbr" | "gpt";
  /** "whole": one partition (layout: true); "remove": wipe the table; null: leave the disk alone. */
  layout: "whole" | "remove" | PartSpec[] | null;
  overwrite: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function partType(raw: unknown, tableType: "mbr" | "gpt", where: string): string | { error: string } {
  const text = String(raw).toLowerCase();
  if (tableType === "mbr") {
    return /^(0x)?[0-9a-f]{1,2}$/.test(text) ? text.replace(/^0x/, "") : { error: `${where}: ${JSON.stringify(raw)} is not an MBR partition type (a hex id such as 83 for Linux, 82 for swap)` };
  }
  if (GUID.test(text)) return text.toUpperCase();
  // An MBR id on a GPT disk (cloud-init's own example writes [100, 82]): its GPT code,
  // 82 -> 8200 (swap). sgdisk, which cloud-init runs, makes such a partition 8300.
  const guid = GPT_TYPES[text.length <= 2 ? `${text.padStart(2, "0")}00` : text.padStart(4, "0")];
  return guid ?? { error: `${where}: ${JSON.stringify(raw)} is not a GPT type sprout knows (${Object.keys(GPT_TYPES).join(", ")}, or a type GUID)` };
}

/** One disk_setup entry, checked; errors say what to write. */
export function parseDiskDefinition(raw: unknown, where: string): DiskDefinition | { error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { error: `${where} must be a mapping (table_type, layout, overwrite)` };
  const o = raw as Record<string, unknown>;
  const t = o.table_type ?? "mbr";
  if (t !== "mbr" && t !== "gpt") return { error: `${where}.table_type ${JSON.stringify(t)} is not mbr or gpt` };
  const tableType = t;
  const overwrite = o.overwrite === true;
  const layout = o.layout ?? false;
  if (layout === false || layout === "") return { tableType, layout: null, overwrite };
  if (layout === true) return { tableType, layout: "whole", overwrite };
  if (typeof layout === "string" && layout.toLowerCase() === "remove") return { tableType, layout: "remove", overwrite };
  if (!Array.isArray(layout) || layout.length === 0) return { error: `${where}.layout must be true, false, remove, or a list of sizes in percent such as [33, [66, 82]]` };
  if (tableType === "mbr" && layout.length > 4) return { error: `${where}.layout has ${layout.length} partitions; an MBR table takes 4 (use table_type: gpt)` };
  const parts: PartSpec[] = [];
  for (const [i, p] of layout.entries()) {
    const at = `${where}.layout[${i}]`;
    const [percent, type] = Array.isArray(p) ? (p.length === 2 ? p : [NaN, null]) : [p, null];
    if (typeof percent !== "number" || !(percent > 0 && percent <= 100)) return { error: `${at} must be a size in percent (1 to 100), or [percent, type]` };
    let pt: string | null = null;
    if (type !== null && type !== undefined) {
      const r = partType(type, tableType, at);
      if (typeof r !== "string") return r;
      pt = r;
    }
    parts.push({ percent, type: pt });
  }
  const sum = parts.reduce((a, p) => a + p.percent, 0);
  if (sum > 100) return { error: `${where}.layout adds up to ${sum}%; the sizes must add up to 100 or less` };
  return { tableType, layout: parts, overwrite };
}

/**
 * The sfdisk script for a disk of `sectors` 512-byte sectors: cloud-init's sizes (each
 * partition its percentage of the whole disk, the last one the rest).
 */
export function sfdiskScript(def: DiskDefinition, sectors: number): string {
  const lines = [`label: ${def.tableType === "mbr" ? "dos" : "gpt"}`];
  const linux = def.tableType === "mbr" ? "83" : GPT_TYPES["8300"];
  const parts: PartSpec[] = def.layout === "whole" ? [{ percent: 100, type: null }] : (def.layout as PartSpec[]);
  parts.forEach((p, i) => {
    const type = `type=${p.type ?? linux}`;
    lines.push(i === parts.length - 1 ? type : `size=${Math.floor((sectors * p.percent) / 100)}, ${type}`);
  });
  return `${lines.join("\n")}\n`;
}

export interface PresentTable {
  /** sfdisk's label: dos or gpt. */
  label: string;
  /** Each partition's type as sfdisk prints it: a hex id (dos) or a GUID (gpt). */
  types: string[];
}

/** sfdisk --json's answer, or null when the disk has no partition table. */
export function parseSfdiskJson(text: string): PresentTable | null {
  try {
    const doc = JSON.parse(text) as { partitiontable?: { label?: string; partitions?: Array<{ type?: string }> } };
    const t = doc.partitiontable;
    if (!t?.label) return null;
    return { label: t.label, types: (t.partitions ?? []).map((p) => String(p.type ?? "").toUpperCase()) };
  } catch {
    return null;
  }
}

/** cloud-init's check_partition_layout: the table is the one asked for (count, and the types given). */
export function layoutMatches(def: DiskDefinition, present: PresentTable | null): boolean {
  if (present === null || present.label !== (def.tableType === "mbr" ? "dos" : "gpt")) return false;
  if (def.layout === "whole") return present.types.length >= 1;
  if (!Array.isArray(def.layout) || present.types.length !== def.layout.length) return false;
  return def.layout.every((p, i) => p.type === null || p.type.toUpperCase() === present.types[i]);
}
