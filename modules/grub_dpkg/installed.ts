// Apart from the module, so a boot can check it without loading the module (modules/manifest.ts).
/** Present when grub-pc (grub for BIOS booting) is installed; EFI-only images have none. */
export const GRUB_PC_INSTALLED = "/var/lib/dpkg/info/grub-pc.list";
