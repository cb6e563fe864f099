// FAT volumes: the root directory of a vfat cidata seed, read without mounting.
export { looksLikeFat, openVfat, VfatError, type VfatEntry, type VfatVolume } from "./reader";
