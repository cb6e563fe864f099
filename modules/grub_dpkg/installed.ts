// Apart from the module, so a boot can check it without loading the module (modules/manifest.ts).
/**
 * grub's BIOS modules, which grub-pc brings (through grub-pc-bin): EFI-only images have
 * none. A file, not dpkg's database: sprout reads no package manager's private files.
 */
export const GRUB_PC_INSTALLED = "/usr/lib/grub/i386-pc/boot.img";
