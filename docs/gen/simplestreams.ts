// Reads an image catalogue in the simplestreams format (the one public image
// catalogues publish: streams/v1/index.json naming product files; each product
// has release and arch, versions keyed by serial, and items: a cloud image
// (crsn = region, id = AMI/image id, virt, root_store) or a download (path, sha256)).
// Pure: the caller passes a function that returns a file's text by its path.

export class CatalogueError extends Error {
  constructor(msg: string) {
    super(`[catalogue] ${msg}`);
  }
}

export interface CloudImage {
  product: string;
  release: string;
  arch: string;
  serial: string;
  region: string;
  id: string;
  virt: string;
  rootStore: string;
}

export interface Download {
  product: string;
  release: string;
  arch: string;
  serial: string;
  ftype: string;
  path: string;
  sha256: string;
  size?: number;
}

export interface Catalogue {
  images: CloudImage[];
  downloads: Download[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function json(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CatalogueError(`${file} is not valid JSON (${(e as Error).message}); fix the file or point --catalogue at another one`);
  }
}

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number") return String(v);
  throw new CatalogueError(`${where}: missing field "${key}"${v === undefined ? "" : ` (got ${JSON.stringify(v)})`}; add it to the product file`);
}

export async function parseCatalogue(read: (path: string) => Promise<string>): Promise<Catalogue> {
  const indexPath = "streams/v1/index.json";
  const index = json(await read(indexPath), indexPath);
  if (!isObj(index) || !isObj(index.index)) throw new CatalogueError(`${indexPath}: missing field "index"; this does not look like a simplestreams index`);
  const images: CloudImage[] = [];
  const downloads: Download[] = [];
  for (const [contentId, entry] of Object.entries(index.index)) {
    if (!isObj(entry)) throw new CatalogueError(`${indexPath}: index entry ${contentId} is not an object`);
    const file = str(entry, "path", `${indexPath}: index entry ${contentId}`);
    const doc = json(await read(file), file);
    if (!isObj(doc) || !isObj(doc.products)) throw new CatalogueError(`${file}: missing field "products"`);
    for (const [name, p] of Object.entries(doc.products)) {
      const where = `${file}: product ${name}`;
      if (!isObj(p)) throw new CatalogueError(`${where} is not an object`);
      const release = str(p, "release", where);
      const arch = str(p, "arch", where);
      if (!isObj(p.versions)) throw new CatalogueError(`${where}: missing field "versions"`);
      for (const [serial, v] of Object.entries(p.versions)) {
        if (!isObj(v) || !isObj(v.items)) throw new CatalogueError(`${where} version ${serial}: missing field "items"`);
        for (const [itemName, it] of Object.entries(v.items)) {
          const iw = `${where} version ${serial} item ${itemName}`;
          if (!isObj(it)) throw new CatalogueError(`${iw} is not an object`);
          if ("id" in it || "crsn" in it) {
            images.push({ product: name, release, arch, serial, region: str(it, "crsn", iw), id: str(it, "id", iw), virt: str(it, "virt", iw), rootStore: str(it, "root_store", iw) });
          } else {
            const sha256 = str(it, "sha256", iw);
            if (!/^[0-9a-f]{64}$/.test(sha256)) throw new CatalogueError(`${iw}: field "sha256" is not 64 hex digits`);
            downloads.push({ product: name, release, arch, serial, ftype: str(it, "ftype", iw), path: str(it, "path", iw), sha256, size: typeof it.size === "number" ? it.size : undefined });
          }
        }
      }
    }
  }
  return { images, downloads };
}

/** The newest serial per (release, arch, region): serials sort as strings (YYYYMMDD[.N]). */
export function latestImages(c: Catalogue): CloudImage[] {
  const best = new Map<string, CloudImage>();
  for (const im of c.images) {
    const k = `${im.release}\u0000${im.arch}\u0000${im.region}`;
    const cur = best.get(k);
    if (!cur || im.serial > cur.serial) best.set(k, im);
  }
  return [...best.values()].sort((a, b) => a.release.localeCompare(b.release) || a.arch.localeCompare(b.arch) || a.region.localeCompare(b.region));
}

/** The downloads of the newest serial per (release, arch). */
export function latestDownloads(c: Catalogue): Download[] {
  const newest = new Map<string, string>();
  for (const d of c.downloads) {
    const k = `${d.release}\u0000${d.arch}`;
    if ((newest.get(k) ?? "") < d.serial) newest.set(k, d.serial);
  }
  return c.downloads.filter((d) => newest.get(`${d.release}\u0000${d.arch}`) === d.serial).sort((a, b) => a.release.localeCompare(b.release) || a.arch.localeCompare(b.arch) || a.ftype.localeCompare(b.ftype));
}
