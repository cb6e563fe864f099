// The apt.conf.d files apt_configure owns, under cloud-init's names so an image moving
// between the agents keeps one set of files. Apart from the module: a boot checks for
// them (modules/manifest.ts) without loading apt_configure.
export const PROXY_FILE = "/etc/apt/apt.conf.d/90cloud-init-aptproxy";
export const CONF_FILE = "/etc/apt/apt.conf.d/94cloud-init-config";
