// ISO9660 images: read (seed devices: OVF transport, cidata) and write (sprout seed).
export { IsoError, MAX_DIR_BYTES, openIso, type IsoEntry, type IsoImage, type NameSystem } from "./reader";
