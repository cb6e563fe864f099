// Every known, intentional difference between sprout and Debian bookworm's cloud-init
// (22.4.2) on the compat cases, with the reason. docs/compat.md says the same for
// people. A divergence not matched here fails `npm run test:compat`; keep each rule
// as narrow as the difference (a case, a key, the two values).
import type { IntentionalDifference } from "./effects";

const ABSENT = /^\(absent\)$/;

export const INTENTIONAL: IntentionalDifference[] = [
  {
    key: /^ssh\.host-keys$/,
    cloudInit: /^dsa,ecdsa,ed25519,rsa$/,
    sprout: /^ecdsa,ed25519,rsa$/,
    reason:
      "No DSA host key: cloud-init 22.4.2 still generates one by default; newer cloud-init's documented default is rsa, ecdsa, ed25519 (module-docs cc_ssh), and OpenSSH has dropped DSA.",
  },
  {
    key: /^ssh\.host-key-file:\/etc\/ssh\/ssh_host_dsa_key(\.pub)?$/,
    cloudInit: /^06[04][04] root:root generated$/,
    sprout: ABSENT,
    reason: "As ssh.host-keys: no DSA host key is generated.",
  },
  {
    key: /^ssh\.host-key-file:\/etc\/ssh\/ssh_host_[a-z0-9]+_key(-cert)?\.pub$/,
    cloudInit: /^0600 root:root given in the seed( \(no final newline\))?$/,
    sprout: /^0644 root:root given in the seed$/,
    reason:
      "A public host key or certificate given in ssh_keys is written 0644, as ssh-keygen makes public keys (and as cloud-init itself leaves the public key it makes from a private one): it is no secret, and anybody may check a host's fingerprint. cloud-init 22.4.2 writes these 0600. A value without a final newline gets one (below).",
  },
  {
    key: /^ssh\.host-key-file:\/etc\/ssh\/ssh_host_[a-z0-9]+_key$/,
    cloudInit: /^0600 root:root given in the seed \(no final newline\)$/,
    sprout: /^0600 root:root given in the seed$/,
    reason: "A private host key given in ssh_keys without a final newline (a quoted value, a `|-` block) gets one: OpenSSH cannot load a private key without it (\"error in libcrypto\"), so sshd would start without that host key. cloud-init writes it as given.",
  },
  {
    cases: /^ssh_keys: an empty mapping$/,
    key: /^ssh\.host-key/,
    cloudInit: ABSENT,
    reason:
      "`ssh_keys: {}` gives no host keys, so sprout generates them, as documented (\"If no host keys are specified using ssh_keys, then keys will be generated\"); cloud-init 22.4.2 generates none when the key is present at all, and sshd then cannot start.",
  },
  {
    cases: /^ssh_keys: an empty mapping$/,
    key: /^ssh\.host-keys$/,
    cloudInit: /^\(none\)$/,
    sprout: /^ecdsa,ed25519,rsa$/,
    reason: "As above: `ssh_keys: {}` still gets host keys.",
  },
  {
    cases: /\(ecdsa-sk\)/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason: "An ssh_keys entry sprout cannot install (a type sshd has no host key for, a misspelt name) is an error: sshd lacks a key the seed meant it to have. cloud-init logs a warning and reports the boot done.",
  },
  {
    cases: /^users: (create_groups false|sudo true)/,
    key: /^(user\.(dave|grace)\.|group\.(dave|grace)$|file:\/home\/(dave|grace)(\/|$))/,
    cloudInit: ABSENT,
    reason:
      "A user entry that cannot be applied (a missing group with create_groups: false, `sudo: true`) is reported and the next user is still made. cloud-init 22.4.2 stops the users module at the first such error, so the users after it are never made.",
  },
  {
    cases: /^users: create_groups false/,
    key: /^group\.video$/,
    cloudInit: ABSENT,
    sprout: /^existed; members: dave$/,
    reason: "As above: dave is made, and joins video.",
  },
  {
    cases: /^users: a user the image has already/,
    key: /^(user\.www-data\.(groups|shell)|group\.adm)$/,
    sprout: /^(adm|\/bin\/bash|existed; members: debian,www-data)$/,
    reason:
      "A user the image has already gets the groups and shell its users: entry gives (usermod). cloud-init 22.4.2 logs \"already exists, skipping\" and changes only its password lock, sudo rules and keys, so the seed's groups and shell never apply.",
  },
  {
    cases: /^users: sudo true$/,
    key: /^sudoers\.(rules|modes)$/,
    sprout: /grace ALL=\(ALL\) NOPASSWD:ALL|^0440 root:root$/,
    reason: "As above: grace's rule is written because grace is made; frank's `sudo: true` gives no rule under either agent.",
  },
  {
    cases: /^users: expiredate unquoted/,
    key: /^user\.temp\.password-ageing$/,
    cloudInit: /^0:99999:7::$/,
    sprout: /^0:99999:7:5:\d+$/,
    reason:
      "An unquoted `expiredate: 2032-09-01` (a YAML date) and `inactive: 5` (a number) are applied as that day and that number of days. cloud-init 22.4.2 passes only strings to useradd and drops both without a word.",
  },
  {
    key: /^group\.netdev$/,
    cloudInit: /^created/,
    sprout: ABSENT,
    reason: "The built-in default user (no system_info.default_user) joins only those of Debian's default groups that exist in the image; cloud-init creates the missing ones (netdev on a minimal image).",
  },
  {
    key: /^user\.[^.]+\.groups$/,
    cloudInit: /(^|,)netdev(,|$)/,
    sprout: /^(?![\s\S]*netdev)/,
    reason: "As group.netdev: the default user is not put in a group the image does not have.",
  },
  {
    key: /^file:\/etc\/sudoers\.d$/,
    cloudInit: /^dir 0750 /,
    sprout: ABSENT,
    reason: "cloud-init chmods the sudo package's /etc/sudoers.d to 0750; sprout leaves the package's mode (0755) alone. The rules file itself is 0440 in both.",
  },
  {
    key: /^hosts$/,
    cloudInit: /^(?![\s\S]*127\.0\.1\.1)/,
    sprout: /(^|\n)127\.0\.1\.1 /,
    reason:
      "With manage_etc_hosts unset, sprout's set_hostname keeps a 127.0.1.1 line for the new hostname in /etc/hosts (every other line kept), so `sudo` and `hostname -f` resolve it; cloud-init leaves /etc/hosts alone. manage_etc_hosts: false turns it off.",
  },
  {
    cases: /preserve_hostname|cc_set_hostname\/example1|cc_update_hostname\/example[23]/,
    key: /^hostname\.(file|kernel)$/,
    sprout: /^(\(unchanged\)|localhost)$/,
    reason:
      "preserve_hostname: true in user-data keeps the hostname, as documented. cloud-init 22.4.2 sets the hostname from meta-data at the start of `cloud-init init`, before it reads the user-data, so user-data's preserve_hostname comes too late.",
  },
  {
    cases: /^hostname: prefer_fqdn_over_hostname with an FQDN local-hostname$/,
    key: /^hostname\.(file|kernel)$/,
    cloudInit: /^("node11\\n"|node11)$/,
    sprout: /^("node11\.cluster\.example\.org\\n"|node11\.cluster\.example\.org)$/,
    reason:
      "prefer_fqdn_over_hostname in user-data applies to the meta-data's name too. cloud-init 22.4.2 has already set the short name from meta-data before it reads the user-data, and its set_hostname then sees no change to make (with fqdn or hostname in the user-data it does apply it).",
  },
  {
    cases: /^hostname: (capitals and an underscore|longer than 63 characters)$/,
    key: /^(hostname\.file|status)$/,
    cloudInit: /^("(Web_01|a{70})\\n"|done)$/,
    sprout: /^("iid-hn-[23]-host\\n"|errors reported)$/,
    reason:
      "A cloud-config hostname that cannot be a host name (an underscore, a label over 63 characters) is reported, and the meta-data's name is written instead. cloud-init writes it to /etc/hostname as given, and hostname(1) refuses it, so the running name stays the meta-data's, and the next boot reads a name nothing can use.",
  },
  {
    key: /^authorized_keys:.*\/authorized_keys$/,
    cloudInit: /^$/,
    sprout: ABSENT,
    reason: "cloud-init writes an empty ~/.ssh/authorized_keys (and ~/.ssh) for root, the default user and new users when there are no keys; sprout writes the file only when there are keys. Who may log in is the same.",
  },
  {
    key: /^(authorized_keys:.*\/authorized_keys\.mode|file:.*\/\.ssh)$/,
    sprout: ABSENT,
    reason: "The mode and folder of the empty authorized_keys files above (a non-empty file missing in sprout is still reported by its content key).",
  },
  {
    cases: /cc_users_groups\/example5/,
    key: /./,
    reason:
      "selinux_user: cloud-init passes --selinux-user to useradd, which fails on a system without SELinux (Debian), so neither user is created and the boot reports an error; sprout ignores selinux_user on Debian (the module's detail says so) and creates the users.",
  },
  {
    cases: /cc_write_files\/example5/,
    key: /^file:\/etc\/nginx/,
    sprout: ABSENT,
    reason:
      "write_files with an owner that does not exist (nginx:nginx, no nginx installed): cloud-init writes the file as root:root and then fails on chown; sprout writes nothing and reports which owner is missing, so the file never exists with an owner the user did not ask for. Both report the error.",
  },
  {
    cases: /write_files source/,
    key: /^file:\/usr\/local\/bin\/hello$/,
    cloudInit: /""$/,
    reason: "write_files `source:` (fetch the content from a URL) is newer than cloud-init 22.4.2 (added in 23.1), which writes an empty file; sprout follows the newer documented behaviour.",
  },
  {
    cases: /byte order mark/,
    key: /^file:\/etc\/bom$/,
    cloudInit: ABSENT,
    reason: "A UTF-8 byte order mark before #cloud-config (some Windows editors add one): cloud-init does not recognise the header and ignores the user-data without an error; sprout skips the mark and applies the cloud-config.",
  },
  {
    cases: /a tab in the indentation|top-level list|user-data without a header|ec2: AWS, user-data answered with an HTML page/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "User-data that cannot be used (YAML that does not parse, a cloud-config that is not a mapping, a part of unknown type such as the HTML page a proxy answers in place of EC2 user-data) is logged by cloud-init as a warning and the boot reports done; sprout reports the boot degraded (`sprout status` exit 2) with the file, line and column, so the user learns that nothing of it was applied. Neither applies any of it.",
  },
  {
    cases: /no user-data at all/,
    key: /./,
    reason:
      "A NoCloud seed with meta-data and no user-data file: cloud-init requires both files and falls back to DataSourceNone (no hostname, no instance keys); sprout uses the meta-data alone.",
  },
  {
    cases: /runcmd: strings, lists, pipes, a failing entry/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "A runcmd entry that fails (`false`) with later ones that succeed: cloud-init runs runcmd as one script whose exit status is its last command's, so the failure goes unseen; sprout records each entry's exit status and reports every failure (the boot is degraded). The later entries run in both.",
  },
  {
    cases: /runcmd: an unquoted false/,
    key: /^file:\/var\/tmp\/order$/,
    cloudInit: ABSENT,
    reason:
      "A runcmd entry that is not a command (unquoted `false` is a YAML boolean): cloud-init cannot turn it into shell and drops the whole runcmd; sprout reports that entry and runs the others, as it does for an entry that fails. Both report the error.",
  },
  {
    cases: /ssh_authorized_keys as one string/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "A top-level ssh_authorized_keys written as one string, not a list: neither agent adds the key; cloud-init 22.4.2 says nothing, sprout reports it (newer cloud-init's schema check at boot reports it too).",
  },
  {
    cases: /jinja: an undefined variable/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "A jinja template that names a variable the instance data lacks: both render the same text (None, CI_MISSING_JINJA_VAR/<name>); cloud-init 22.4.2 only logs a warning, sprout reports the boot degraded, as newer cloud-init (23.4 and later) does for warnings (\"degraded done\").",
  },
  {
    cases: /docs cc_locale\/example[12]/,
    key: /^(status|file:\/etc\/default\/locale|file:\/etc\/alternate_path(\/locale)?|file:\/etc\/locale\.gen|file:\/usr\/lib\/locale\/locale-archive)$/,
    cloudInit: /^(\(absent\)|errors reported)$/,
    reason:
      "A locale the image has not generated (ar_AE, fr_CA): Debian's locale-gen ignores its arguments, so cloud-init's `locale-gen ar_AE` builds nothing and update-locale then refuses LANG=ar_AE (\"invalid locale settings\"): no LANG is written and the boot reports an error. sprout enables the locale in /etc/locale.gen (the line /usr/share/i18n/SUPPORTED gives), generates it and writes LANG as update-locale would.",
  },
  {
    cases: /cc_ca_certs|ca_certs:|ca-certs/,
    key: /^file:\/usr\/(local\/)?share\/ca-certificates\/cloud-init-ca-certs?(-\d+)?\.crt$|^file:\/etc\/ssl\/certs\/cloud-init-ca-certs?(-\d+)?\.pem$/,
    cloudInit: /^(\(absent\)|file 0644 root:root "|link -> \/usr\/share\/ca-certificates\/cloud-init-ca-certs\.crt$)/,
    sprout: /^(\(absent\)|file 0644 root:root "-----BEGIN CERTIFICATE-----|link -> \/usr\/local\/share\/ca-certificates\/cloud-init-ca-cert-\d+\.crt$)/,
    reason:
      "Where the certificates go: cloud-init 22.4.2 joins them into one /usr/share/ca-certificates/cloud-init-ca-certs.crt listed in /etc/ca-certificates.conf; sprout, as cloud-init 23.1 and later, writes each to its own /usr/local/share/ca-certificates/cloud-init-ca-cert-<n>.crt, the administrator's folder update-ca-certificates always reads. The link in /etc/ssl/certs is named after the file.",
  },
  {
    cases: /cc_ca_certs|ca_certs:|ca-certs/,
    key: /^file:\/etc\/ssl\/certs\/[0-9a-f]{8}\.\d+$/,
    cloudInit: /^(\(absent\)|link -> cloud-init-ca-certs\.pem)$/,
    sprout: /^link -> cloud-init-ca-cert-\d+\.pem$/,
    reason:
      "The hash links point to the certificate's own link (above). With two certificates in cloud-init 22.4.2's one file, openssl rehash skips that file, so neither certificate gets a hash link and programs that look CAs up in /etc/ssl/certs by hash (-CApath) do not find them; with one file per certificate each has its link.",
  },
  {
    cases: /cc_ca_certs|ca_certs:|ca-certs/,
    key: /^file:\/etc\/ca-certificates\.conf$/,
    cloudInit: /cloud-init-ca-certs\.crt\\n"$/,
    sprout: /^(\(absent\)|file 0644 root:root "[\s\S]*# Modified by cloud-init to deselect certs due to user-data\\n![\s\S]*)$/,
    reason:
      "cloud-init 22.4.2 adds its one certificate file to /etc/ca-certificates.conf, and for remove_defaults empties the file first (and deletes the package's certificates, below); sprout's files in /usr/local/share/ca-certificates need no entry, and remove_defaults deselects every entry with \"!\", as cloud-init 23.1 and later does, so a ca-certificates upgrade keeps them deselected.",
  },
  {
    cases: /cc_ca_certs|remove_defaults/,
    key: /^file:\/usr\/share\/ca-certificates\/mozilla$/,
    cloudInit: /^deleted$/,
    sprout: ABSENT,
    reason: "remove_defaults: cloud-init 22.4.2 deletes the ca-certificates package's own certificate files; sprout deselects them instead (above). Neither trusts them afterwards.",
  },
  {
    cases: /ca_certs: two company CAs/,
    key: /^file:\/etc\/ssl\/certs\/ca-certificates\.crt$/,
    reason:
      "The bundle holds the same certificates in the same order; cloud-init 22.4.2 joins the certificates of its one file with a newline, which leaves a blank line between them in the bundle.",
  },
  {
    cases: /docs cc_ca_certs\/example1/,
    key: /^(status|file:\/etc\/ssl\/certs\/ca-certificates\.crt)$/,
    cloudInit: /^(done|file 0644 root:root "single_line_cert\\n-----BEGIN CERTIFICATE-----\\nYOUR-ORGS-TRUSTED-CA-CERT-HERE)/,
    sprout: /^(errors reported|deleted)$/,
    reason:
      "The documented example's entries are placeholders, not certificates: cloud-init installs them as they are (the bundle then holds only that text, so nothing is trusted) and reports done; sprout reports each entry that is not a certificate and installs none, and with remove_defaults and nothing left to trust there is no bundle.",
  },
  {
    cases: /^apt: deprecated top-level apt_proxy$/,
    key: /^file:\/etc\/apt\/apt\.conf\.d\/90cloud-init-aptproxy$/,
    cloudInit: ABSENT,
    sprout: /^file 0644 root:root "Acquire::http::Proxy /,
    reason:
      "The deprecated top-level apt_proxy (and apt_mirror, apt_sources, ...): cloud-init 22.4.2 drops them whenever an apt: mapping exists, and Debian's /etc/cloud/cloud.cfg always has one (preserve_sources_list: true), so on Debian they do nothing; sprout applies them as the apt: keys they stand for (an apt: key of the same name wins).",
  },
  {
    cases: /^apt: /,
    key: /^file:\/var\/lib\/dpkg\/lock(-frontend)?$/,
    cloudInit: /^file 0640 root:root ""$/,
    sprout: ABSENT,
    reason:
      "After adding sources both agents run apt-get update; cloud-init's run also leaves dpkg's lock files (empty) on a machine that had none, sprout's leaves only apt's lists lock (/var/lib/apt/lists/lock, the same in both). dpkg creates these files at its first run anyway.",
  },
  {
    cases: /ntp: servers as a string|ntp: a server with a newline/,
    key: /^file:\/etc\/chrony\/chrony\.conf(\.dist)?$/,
    sprout: ABSENT,
    reason:
      "ntp.servers written as one string, not a list: cloud-init 22.4.2 loops over its letters and writes `server n iburst`, `server t iburst`, ... into chrony.conf (moving the package's file to .dist); sprout writes nothing and reports which key to fix. Every bad ntp entry (a host name with a space or newline, a template given as a path) is refused the same way, before any file changes.",
  },
  {
    cases: /ntp: servers as a string|ntp: a server with a newline/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason: "As the chrony.conf above: sprout reports the bad ntp.servers (the boot is degraded); cloud-init 22.4.2 only warns in its log (schema) and writes the broken file.",
  },
  {
    cases: /docs cc_mounts\/example1/,
    key: /^file:\/etc\/fstab$/,
    cloudInit: /\\nsdc\\t\/opt\/data\\t[\s\S]*\\nxvdh\\t\/opt\/data\\t/,
    sprout: /\\n\/dev\/sdc\\t\/opt\/data\\t[\s\S]*\\n\/dev\/xvdh\\t\/opt\/data\\t/,
    reason:
      "mounts: a device written without /dev/ (sdc, xvdh) that does not exist at boot: cloud-init 22.4.2 writes the bare name into /etc/fstab, which no mount can use; sprout writes /dev/sdc, as it does (and cloud-init does) for a device that exists, so the line mounts when the disk appears (nofail).",
  },
  {
    cases: /mounts: device names without \/dev/,
    key: /^file:\/etc\/fstab$/,
    cloudInit: /\\nvdb\\t\/data\\tauto\\tdefaults,nobootwait,comment=cloudconfig\\t0\\t2\\nxvdf\\t\/srv\\t/,
    sprout: /\\n\/dev\/vdb\\t\/data\\tauto\\tdefaults,nofail,comment=cloudconfig\\t0\\t2\\n\/dev\/xvdf\\t\/srv\\t/,
    reason:
      "mounts: as above for bare device names (vdb written as /dev/vdb); and the default options where systemd does not run the machine (these chroots): cloud-init 22.4.2 uses `defaults,nobootwait`, an Upstart option Debian's mount rejects (every such mount fails), sprout uses `defaults,nofail`. Under systemd both use nofail and _netdev; sprout names its own unit in x-systemd.requires.",
  },
  {
    cases: /docs cc_mounts\/example[12]/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "mounts: the swap file is made the same, but switching it on fails in these machines (a swap file on overlayfs), and in example 1 `mount -a` fails on /dev/ephemeral0 (no such disk, and no nofail); cloud-init 22.4.2 only logs warnings, sprout reports both (the boot is degraded) with swapon's and mount's own message.",
  },
  {
    cases: /mounts: tmpfs and a bind mount with every field given, unquoted numbers/,
    key: /^file:\/(etc\/fstab|data|mnt\/ramdisk)$/,
    cloudInit: ABSENT,
    reason:
      "mounts: unquoted numbers (0, 0) in an entry whose device is not a disk (tmpfs, a bind source, LABEL=): cloud-init 22.4.2 turns numbers into text only for devices it finds, so joining the line fails and the module writes nothing; sprout writes and mounts them, as cloud-init does for quoted numbers.",
  },
  {
    cases: /mounts: tmpfs and a bind mount with every field given, unquoted numbers/,
    key: /^status$/,
    cloudInit: /^errors reported$/,
    sprout: /^done$/,
    reason: "As above: cloud-init 22.4.2's mounts module fails on the unquoted numbers; sprout applies the entries.",
  },
  {
    cases: /mounts: an entry written as one string instead of a list/,
    key: /^file:\/(etc\/fstab|mnt\/tmp)$/,
    cloudInit: ABSENT,
    reason:
      "mounts: an entry that is not a list: cloud-init 22.4.2 fails the whole module (newer cloud-init skips the entry with a warning) and writes nothing; sprout reports the entry and applies the others. Both report the error.",
  },
  {
    cases: /swap: a file that is not a swap area already at the path/,
    key: /^file:\/(etc\/fstab|swapfile)$/,
    sprout: /^(\(absent\)|file 0644 root:root "the user's own data\\n")$/,
    reason:
      "swap: a file already at swap.filename that is not a swap area: cloud-init 22.4.2 allocates over it and runs mkswap on it (the user's data is gone) and adds it to /etc/fstab; sprout never overwrites it and reports it (remove the file or choose another filename). Newer cloud-init keeps an existing file too.",
  },
  {
    cases: /swap: a file that is not a swap area already at the path/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason: "As above: sprout reports the swap file it would not make; cloud-init 22.4.2 made it over the user's file (and could not switch it on here, which it only logs).",
  },
  {
    cases: /passwords: a yescrypt hash .* in the deprecated list/,
    key: /^user\.debian\.password$/,
    cloudInit: /^a password the seed does not give/,
    sprout: /^hash \$y\$/,
    reason:
      "A yescrypt hash ($y$, what mkpasswd and PAM make on Debian bookworm) in chpasswd.list: cloud-init 22.4.2 recognises only $1$, $2a$, $2y$, $5$ and $6$ as hashes and sets the hash text itself as a plain-text password, so nobody can log in with the password behind it; sprout sets it as the hash (also $2b$, $7$, $gy$).",
  },
  {
    cases: /passwords bad input: users that do not exist among good ones/,
    key: /^user\.debian\.password$/,
    cloudInit: /^locked, no password$/,
    sprout: /^hash \$6\$/,
    reason:
      "A user that does not exist among hashed passwords: `chpasswd -e` drops every line when one names an unknown user, so cloud-init sets none of the hashes; sprout leaves the unknown user out (and reports it) and sets the others. Both report the error; the plain-text ones are set by both.",
  },
  {
    cases: /passwords bad input: a malformed line in the deprecated list/,
    key: /^user\.user1\.password$/,
    cloudInit: /^locked, no password$/,
    sprout: /^password "good-one"/,
    reason: "A chpasswd.list line without a colon: cloud-init stops the whole module at it (nothing is set); sprout reports that line and sets the others. Both report the error.",
  },
  {
    cases: /passwords bad input: a plain password with the default type \(hash\)/,
    key: /^(user\.debian\.password|status)$/,
    cloudInit: /^(hash plain-but-typed-hash|done)$/,
    sprout: /^(locked, no password|errors reported)$/,
    reason:
      "chpasswd.users with a plain-text password and no type: type defaults to hash, and cloud-init writes the text into /etc/shadow as if it were a hash (no password matches it) and reports nothing; sprout sets nothing and reports the entry, saying to add type: text.",
  },
  {
    cases: /^keyboard: /,
    key: /^(file:\/etc\/default\/keyboard|status)$/,
    cloudInit: /^(\(absent\)|errors reported)$/,
    sprout: /^(file 0644 root:root "# KEYBOARD CONFIGURATION FILE[\s\S]*XKBLAYOUT=\\"de\\"[\s\S]*|done)$/,
    reason:
      "keyboard on Debian: cloud-init 22.4.2's Debian distro cannot set a keymap (the module fails with NotImplementedError, and newer releases need localectl, which a chroot or an image being built does not have); sprout writes the four XKB settings into /etc/default/keyboard as localectl's Debian patch does, keeping the file's other lines.",
  },
  {
    cases: /^apt: a source whose key was damaged/,
    key: /^(file:\/etc\/apt\/sources\.list\.d\/broken\.list|status)$/,
    cloudInit: /^(file 0644 root:root "deb https:\/\/broken\.example\.com\/debian bookworm main\\n"|done)$/,
    sprout: /^(\(absent\)|errors reported)$/,
    reason:
      "A source whose key does not decode (a character changed in copying): cloud-init 22.4.2 logs gpg's error, writes the source without its key (apt-get update then refuses that repository) and reports done; sprout writes neither, says what is wrong with the key, and reports the boot degraded. The good source next to it is the same in both.",
  },
  {
    cases: /^(network-config|ovf guestinfo: network-config)/,
    key: /^file:\/etc\/network\/interfaces\.d\/50-cloud-init$/,
    cloudInit: /\\n    dns \{'/,
    sprout: /^(?![\s\S]*    dns \{)/,
    reason:
      "v2 nameservers on a device: cloud-init 22.4.2 also writes the interface's nameservers as Python's repr of a dict (`dns {'nameservers': [...], 'search': [...]}`) into the stanza, an option no ifupdown hook reads; sprout leaves that line out. Every other line is the same (the nameservers are in dns-nameservers on the stanza and on lo in both).",
  },
  {
    cases: /set-name renaming a NIC/,
    key: /^(status|file:\/etc\/network\/interfaces\.d\/50-cloud-init|file:\/etc\/udev(\/rules\.d(\/70-persistent-net\.rules)?)?)$/,
    cloudInit: /^(errors reported|\(absent\))$/,
    reason:
      "v2 with match.macaddress, set-name and nameservers, on a machine whose NIC has another name now (the first boot): cloud-init 22.4.2 crashes in its local stage (KeyError: it looks the nameservers' interface up by the NIC's current name) and writes no network configuration at all; sprout renders it (the udev rule names the NIC at the next boot, and on the running system it is renamed at once).",
  },
  {
    cases: /^ec2: AWS, the metadata service turned off \(403\)$/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "An EC2 metadata service that is turned off (403 on the token request): both give up on it at once and boot with no datasource (None: no instance keys, no hostname, no user-data). cloud-init 22.4.2 only logs a warning; sprout reports the boot degraded, as for any datasource that was detected and then failed, so that someone notices.",
  },
  {
    cases: /^ec2: other cloud requiring IMDSv2 tokens/,
    key: /^(authorized_keys:\/(root|home\/debian)\/\.ssh\/authorized_keys|hostname\.(file|kernel)|hosts|file:\/var\/tmp\/ec2-v2-elsewhere)$/,
    reason:
      "A metadata service that requires IMDSv2 session tokens on a machine whose firmware does not say AWS (an EC2 copy elsewhere, or DMI hidden): cloud-init 22.4.2 asks for a token only on AWS, so its IMDSv1 reads get 401 until max_wait runs out and it boots with no datasource; sprout asks every service for a token first and reads the instance (keys, hostname, user-data).",
  },
  {
    cases: /^ec2: other cloud, placement without region/,
    key: /^file:\/etc\/ec2-facts$/,
    cloudInit: /region=nova-az1 az=nova-az1a cloud=unknown/,
    sprout: /region=None az=nova-az1a cloud=ec2/,
    reason:
      "Instance data of an EC2 copy that is not AWS: v1.cloud_name is `ec2` in sprout (`aws` on AWS), where cloud-init 22.4.2 says `unknown`; and v1.region comes from the identity document or placement/region, or from an availability zone shaped as AWS names them (us-east-1a -> us-east-1). cloud-init drops the zone's last letter whatever the zone is (OpenStack's `nova` would be region `nov`); sprout leaves the region unset rather than make one up.",
  },
  {
    cases: /^ec2: AWS, identity document .* block-device-mapping with ephemeral0/,
    key: /^file:\/etc\/fstab$/,
    cloudInit: ABSENT,
    sprout: /\/dev\/sdb\\t\/mnt\\tauto\\tdefaults,nofail,comment=cloudconfig\\t0\\t2\\n"$/,
    reason:
      "Harness: the meta-data maps ephemeral0 to sdb, which this machine does not have. Both agents leave out a mapped ephemeral0 that does not exist (cloud-init's LP: #744019), but sprout decides that from /sys/class/block, which the compat chroots lack (as under --root: it cannot tell, and writes the nofail line); cloud-init checks /dev/sdb. On a booted machine, where /sys/class/block exists, sprout leaves it out too (modules/mounts/devices.ts, deviceView).",
  },
  {
    cases: /^ovf: two public keys separated by &#10;$/,
    key: /^authorized_keys:\/root\/\.ssh\/authorized_keys$/,
    cloudInit: /\nssh-rsa /,
    sprout: /^(?![\s\S]*\nssh-)/,
    reason:
      "OVF public-keys with several keys, one per line: cloud-init takes the property as one key and puts disable_root's options (no-port-forwarding,...,command=\"echo 'Please login as the user ...'\") before its first line only, so root can log in with every other key; sprout puts them before each key. The default user's keys are the same.",
  },
  {
    cases: /^ovf: password (for the default user|with user-data chpasswd expire false)/,
    key: /^user\.debian\.password$/,
    cloudInit: /^password "Ovf-Passw0rd(-2)?" \(yescrypt\)$/,
    sprout: /^password "Ovf-Passw0rd(-2)?" \(sha512crypt\)$/,
    reason:
      "The OVF environment's password: sprout hashes it (SHA-512 crypt) as it reads the environment, so the plain text is in none of its files, and sets that hash; cloud-init keeps the plain text (in its cached datasource object) and gives it to chpasswd, which hashes with the image's PAM scheme (yescrypt on bookworm). The same password logs in, and expires alike.",
  },
  {
    cases: /^ovf: network-config property/,
    key: /^file:\/etc\/(network\/interfaces\.d\/50-cloud-init|udev\/rules\.d\/70-persistent-net\.rules)$/,
    reason:
      "The OVF network-config property in the seed file (/var/lib/cloud/seed/ovf-env.xml): cloud-init reads the property only from the ISO and guestinfo transports, not from the seed file, and renders its DHCP fallback; sprout reads the environment alike from every transport, so a seed file does what the ISO it was copied from does. The `ovf guestinfo:` cases compare the property itself.",
  },
  {
    cases: /^ovf guestinfo: network-config property without the network: key$/,
    key: /^file:\/etc\/(network\/interfaces\.d\/50-cloud-init|udev\/rules\.d\/70-persistent-net\.rules)$/,
    reason:
      "An OVF network-config property that is the configuration itself (version: 2 at the top, as a NoCloud network-config file is written) rather than under a network: key: cloud-init looks only under network:, ignores it without a word and renders its DHCP fallback; sprout takes both forms, as both agents do for a NoCloud network-config.",
  },
  {
    cases: /^module lists: cloud_init_modules without set_hostname, users-groups and ssh$/,
    key: /^status$/,
    cloudInit: /^errors reported$/,
    sprout: /^done$/,
    reason:
      "users-groups left out of cloud_init_modules: neither agent makes the users. cloud-init's ssh-authkey-fingerprints (a final module sprout does not have) then looks them up, fails (getpwnam: name not found) and cloud-init reports an error; sprout has nothing that failed.",
  },
  {
    cases: /^ovf: truncated document/,
    key: /^status$/,
    cloudInit: /^done$/,
    sprout: /^errors reported$/,
    reason:
      "An OVF environment that is not well-formed XML (cut off): both fall back to no datasource; cloud-init logs the parser's traceback and reports done, sprout reports the boot degraded with the file, line and column where the XML breaks.",
  },
  {
    cases: /^ovf: (a Property without a value attribute|key and value attributes without a prefix)/,
    key: /^hostname\.(file|kernel)$/,
    cloudInit: /^(\(unchanged\)|localhost)$/,
    reason:
      "An OVF environment with a Property that has no oe:value, or with key and value attributes written without the oe: prefix: cloud-init's reader fails on the first such Property (AttributeError, logged) and falls back to no datasource, reporting done, so none of the environment is used (no hostname, no keys, no user-data); sprout reads a missing value as empty and an attribute by its name whatever its prefix, and uses the environment.",
  },
];
