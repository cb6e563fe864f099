// Top-level keys in cloud-init 22.4.2's schema that only cloud-init modules sprout does
// not have read, with what reads them. A cloud-config written for cloud-init may carry
// them: `sprout schema` warns instead of calling the file invalid (it is valid, and a boot
// runs with it), and a boot's "ignored keys" warning says which cloud-init module it was for.
export const CLOUD_INIT_ONLY_KEYS: Readonly<Record<string, { module: string | null; what: string }>> = {
  ansible: { module: "ansible", what: "cloud-init's ansible module" },
  apk_repos: { module: "apk_configure", what: "cloud-init's apk_configure module (Alpine)" },
  authkey_hash: { module: "ssh_authkey_fingerprints", what: "cloud-init's ssh_authkey_fingerprints module (a console table)" },
  no_ssh_fingerprints: { module: "ssh_authkey_fingerprints", what: "cloud-init's ssh_authkey_fingerprints module (a console table)" },
  autoinstall: { module: "ubuntu_autoinstall", what: "cloud-init's ubuntu_autoinstall module (Ubuntu)" },
  byobu_by_default: { module: "byobu", what: "cloud-init's byobu module" },
  chef: { module: "chef", what: "cloud-init's chef module" },
  drivers: { module: "ubuntu_drivers", what: "cloud-init's ubuntu_drivers module (Ubuntu)" },
  fan: { module: "fan", what: "cloud-init's fan module (Ubuntu)" },
  landscape: { module: "landscape", what: "cloud-init's landscape module (Ubuntu)" },
  lxd: { module: "lxd", what: "cloud-init's lxd module" },
  manage_resolv_conf: { module: "resolv_conf", what: "cloud-init's resolv_conf module (not run on Debian by cloud-init either)" },
  resolv_conf: { module: "resolv_conf", what: "cloud-init's resolv_conf module (not run on Debian by cloud-init either)" },
  mcollective: { module: "mcollective", what: "cloud-init's mcollective module" },
  migrate: { module: "migrator", what: "cloud-init's migrator module (its own state from older releases)" },
  puppet: { module: "puppet", what: "cloud-init's puppet module" },
  reporting: { module: null, what: "cloud-init's event reporting" },
  rh_subscription: { module: "rh_subscription", what: "cloud-init's rh_subscription module (Red Hat)" },
  salt_minion: { module: "salt_minion", what: "cloud-init's salt_minion module" },
  spacewalk: { module: "spacewalk", what: "cloud-init's spacewalk module (Red Hat)" },
  ubuntu_advantage: { module: "ubuntu_advantage", what: "cloud-init's ubuntu_advantage module (Ubuntu)" },
  updates: { module: "install_hotplug", what: "cloud-init's install_hotplug module" },
  wireguard: { module: "wireguard", what: "cloud-init's wireguard module" },
  yum_repo_dir: { module: "yum_add_repo", what: "cloud-init's yum_add_repo module (Red Hat)" },
  yum_repos: { module: "yum_add_repo", what: "cloud-init's yum_add_repo module (Red Hat)" },
  zypper: { module: "zypper_add_repo", what: "cloud-init's zypper_add_repo module (SUSE)" },
};
