// The differential cases: cloud-init's own module documentation examples (where their
// effect shows in a chroot without network) and seeds written the way people write
// them. Each is booted by cloud-init and by sprout; test/compat/intentional.ts lists
// the differences that are on purpose.
import { gzipSync } from "node:zlib";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ImdsMockOptions } from "../imds-mock/server";
import { EC2_CASES } from "./cases-ec2";
import type { Seed } from "./machine";
import { OVF_CASES } from "./cases-ovf";

export interface CompatCase extends Omit<Seed, "userData"> {
  name: string;
  /** User-data, or a function of the 127.0.0.1 server's base URL for cases that fetch. */
  userData?: string | Uint8Array | ((url: string) => string);
  /** Files the 127.0.0.1 server serves (for #include and the like). */
  serve?: Record<string, string>;
  /**
   * The plain-text passwords the seed sets (password:, chpasswd): a hash in /etc/shadow
   * that verifies against one compares as that password, whatever its salt; any other
   * hash not written in the seed as "a password the seed does not give" (RANDOM).
   */
  passwords?: string[];
  /**
   * An EC2 metadata service for this case: test/imds-mock started on 127.0.0.1 with these
   * options before each boot (a fresh one per agent) and stopped after; its URL becomes
   * the seed's ec2MetadataUrl. Only for cases on the host's network namespace (not
   * offline, no nics or network-config): a namespace of its own cannot reach it.
   */
  imds?: ImdsMockOptions;
}

// shared/ sits beside the repository (as test/helpers/module-context.ts finds it).
const CORPUS = resolve(__dirname, "../../../shared/corpus/cloud-init/module-docs");
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHhDq4vJ1oWd4Vdo0ZqgQ0CUq1nI0m2bRk2Jm4QrSx7 alice@laptop";
const KEY_B = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDZcompatkeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@desk";
const META_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMetaDataKeyFromTheCloudXXXXXXXXXXXXXXXXXXXXX cloud-key";
const HASH = "$6$compatsalt$QTf2wo8eT2g5.gd0Wor1OZosYXKoOJtFix/cv1hc.HPyJ4ruO8m.fnILZarfXUhbAhmNOG2UktOVwN/wu1lwn0";
const meta = (id: string, extra = "") => `instance-id: ${id}\nlocal-hostname: ${id}-host\n${extra}`;
const metaWithKey = (id: string) => meta(id, `public-keys:\n  - ${META_KEY}\n`);
const seedFile = (name: string) => readFileSync(join(__dirname, "seeds", name), "utf8");
const ntpFixture = (name: string) => readFileSync(join(__dirname, "../../modules/ntp/fixtures", name), "utf8");

/**
 * cloud-init's module-docs examples whose effect a chroot without network shows.
 * Skipped, with the reason:
 * - cc_package_update_upgrade_install/*: installs packages from the network.
 * - cc_power_state_change/*: powers off or reboots the machine.
 * - cc_growpart/*, cc_resizefs/*: need a real disk (tested in sprout's own tests on loop devices).
 * - cc_phone_home/*: posts to example.com, not 127.0.0.1.
 * - cc_rsyslog/*: the remotes are non-local addresses and example2/3 name paths and a
 *   package of cloud-init's own; sprout's rsyslog module has its own tests against a real rsyslogd.
 * - cc_write_files/example6: fetches from gitlab.example.com (a local `source:` case is below).
 * - cc_users_groups/example3 and 7: ssh_import_id fetches keys from GitHub/Launchpad.
 * - cc_final_message: only writes to the console and a log (timestamps, versions).
 */
const SKIPPED_DOCS = /^(cc_package_update_upgrade_install|cc_power_state_change|cc_growpart|cc_resizefs|cc_phone_home|cc_rsyslog|cc_final_message)\/|^cc_write_files\/example6|^cc_users_groups\/example[37]/;

function docCases(): CompatCase[] {
  const out: CompatCase[] = [];
  let n = 0;
  for (const mod of readdirSync(CORPUS).sort()) {
    for (const f of readdirSync(join(CORPUS, mod)).sort()) {
      const name = `${mod}/${f.replace(/\.yaml$/, "")}`;
      if (SKIPPED_DOCS.test(name)) continue;
      n += 1;
      out.push({ name: `docs ${name}`, metaData: metaWithKey(`iid-doc-${n}`), userData: readFileSync(join(CORPUS, mod, f), "utf8") });
    }
  }
  return out;
}

const realWorld: CompatCase[] = [
  {
    name: "aws-style users: default plus named users, sudo string and list, groups string and list",
    metaData: metaWithKey("iid-users-1"),
    userData: `#cloud-config
users:
  - default
  - name: alice
    gecos: Alice Example
    groups: sudo, adm
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - ${KEY_A}
  - name: bob
    groups: [users, video]
    sudo: ["ALL=(ALL) NOPASSWD:/usr/bin/systemctl", "ALL=(ALL) ALL"]
    lock_passwd: false
    passwd: ${HASH}
    ssh_authorized_keys:
      - ${KEY_B}
  - name: svc
    system: true
    shell: /usr/sbin/nologin
    homedir: /srv/svc
`,
  },
  {
    name: "openstack-style: ssh_authorized_keys at the top, disable_root false, ssh_pwauth true",
    metaData: metaWithKey("iid-users-2"),
    userData: `#cloud-config
disable_root: false
ssh_pwauth: true
ssh_authorized_keys:
  - ${KEY_A}
`,
  },
  { name: "ssh_pwauth false", metaData: meta("iid-pwauth-f"), userData: "#cloud-config\nssh_pwauth: false\n" },
  { name: "ssh_pwauth unchanged", metaData: meta("iid-pwauth-u"), userData: '#cloud-config\nssh_pwauth: "unchanged"\n' },
  { name: "ssh_pwauth yes (YAML 1.1 boolean)", metaData: meta("iid-pwauth-y"), userData: "#cloud-config\nssh_pwauth: yes\n" },
  {
    name: "user with lock_passwd default and plain_text_passwd absent; user without default",
    metaData: metaWithKey("iid-users-3"),
    userData: `#cloud-config
users:
  - name: ops
    groups: adm
    sudo: false
    ssh_authorized_keys: [${JSON.stringify(KEY_A)}]
`,
  },
  {
    name: "write_files: b64, gzip, owner, permissions as string, int and octal",
    metaData: meta("iid-wf-1"),
    userData: `#cloud-config
write_files:
  - path: /etc/app/b64.conf
    encoding: b64
    content: ${Buffer.from("from base64\n").toString("base64")}
  - path: /etc/app/gz.bin
    encoding: gzip
    content: !!binary |
      ${gzipSync(Buffer.from("from gzip\n")).toString("base64")}
  - path: /etc/app/gz+b64.conf
    encoding: gz+base64
    content: ${gzipSync(Buffer.from("gz plus base64\n")).toString("base64")}
  - path: /etc/app/str-perm
    content: string permissions
    permissions: "0600"
  - path: /etc/app/int-perm
    content: int permissions
    permissions: 420
  - path: /etc/app/octal-perm
    content: unquoted octal
    permissions: 0755
  - path: /etc/app/owned
    content: owned by nobody
    owner: nobody:nogroup
  - path: /etc/app/empty
`,
  },
  {
    name: "write_files: append, defer (owner created by users), existing file replaced",
    metaData: meta("iid-wf-2"),
    files: { "/etc/motd": "Welcome to the image\n" },
    userData: `#cloud-config
users:
  - default
  - name: appuser
write_files:
  - path: /etc/motd
    content: "managed by cloud-config\\n"
    append: true
  - path: /home/appuser/app.env
    content: "APP=1\\n"
    owner: appuser:appuser
    permissions: '0640'
    defer: true
  - path: /etc/replaced.conf
    content: "new\\n"
`,
  },
  {
    name: "runcmd: strings, lists, pipes, a failing entry in the middle",
    metaData: meta("iid-runcmd"),
    userData: `#cloud-config
runcmd:
  - echo one >> /var/tmp/order
  - [sh, -c, "echo two >> /var/tmp/order"]
  - "false"
  - echo three | tr a-z A-Z >> /var/tmp/order
  - 'echo "$HOME $PATH" > /var/tmp/env'
  - [touch, "/var/tmp/with space"]
`,
  },
  {
    name: "runcmd: a multi-line block script and environment",
    metaData: meta("iid-runcmd-block"),
    userData: `#cloud-config
runcmd:
  - |
    set -e
    mkdir -p /opt/site
    cat > /opt/site/index.html <<'HTML'
    <h1>hello from $(hostname)</h1>
    HTML
    for i in 1 2 3; do echo "line $i"; done > /opt/site/lines
  - [sh, -c, 'umask; id -un; pwd; echo "HOME=$HOME"' ]
  - sh -c 'umask; id -un; pwd' > /var/tmp/context
`,
  },
  {
    name: "typical first lines of a cloud seed: package_update false, growpart off, resize_rootfs false",
    metaData: meta("iid-typical"),
    userData: `#cloud-config
package_update: false
package_upgrade: false
growpart:
  mode: "off"
resize_rootfs: false
hostname: app01
fqdn: app01.prod.example.net
manage_etc_hosts: true
users:
  - default
ssh_pwauth: false
disable_root: true
`,
  },
  {
    name: "runcmd: an unquoted false (a YAML boolean, not a command)",
    metaData: meta("iid-runcmd-bool"),
    userData: "#cloud-config\nruncmd:\n  - echo before >> /var/tmp/order\n  - false\n  - echo after >> /var/tmp/order\n",
  },
  {
    name: "bootcmd before runcmd, cloud-init-per",
    metaData: meta("iid-bootcmd"),
    userData: `#cloud-config
bootcmd:
  - echo bootcmd >> /var/tmp/order
  - [cloud-init-per, once, marker, sh, -c, "echo per-once >> /var/tmp/order"]
runcmd:
  - echo runcmd >> /var/tmp/order
`,
  },
  {
    name: "shell script user-data (#!/bin/bash)",
    metaData: meta("iid-script"),
    userData: `#!/bin/bash
set -e
echo "script as $(id -un) in $PWD" > /var/tmp/script-ran
mkdir -p /opt/app && echo ok > /opt/app/state
`,
  },
  { name: "MIME multipart: cloud-config, shell script and boothook (python email)", metaData: meta("iid-mime"), userData: seedFile("mime-multipart.txt") },
  { name: "MIME multipart with base64 utf-8 parts", metaData: meta("iid-mime-b64"), userData: seedFile("mime-base64.txt") },
  {
    name: "#include from a server on 127.0.0.1",
    metaData: meta("iid-include"),
    serve: {
      "part1.yaml": "#cloud-config\nwrite_files:\n  - path: /etc/included/one\n    content: included\n",
      "part2.sh": "#!/bin/sh\necho included-script > /var/tmp/included-script\n",
    },
    userData: (url) => `#include\n${url}/part1.yaml\n# a comment line\n${url}/part2.sh\n`,
  },
  {
    name: "gzip-compressed user-data",
    metaData: meta("iid-gzip"),
    userData: gzipSync(Buffer.from("#cloud-config\nwrite_files:\n  - path: /etc/from-gzip\n    content: gz\n")),
  },
  {
    name: "jinja template with v1.local_hostname and ds.meta_data",
    metaData: meta("iid-jinja", "custom: value-from-meta\n"),
    userData: `## template: jinja
#cloud-config
write_files:
  - path: /etc/jinja.out
    content: |
      host={{ v1.local_hostname }}
      id={{ v1.instance_id }}
      custom={{ ds.meta_data.custom }}
      {% if v1.local_hostname.startswith("iid") %}starts-with-iid{% endif %}
`,
  },
  { name: "manage_etc_hosts true", metaData: meta("iid-hosts-t"), userData: "#cloud-config\nhostname: web01\nfqdn: web01.example.com\nmanage_etc_hosts: true\n" },
  { name: "manage_etc_hosts localhost", metaData: meta("iid-hosts-l"), userData: "#cloud-config\nhostname: web02\nmanage_etc_hosts: localhost\n" },
  { name: "fqdn with prefer_fqdn_over_hostname", metaData: meta("iid-fqdn"), userData: "#cloud-config\nfqdn: db1.internal.example\nprefer_fqdn_over_hostname: true\n" },
  { name: "fqdn alone", metaData: meta("iid-fqdn2"), userData: "#cloud-config\nfqdn: db2.internal.example\n" },
  {
    name: "jinja: v1.local_hostname is the short name of an FQDN local-hostname",
    metaData: "instance-id: iid-jinja-short\nlocal-hostname: app7.prod.example.net\n",
    userData: '## template: jinja\n#cloud-config\nwrite_files:\n  - path: /etc/jinja-host\n    content: "{{ v1.local_hostname }} {{ ds.meta_data.local_hostname }}"\n',
  },
  { name: "meta-data local-hostname as an IPv4 address", metaData: "instance-id: iid-ip-host\nlocal-hostname: 10.20.30.40\n", userData: "#cloud-config\n{}\n" },
  { name: "hostname only from meta-data local-hostname", metaData: "instance-id: iid-md-host\nlocal-hostname: md-only.example.org\n", userData: "#cloud-config\n{}\n" },
  { name: "hostname: given as an FQDN", metaData: meta("iid-hn-1"), userData: "#cloud-config\nhostname: web01.example.com\n" },
  { name: "hostname: capitals and an underscore", metaData: meta("iid-hn-2"), userData: "#cloud-config\nhostname: Web_01\n" },
  { name: "hostname: longer than 63 characters", metaData: meta("iid-hn-3"), userData: `#cloud-config\nhostname: ${"a".repeat(70)}\n` },
  { name: "hostname: an unquoted number", metaData: meta("iid-hn-4"), userData: "#cloud-config\nhostname: 12345\n" },
  { name: "hostname: hostname and fqdn that disagree", metaData: meta("iid-hn-5"), userData: "#cloud-config\nhostname: alpha\nfqdn: beta.example.com\nmanage_etc_hosts: true\n" },
  {
    name: "hostname: user-data's short hostname over an FQDN local-hostname, manage_etc_hosts true",
    metaData: "instance-id: iid-hn-6\nlocal-hostname: node9.cluster.example.org\n",
    userData: "#cloud-config\nhostname: gateway\nmanage_etc_hosts: true\n",
  },
  { name: "hostname: an FQDN local-hostname alone with manage_etc_hosts true", metaData: "instance-id: iid-hn-7\nlocal-hostname: node10.cluster.example.org\n", userData: "#cloud-config\nmanage_etc_hosts: true\n" },
  { name: "hostname: prefer_fqdn_over_hostname with an FQDN local-hostname", metaData: "instance-id: iid-hn-8\nlocal-hostname: node11.cluster.example.org\n", userData: "#cloud-config\nprefer_fqdn_over_hostname: true\n" },
  { name: "timezone", metaData: meta("iid-tz"), userData: "#cloud-config\ntimezone: Europe/Berlin\n" },
  { name: "timezone that does not exist", metaData: meta("iid-tz-bad"), userData: "#cloud-config\ntimezone: Mars/Olympus\n" },
  // YAML as people really write it.
  { name: "yaml: a tab in the indentation", metaData: meta("iid-tab"), userData: "#cloud-config\nruncmd:\n\t- touch /var/tmp/tab\n" },
  { name: "yaml: a key repeated (later wins)", metaData: meta("iid-dupkey"), userData: "#cloud-config\nruncmd:\n  - echo first > /var/tmp/dup\nruncmd:\n  - echo second > /var/tmp/dup\n" },
  {
    name: "yaml: yes/no/on/off booleans",
    metaData: metaWithKey("iid-bools"),
    userData: "#cloud-config\nssh_pwauth: no\ndisable_root: off\nwrite_files:\n  - path: /etc/bools\n    content: x\n    append: on\n",
  },
  { name: "yaml: a byte order mark", metaData: meta("iid-bom"), userData: "\uFEFF#cloud-config\nwrite_files:\n  - path: /etc/bom\n    content: bom\n" },
  { name: "yaml: CRLF line endings", metaData: meta("iid-crlf"), userData: "#cloud-config\r\nwrite_files:\r\n  - path: /etc/crlf\r\n    content: crlf\r\nruncmd:\r\n  - echo crlf > /var/tmp/crlf\r\n" },
  { name: "yaml: a top-level list instead of a mapping", metaData: meta("iid-list"), userData: "#cloud-config\n- runcmd: [touch /var/tmp/list]\n" },
  { name: "yaml: an empty #cloud-config", metaData: meta("iid-empty"), userData: "#cloud-config\n" },
  { name: "no user-data at all", metaData: metaWithKey("iid-none") },
  { name: "yaml: #cloud-config with a trailing space and no newline", metaData: meta("iid-trail"), userData: "#cloud-config \nwrite_files: [{path: /etc/trail, content: t}]" },
  { name: "user-data without a header", metaData: meta("iid-noheader"), userData: "write_files:\n  - path: /etc/noheader\n    content: x\n" },
  {
    name: "vendor-data and user-data merged (user wins, lists replaced)",
    metaData: meta("iid-vendor"),
    vendorData: "#cloud-config\ntimezone: UTC\nruncmd:\n  - echo vendor > /var/tmp/vendor\nwrite_files:\n  - path: /etc/vendor\n    content: vendor\n",
    userData: "#cloud-config\ntimezone: Europe/Paris\nruncmd:\n  - echo user > /var/tmp/user\n",
  },
  { name: "vendor-data shell script", metaData: meta("iid-vendor-sh"), vendorData: "#!/bin/sh\necho vendor-script > /var/tmp/vendor-script\n", userData: "#cloud-config\n{}\n" },
  {
    name: "groups key with members and users in a new group",
    metaData: meta("iid-groups"),
    userData: "#cloud-config\ngroups:\n  - devs: [root]\n  - ops\nusers:\n  - default\n  - name: carol\n    primary_group: devs\n    groups: ops\n",
  },
  {
    name: "the default user renamed in user-data (user: key)",
    metaData: metaWithKey("iid-user-key"),
    userData: "#cloud-config\nuser:\n  name: admin\n  shell: /bin/sh\n",
  },
  {
    name: "assorted: a group Debian lacks (wheel), a key with options, owner without group, uppercase hostname",
    metaData: meta("iid-assorted"),
    userData: `#cloud-config
hostname: Web01
timezone: UTC
users:
  - default
  - name: deploy
    groups: wheel, docker
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - 'from="10.0.0.0/8",no-agent-forwarding ${KEY_A}'
write_files:
  - path: /root/.config/app/settings.ini
    owner: root
    content: |
      [main]
      debug = false
`,
  },
  {
    name: "ssh_authorized_keys as one string instead of a list",
    metaData: meta("iid-keys-string"),
    userData: `#cloud-config\nssh_authorized_keys: ${KEY_A}\nusers:\n  - default\n  - name: solo\n    ssh_authorized_keys: ${KEY_B}\n`,
  },
  {
    name: "yaml: anchors, aliases and merge keys (<<)",
    metaData: meta("iid-anchors"),
    userData: `#cloud-config
x-admin: &admin
  shell: /bin/bash
  groups: [sudo]
  sudo: ALL=(ALL) NOPASSWD:ALL
users:
  - default
  - <<: *admin
    name: ann
  - <<: *admin
    name: ben
    shell: /bin/sh
write_files:
  - &conf
    path: /etc/anchors/a.conf
    content: shared
  - <<: *conf
    path: /etc/anchors/b.conf
`,
  },
  {
    name: "older spellings: hyphenated keys, permissions '644' without a leading zero",
    metaData: metaWithKey("iid-hyphens"),
    userData: `#cloud-config
users:
  - default
  - name: legacy
    lock-passwd: false
    ssh-authorized-keys:
      - ${KEY_B}
write_files:
  - path: /etc/legacy.conf
    content: legacy
    permissions: '644'
`,
  },
  {
    name: "jinja: an undefined variable",
    metaData: meta("iid-jinja-undef"),
    userData: `## template: jinja
#cloud-config
write_files:
  - path: /etc/jinja-undef.out
    content: "region={{ v1.region }} missing={{ ds.meta_data.no_such_key }}"
`,
  },
  { name: "manage_etc_hosts template", metaData: meta("iid-hosts-tpl"), userData: "#cloud-config\nfqdn: tpl.example.com\nmanage_etc_hosts: template\n" },
  // ntp: cc_ntp's two documented examples (22.4.2's module docs, in modules/ntp/fixtures)
  // and seeds as people write them. chrony is in the cloud-init layer (its init script
  // set aside: no daemon runs); the machines are offline, so the default pools and an
  // apt-get for a missing client reach nothing.
  { name: "ntp: docs cc_ntp/example1 (chrony)", metaData: meta("iid-ntp-doc1"), offline: true, userData: ntpFixture("docs-example1.yaml") },
  { name: "ntp: docs cc_ntp/example2 (a client of your own, its package not installable offline)", metaData: meta("iid-ntp-doc2"), offline: true, userData: ntpFixture("docs-example2.yaml") },
  {
    name: "ntp: servers and pools, client auto",
    metaData: meta("iid-ntp-auto"),
    offline: true,
    userData: "#cloud-config\nntp:\n  servers:\n    - 192.0.2.123\n    - ntp1.example.com\n  pools: [pool.example.com]\n",
  },
  { name: "ntp: empty (default pools)", metaData: meta("iid-ntp-empty"), offline: true, userData: "#cloud-config\nntp:\n" },
  { name: "ntp: enabled false", metaData: meta("iid-ntp-off"), offline: true, userData: "#cloud-config\nntp:\n  enabled: false\n  servers: [ntp.example.com]\n" },
  { name: "ntp: servers as a string, not a list", metaData: meta("iid-ntp-str"), offline: true, userData: "#cloud-config\nntp:\n  servers: ntp.example.com\n" },
  { name: "ntp: a server with a newline (a second directive)", metaData: meta("iid-ntp-nl"), offline: true, userData: '#cloud-config\nntp:\n  servers: ["ntp.example.com\\nallow all"]\n' },
  { name: "ntp: openntpd (no Debian template)", metaData: meta("iid-ntp-openntpd"), offline: true, userData: "#cloud-config\nntp:\n  ntp_client: openntpd\n" },
  { name: "ntp: an unknown ntp_client", metaData: meta("iid-ntp-unknown"), offline: true, userData: "#cloud-config\nntp:\n  ntp_client: chronyy\n  servers: [ntp.example.com]\n" },
  {
    name: "a locked user with a password hash",
    metaData: meta("iid-locked"),
    userData: `#cloud-config\nusers:\n  - name: locked\n    lock_passwd: true\n    passwd: ${HASH}\n`,
  },
  {
    name: "a broken write_files entry does not stop the rest",
    metaData: meta("iid-wf-bad"),
    userData: "#cloud-config\nwrite_files:\n  - content: no path\n  - path: /etc/good\n    content: good\n  - path: /etc/bad-b64\n    encoding: b64\n    content: '%%%not base64'\n",
  },
  {
    name: "write_files source from a server on 127.0.0.1",
    metaData: meta("iid-wf-src"),
    serve: { "hello.txt": "served over http\n" },
    userData: (url) => `#cloud-config\nwrite_files:\n  - path: /usr/local/bin/hello\n    source:\n      uri: ${url}/hello.txt\n    permissions: '0755'\n`,
  },
];

// Two throwaway CA certificates (test/fixtures/ca-certs/README.md), indented as a YAML block under `- |`.
const pemBlock = (file: string, indent: string) => readFileSync(join(__dirname, "../fixtures/ca-certs", file), "utf8").trimEnd().split("\n").join(`\n${indent}`);

/**
 * locale and ca_certs: cloud-init's module documentation examples (the corpus has
 * none for these modules, so they are written out here as the docs give them) and
 * seeds the way people write them. The machines have Debian's `locales` (nothing
 * generated, /etc/locale.gen all commented out) and `ca-certificates`.
 */
const localeAndCaCerts: CompatCase[] = [
  { name: "docs cc_locale/example1: locale ar_AE", metaData: meta("iid-locale-doc1"), userData: "#cloud-config\n# Set the locale to ar_AE\nlocale: ar_AE\n" },
  {
    name: "docs cc_locale/example2: locale fr_CA in locale_configfile",
    metaData: meta("iid-locale-doc2"),
    userData: "#cloud-config\n# Set the locale to fr_CA in /etc/alternate_path/locale\nlocale: fr_CA\nlocale_configfile: /etc/alternate_path/locale\n",
  },
  { name: "seed_random: base64 data appended to a file", metaData: meta("iid-seed-file"), files: { "/var/tmp/seed": "before|" }, userData: "#cloud-config\nrandom_seed:\n  file: /var/tmp/seed\n  data: bXkgcmFuZG9tIHN0cmluZw==\n  encoding: b64\n" },
  { name: "seed_random: raw data to /dev/urandom (the default file)", metaData: meta("iid-seed-urandom"), userData: "#cloud-config\nrandom_seed:\n  data: some entropy from the seed\n" },
  { name: "apt_pipelining: false (cloud-init's example)", metaData: meta("iid-pipe-off"), userData: "#cloud-config\napt_pipelining: false\n" },
  { name: "apt_pipelining: a depth", metaData: meta("iid-pipe-3"), userData: "#cloud-config\napt_pipelining: 3\n" },
  { name: "apt_pipelining: os", metaData: meta("iid-pipe-os"), userData: "#cloud-config\napt_pipelining: os\n" },
  { name: "keyboard: cloud-init's documented example", metaData: meta("iid-kbd"), userData: "#cloud-config\nkeyboard:\n  layout: de\n  model: pc105\n  variant: nodeadkeys\n  options: compose:rwin\n" },
  { name: "locale: C.UTF-8", metaData: meta("iid-locale-c"), userData: "#cloud-config\nlocale: C.UTF-8\n" },
  {
    name: "locale: en_US.UTF-8 on an image whose /etc/locale.gen enables it",
    metaData: meta("iid-locale-enabled"),
    files: { "/etc/locale.gen": "# image build: the locales we want\nen_US.UTF-8 UTF-8\n" },
    userData: "#cloud-config\nlocale: en_US.UTF-8\n",
  },
  { name: "locale: a typo (en_UK.UTF-8)", metaData: meta("iid-locale-typo"), userData: "#cloud-config\nlocale: en_UK.UTF-8\n" },
  {
    name: "docs cc_ca_certs/example1: remove_defaults and placeholder certificates",
    metaData: meta("iid-ca-doc1"),
    userData: `#cloud-config
ca_certs:
  remove_defaults: true
  trusted:
    - single_line_cert
    - |
      -----BEGIN CERTIFICATE-----
      YOUR-ORGS-TRUSTED-CA-CERT-HERE
      -----END CERTIFICATE-----
`,
  },
  {
    name: "ca_certs: two company CAs added to the defaults",
    metaData: meta("iid-ca-two"),
    userData: `#cloud-config
ca_certs:
  trusted:
    - |
      ${pemBlock("ca1.pem", "      ")}
    - |
      ${pemBlock("ca2.pem", "      ")}
`,
  },
  {
    name: "ca_certs: remove_defaults with the company CA only",
    metaData: meta("iid-ca-only"),
    userData: `#cloud-config
ca_certs:
  remove_defaults: true
  trusted:
  - |
   ${pemBlock("ca1.pem", "   ")}
`,
  },
  {
    name: "ca-certs (deprecated spelling) with one CA",
    metaData: meta("iid-ca-dash"),
    userData: `#cloud-config
ca-certs:
  trusted:
    - |
      ${pemBlock("ca2.pem", "      ")}
`,
  },
];

// apt: seeds as people write them for cloud-init's apt_configure, on a machine without
// a network (offline: apt-get update after new sources fails fast, and nothing leaves
// the machine). The key is a throwaway one made for sprout's tests.
const REPO_KEY = readFileSync(join(__dirname, "../../modules/apt_configure/fixtures/repo-key.asc"), "utf8");
const indented = (text: string, n: number) => text.trimEnd().split("\n").map((l) => (l ? " ".repeat(n) + l : l)).join("\n");
const aptCases: CompatCase[] = [
  {
    name: "apt: proxies and apt.conf",
    metaData: meta("iid-apt-proxy"),
    offline: true,
    userData: `#cloud-config
apt:
  proxy: http://proxy.example.com:3128/
  https_proxy: "http://proxy.example.com:3129/"
  ftp_proxy: ftp://proxy.example.com:2121/
  conf: |
    APT {
        Get {
            Assume-Yes 'true';
            Fix-Broken 'true';
        }
    }
`,
  },
  {
    name: "apt: http_proxy alone, as corporate seeds set it",
    metaData: meta("iid-apt-http-proxy"),
    offline: true,
    userData: "#cloud-config\napt:\n  http_proxy: http://user:secret@10.0.0.1:8080\n",
  },
  {
    name: "apt: deprecated top-level apt_proxy",
    metaData: meta("iid-apt-old-proxy"),
    offline: true,
    userData: "#cloud-config\napt_proxy: http://proxy.example.com:3128/\n",
  },
  {
    name: "apt: a third-party repository with an inline key",
    metaData: meta("iid-apt-repo"),
    offline: true,
    userData: `#cloud-config
apt:
  sources:
    example-repo:
      source: "deb https://repo.example.com/debian $RELEASE main"
      key: |
${indented(REPO_KEY, 8)}
    signed.list:
      source: "deb [signed-by=$KEY_FILE arch=amd64] https://signed.example.com/debian $RELEASE stable"
      key: |
${indented(REPO_KEY, 8)}
`,
  },
  {
    name: "apt: sources appended to one file, then one replacing its file",
    metaData: meta("iid-apt-append"),
    offline: true,
    userData: `#cloud-config
apt:
  sources:
    first:
      source: deb http://one.example.com/debian $RELEASE main
      filename: shared.list
    second:
      source: deb-src http://one.example.com/debian $RELEASE main
      filename: shared.list
    mine:
      source: deb http://two.example.com/debian $RELEASE contrib
      filename: /etc/apt/sources.list.d/replaced.list
      append: false
`,
    files: { "/etc/apt/sources.list.d/replaced.list": "deb http://old.example.com/debian bookworm main\n" },
  },
  {
    name: "apt: mirror change with preserve_sources_list false",
    metaData: meta("iid-apt-mirror"),
    offline: true,
    userData: `#cloud-config
apt:
  preserve_sources_list: false
  primary:
    - arches: [default]
      uri: http://mirror.example.com/debian
  security:
    - arches: [default]
      uri: http://mirror.example.com/debian-security
`,
  },
  {
    name: "apt: mirror change, security not given, a suite disabled",
    metaData: meta("iid-apt-mirror2"),
    offline: true,
    userData: `#cloud-config
apt:
  preserve_sources_list: false
  disable_suites: [backports]
  primary:
    - arches: [amd64, i386]
      uri: http://amd64.mirror.example.com/debian
    - arches: [default]
      uri: http://other.mirror.example.com/debian
`,
  },
  {
    name: "apt: a mirror without preserve_sources_list (Debian keeps sources.list)",
    metaData: meta("iid-apt-mirror-kept"),
    offline: true,
    userData: "#cloud-config\napt:\n  primary:\n    - arches: [default]\n      uri: http://mirror.example.com/debian\n",
  },
  {
    name: "apt: preserve_sources_list true with a custom template",
    metaData: meta("iid-apt-preserve"),
    offline: true,
    userData: "#cloud-config\napt:\n  preserve_sources_list: true\n  sources_list: |\n    deb $MIRROR $RELEASE main\n",
  },
  {
    name: "apt: a custom sources_list template",
    metaData: meta("iid-apt-template"),
    offline: true,
    userData: `#cloud-config
apt:
  preserve_sources_list: false
  primary:
    - arches: [default]
      uri: http://mirror.example.com/debian
  sources_list: |
    deb $MIRROR $RELEASE main contrib non-free-firmware
    deb $SECURITY $RELEASE-security main
    deb $PRIMARY $RELEASE-updates main
`,
  },
  {
    name: "apt: a source whose key was damaged in copying, next to a good one",
    metaData: meta("iid-apt-badkey"),
    offline: true,
    userData: `#cloud-config
apt:
  sources:
    broken:
      source: "deb https://broken.example.com/debian $RELEASE main"
      key: |
${indented(REPO_KEY.replace("mDMEawk5", "mDMEawk6"), 8)}
    good:
      source: "deb https://good.example.com/debian $RELEASE main"
      key: |
${indented(REPO_KEY, 8)}
`,
  },
  {
    name: "apt: debconf selections",
    metaData: meta("iid-apt-debconf"),
    offline: true,
    userData: "#cloud-config\napt:\n  debconf_selections:\n    tz: tzdata tzdata/Areas select Europe\n",
  },
];


/**
 * mounts (cc_mounts): the 22.4.2 module docs' examples and seeds as people write them.
 * The chroots have no disks (/dev holds character devices only, /sys is empty), so
 * device entries are written and not mounted; tmpfs, bind and LABEL= lines are
 * handed to the chroot's own `mount -a`. The docs' second example (a 2 GiB swap
 * file) is here with 64M: the harness reads every file it compares into memory.
 */
const mountCases: CompatCase[] = [
  {
    name: "docs cc_mounts/example1 (ephemeral0, sdc, xvdh, mount_default_fields, swap size auto)",
    metaData: meta("iid-mounts-doc1"),
    userData: `#cloud-config
# Mount ephemeral0 with "noexec" flag, /dev/sdc with mount_default_fields,
# and /dev/xvdh with custom fs_passno "0" to avoid fsck on the mount.
# Also provide an automatically sized swap with a max size of 10485760
# bytes.
mounts:
    - [ /dev/ephemeral0, /mnt, auto, "defaults,noexec" ]
    - [ sdc, /opt/data ]
    - [ xvdh, /opt/data, auto, "defaults,nofail", "0", "0" ]
mount_default_fields: [None, None, auto, "defaults,nofail", "0", "2"]
swap:
    filename: /my/swapfile
    size: auto
    maxsize: 10485760
`,
  },
  {
    name: "docs cc_mounts/example2 with 64M (swap file from human-readable sizes)",
    metaData: meta("iid-mounts-doc2"),
    userData: "#cloud-config\n# Create a swap file at /swapfile using human-readable values\nswap:\n    filename: /swapfile\n    size: 64M\n    maxsize: 64M\n",
  },
  {
    name: "mounts: tmpfs and a bind mount with every field given, unquoted numbers",
    metaData: meta("iid-mounts-tmpfs"),
    files: { "/srv/data/README": "the bind source\n" },
    userData: `#cloud-config
mounts:
  - [tmpfs, /mnt/ramdisk, tmpfs, "size=16m,mode=1777", 0, 0]
  - [/srv/data, /data, none, bind, 0, 0]
`,
  },
  {
    name: "mounts: tmpfs and a bind mount, numbers quoted",
    metaData: meta("iid-mounts-tmpfs-q"),
    files: { "/srv/data/README": "the bind source\n" },
    userData: `#cloud-config
mounts:
  - [tmpfs, /mnt/ramdisk, tmpfs, "size=16m,mode=1777", "0", "0"]
  - [/srv/data, /data, none, bind, "0", "0"]
`,
  },
  {
    name: "mounts: a data disk by LABEL= with mount_default_fields, and the user's fstab lines",
    metaData: meta("iid-mounts-label"),
    files: { "/etc/fstab": "# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=4f1e0c3a-7b5d-4e39-9a51-1d2c3b4a5f60 / ext4 errors=remount-ro 0 1\n" },
    userData: `#cloud-config
mount_default_fields: [null, null, auto, "defaults,nofail", "0", "2"]
mounts:
  - [LABEL=data, /var/lib/data, ext4]
  - [UUID=0a1b2c3d-aaaa-bbbb-cccc-0123456789ab, /srv/backup]
`,
  },
  {
    name: "mounts: device names without /dev and the default options",
    metaData: meta("iid-mounts-short"),
    userData: '#cloud-config\nmounts:\n  - [ vdb, /data ]\n  - [ xvdf, /srv, ext4, "defaults,nofail" ]\n',
  },
  {
    name: "mounts: removing the default ephemeral0 and swap mounts",
    metaData: meta("iid-mounts-remove"),
    userData: "#cloud-config\nmounts:\n  - [ ephemeral0, null ]\n  - [ swap ]\n",
  },
  {
    name: "swap: a file that is not a swap area already at the path",
    metaData: meta("iid-swap-taken"),
    files: { "/swapfile": "the user's own data\n" },
    userData: "#cloud-config\nswap:\n  filename: /swapfile\n  size: 8M\n",
  },
  {
    name: "mounts: an entry written as one string instead of a list",
    metaData: meta("iid-mounts-bad"),
    userData: '#cloud-config\nmounts:\n  - /dev/vdb /data ext4 defaults 0 2\n  - [ tmpfs, /mnt/tmp, tmpfs, "size=8m", "0", "0" ]\n',
  },
];

/** Passwords: password:, chpasswd users / list / expire, and their bad inputs. */
const YESCRYPT_HASH = "$y$j9T$xxZxBHVXaubOprZdK7aEx/$UABDWMeuoz98HbkE/sx/UDq7di/KP0pPhwcp5TJvUfD"; // yescrypt of "from-mkpasswd"
const passwordCases: CompatCase[] = [
  {
    name: "passwords: password + chpasswd expire False + ssh_pwauth True (the most common seed)",
    metaData: metaWithKey("iid-pw-common"),
    userData: "#cloud-config\npassword: passw0rd\nchpasswd: { expire: False }\nssh_pwauth: True\n",
    passwords: ["passw0rd"],
  },
  {
    name: "passwords: password alone (chpasswd.expire defaults to true)",
    metaData: meta("iid-pw-expire"),
    userData: "#cloud-config\npassword: Expire-Me-1\n",
    passwords: ["Expire-Me-1"],
  },
  {
    name: "passwords: password with users: but no default user",
    metaData: meta("iid-pw-nodefault"),
    userData: "#cloud-config\nusers:\n  - name: solo\npassword: nobody-gets-this\n",
    passwords: ["nobody-gets-this"],
  },
  {
    name: "passwords: chpasswd users with text, hash and RANDOM (cloud-init's documented example), ssh_pwauth false",
    metaData: meta("iid-pw-users"),
    userData: `#cloud-config
users: [default, {name: user1}, {name: user2}, {name: user3}]
ssh_pwauth: false
chpasswd:
  expire: false
  users:
    - name: user1
      password: password1
      type: text
    - name: user2
      password: ${HASH}
    - name: user3
      type: RANDOM
`,
    passwords: ["password1"],
  },
  {
    name: "passwords: chpasswd users, expire left at its default (hashes expire too)",
    metaData: meta("iid-pw-users-expire"),
    userData: `#cloud-config\nusers: [default, {name: user1}]\nchpasswd:\n  users:\n    - {name: user1, password: '${HASH}'}\n    - {name: debian, password: Debian-Text-1, type: text}\n`,
    passwords: ["Debian-Text-1"],
  },
  {
    name: "passwords: the deprecated list as a multi-line string (text, hash, R and RANDOM)",
    metaData: meta("iid-pw-list-str"),
    userData: `#cloud-config
users: [default, {name: user1}, {name: user2}, {name: user3}]
chpasswd:
  list: |
    user1:list-password-1
    user2:${HASH}
    user3:R
    debian:RANDOM
  expire: false
`,
    passwords: ["list-password-1"],
  },
  {
    name: "passwords: password: RANDOM for the default user, expire false",
    metaData: meta("iid-pw-random"),
    userData: "#cloud-config\npassword: RANDOM\nchpasswd: {expire: false}\n",
    passwords: ["RANDOM"],
  },
  {
    name: "passwords: the deprecated list as a YAML list, expire default",
    metaData: meta("iid-pw-list"),
    userData: `#cloud-config\nusers: [default, {name: user1}]\nchpasswd:\n  list:\n    - user1:list-password-2\n    - debian:${HASH}\n`,
    passwords: ["list-password-2"],
  },
  {
    name: "passwords: a yescrypt hash (mkpasswd's default on bookworm) in the deprecated list",
    metaData: meta("iid-pw-yescrypt"),
    userData: `#cloud-config\nchpasswd:\n  expire: false\n  list:\n    - debian:${YESCRYPT_HASH}\n`,
    passwords: ["from-mkpasswd"],
  },
  {
    name: "passwords bad input: users that do not exist among good ones (text and hash)",
    metaData: meta("iid-pw-ghost"),
    userData: `#cloud-config
users: [default, {name: user1}]
chpasswd:
  expire: false
  users:
    - {name: ghost, password: ghost-pw, type: text}
    - {name: user1, password: user1-pw, type: text}
    - {name: ghost2, password: '${HASH}'}
    - {name: debian, password: '${HASH}'}
`,
    passwords: ["ghost-pw", "user1-pw"],
  },
  {
    name: "passwords bad input: a malformed line in the deprecated list",
    metaData: meta("iid-pw-badline"),
    userData: "#cloud-config\nusers: [default, {name: user1}]\nchpasswd:\n  expire: false\n  list: |\n    user1:good-one\n    this line has no colon\n",
    passwords: ["good-one"],
  },
  {
    // Both set "123456" (cloud-init's str() of the number); sprout also says to quote it.
    name: "passwords: an unquoted number as the password",
    metaData: meta("iid-pw-number"),
    userData: "#cloud-config\npassword: 123456\nchpasswd: {expire: false}\n",
    passwords: ["123456"],
  },
  {
    name: "passwords bad input: a plain password with the default type (hash)",
    metaData: meta("iid-pw-nottype"),
    userData: "#cloud-config\nchpasswd:\n  expire: false\n  users:\n    - {name: debian, password: plain-but-typed-hash}\n",
    passwords: ["plain-but-typed-hash"],
  },
];

// network-config in the seed, as Proxmox, libvirt and MAAS write it. These machines
// get ifupdown (cloud-init renders ENI only where it is installed) and stand-in NICs
// in /sys/class/net; they boot in a network namespace of their own.
const networkCases: CompatCase[] = [
  {
    name: "network-config v1: Proxmox-style static IPv4 and IPv6 with a nameserver entry",
    metaData: meta("iid-net-v1"),
    userData: "#cloud-config\n",
    nics: { eth0: "bc:24:11:5e:0a:01" },
    networkConfig: readFileSync(join(__dirname, "../../agent/network/fixtures/v1-proxmox-static.yaml"), "utf8"),
  },
  {
    name: "network-config v2: static with set-name, gateway4/6, routes and nameservers",
    metaData: meta("iid-net-v2-static"),
    userData: "#cloud-config\n",
    nics: { lan0: "52:54:00:0a:0b:0c" },
    networkConfig: `version: 2
ethernets:
  id0:
    match:
      macaddress: "52:54:00:0a:0b:0c"
    set-name: lan0
    addresses: [10.20.30.40/24, "2001:db8:1::40/64"]
    gateway4: 10.20.30.1
    gateway6: "2001:db8:1::1"
    routes:
      - to: 172.16.0.0/12
        via: 10.20.30.254
    nameservers:
      addresses: [10.20.30.1]
      search: [example.org]
`,
  },
  {
    name: "network-config v2: DHCP on the NIC found by MAC",
    metaData: meta("iid-net-v2-dhcp"),
    userData: "#cloud-config\n",
    nics: { enp1s0: "52:54:00:ab:cd:ef" },
    networkConfig: "network:\n  version: 2\n  ethernets:\n    nic0:\n      match:\n        macaddress: '52:54:00:ab:cd:ef'\n      dhcp4: true\n",
  },
  {
    name: "network-config v2: set-name renaming a NIC, with nameservers",
    metaData: meta("iid-net-v2-rename"),
    userData: "#cloud-config\n",
    nics: { ens18: "bc:24:11:00:00:18" },
    networkConfig: "version: 2\nethernets:\n  id0:\n    match: {macaddress: 'bc:24:11:00:00:18'}\n    set-name: wan0\n    dhcp4: true\n    nameservers: {addresses: [9.9.9.9]}\n",
  },
  {
    name: "no network-config: DHCP fallback on the NIC with a carrier",
    metaData: meta("iid-net-fallback"),
    userData: "#cloud-config\n",
    nics: { ens3: "52:54:00:12:34:56", ens4: "52:54:00:12:34:57" },
  },
  {
    name: "network-config with an address that is not one",
    metaData: meta("iid-net-bad"),
    userData: "#cloud-config\n",
    nics: { eth0: "52:54:00:00:00:01" },
    networkConfig: "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: '52:54:00:00:00:01'\n    subnets: [{type: static, address: 10.0.0.300/24}]\n",
  },
];

/** MIME multipart user-data as Python's email library writes it (cloud-init's make-mime, write-mime-multipart). */
function mimeOf(parts: Array<{ type: string; filename: string; body: string; headers?: string[] }>): string {
  const b = "===============5361263453472384826==";
  const out = [`Content-Type: multipart/mixed; boundary="${b}"`, "MIME-Version: 1.0", ""];
  for (const p of parts) {
    out.push(`--${b}`, `Content-Type: ${p.type}; charset="us-ascii"`, "MIME-Version: 1.0", "Content-Transfer-Encoding: 7bit", ...(p.headers ?? []), `Content-Disposition: attachment; filename="${p.filename}"`, "", p.body);
  }
  out.push(`--${b}--`, "");
  return out.join("\n");
}

/** User-data formats beyond the everyday ones: script frequencies, merging, archives, include-once. */
const userDataFormatCases: CompatCase[] = [
  {
    name: "MIME: per-boot, per-instance and per-once script parts beside a plain script",
    metaData: meta("iid-mime-freq"),
    userData: mimeOf([
      { type: "text/x-shellscript", filename: "plain.sh", body: "#!/bin/sh\necho plain >> /var/tmp/freq-order\n" },
      { type: "text/x-shellscript-per-boot", filename: "boot.sh", body: "#!/bin/sh\necho per-boot >> /var/tmp/freq-order\n" },
      { type: "text/x-shellscript-per-instance", filename: "instance.sh", body: "#!/bin/sh\necho per-instance >> /var/tmp/freq-order\n" },
      { type: "text/x-shellscript-per-once", filename: "once.sh", body: "#!/bin/sh\necho per-once >> /var/tmp/freq-order\n" },
    ]),
  },
  {
    name: "MIME: two cloud-config parts, the second with merge_how list(append)+dict(recurse_array)",
    metaData: meta("iid-mime-merge"),
    userData: mimeOf([
      { type: "text/cloud-config", filename: "base.yaml", body: "#cloud-config\nruncmd:\n  - echo base >> /var/tmp/merge-order\nwrite_files:\n  - path: /etc/merge/base\n    content: base\n" },
      {
        type: "text/cloud-config",
        filename: "extra.yaml",
        body: "#cloud-config\nmerge_how:\n  - name: list\n    settings: [append]\n  - name: dict\n    settings: [no_replace, recurse_list]\nruncmd:\n  - echo extra >> /var/tmp/merge-order\nwrite_files:\n  - path: /etc/merge/extra\n    content: extra\n",
      },
    ]),
  },
  {
    name: "MIME: two cloud-config parts without merge_how (the later list replaces)",
    metaData: meta("iid-mime-replace"),
    userData: mimeOf([
      { type: "text/cloud-config", filename: "a.yaml", body: "#cloud-config\nruncmd:\n  - echo a >> /var/tmp/replace-order\nhostname: first\n" },
      { type: "text/cloud-config", filename: "b.yaml", body: "#cloud-config\nruncmd:\n  - echo b >> /var/tmp/replace-order\n" },
    ]),
  },
  {
    name: "MIME: a Merge-Type header on the second part",
    metaData: meta("iid-mime-header"),
    userData: mimeOf([
      { type: "text/cloud-config", filename: "a.yaml", body: "#cloud-config\nruncmd:\n  - echo a >> /var/tmp/header-order\n" },
      { type: "text/cloud-config", filename: "b.yaml", headers: ["Merge-Type: list(append)+dict(recurse_array)+str()"], body: "#cloud-config\nruncmd:\n  - echo b >> /var/tmp/header-order\n" },
    ]),
  },
  {
    name: "#cloud-config-archive with a cloud-config and a script",
    metaData: meta("iid-archive"),
    userData: `#cloud-config-archive
- type: "text/cloud-config"
  content: |
    #cloud-config
    write_files:
      - path: /etc/archive/config
        content: from the archive
- type: "text/x-shellscript"
  filename: archived.sh
  content: |
    #!/bin/sh
    echo archived > /var/tmp/archived
- content: |
    #cloud-config
    runcmd:
      - echo untyped >> /var/tmp/archive-untyped
`,
  },
  {
    name: "#include-once from a server on 127.0.0.1",
    metaData: meta("iid-include-once"),
    serve: { "once.yaml": "#cloud-config\nwrite_files:\n  - path: /etc/included/once\n    content: once\n" },
    userData: (url) => `#include-once\n${url}/once.yaml\n`,
  },
];

const hostKey = (name: string) => readFileSync(join(__dirname, "seeds", "host-keys", name), "utf8");
/** A file as a YAML block scalar's lines under a key indented by `by` spaces. */
const block = (text: string, by: number) => text.trimEnd().split("\n").map((l) => `${" ".repeat(by)}${l}`).join("\n");

/** Host keys, root's ssh options and the rarer user fields, as image builders and admins write them. */
/** cloud_init_modules, cloud_config_modules and cloud_final_modules in user-data (agent/module-lists.ts). */
const moduleListCases: CompatCase[] = [
  {
    name: "module lists: cloud_final_modules with scripts-user always, and a deferred file and final-message it leaves out",
    metaData: meta("iid-lists-final"),
    userData: mimeOf([
      {
        type: "text/cloud-config",
        filename: "lists.yaml",
        body: "#cloud-config\ncloud_final_modules:\n  - [scripts-user, always]\nruncmd:\n  - echo runcmd >> /var/tmp/lists-final\nwrite_files:\n  - path: /etc/lists/deferred\n    content: deferred\n    defer: true\n  - path: /etc/lists/early\n    content: early\n",
      },
      { type: "text/x-shellscript", filename: "script.sh", body: "#!/bin/sh\necho script >> /var/tmp/lists-final\n" },
    ]),
  },
  {
    name: "module lists: cloud_init_modules without set_hostname, users-groups and ssh",
    metaData: metaWithKey("iid-lists-init"),
    userData: "#cloud-config\ncloud_init_modules:\n  - bootcmd\n  - write-files\nhostname: not-applied\nusers:\n  - default\n  - name: carol\n    shell: /bin/bash\nwrite_files:\n  - path: /etc/lists/init\n    content: written\nbootcmd:\n  - echo bootcmd >> /var/tmp/lists-init\n",
  },
  {
    name: "module lists: an empty cloud_config_modules (runcmd and timezone do not run)",
    metaData: meta("iid-lists-config"),
    userData: "#cloud-config\ncloud_config_modules: []\ntimezone: Europe/Berlin\nruncmd:\n  - echo runcmd >> /var/tmp/lists-config\nwrite_files:\n  - path: /etc/lists/config\n    content: still written\n",
  },
  {
    name: "module lists: entries as mappings, an unknown frequency, a module sprout lacks, cc_ and .py names",
    metaData: meta("iid-lists-forms"),
    userData:
      "#cloud-config\ncloud_final_modules:\n  - {name: scripts-user, frequency: always}\n  - [final-message, weekly]\n  - puppet\n  - cc_write_files_deferred\n  - scripts_per_boot.py\nwrite_files:\n  - path: /etc/lists/deferred\n    content: deferred\n    defer: true\nruncmd:\n  - echo runcmd >> /var/tmp/lists-forms\n",
  },
];

const sshAndUserCases: CompatCase[] = [
  {
    name: "ssh_keys: an ed25519 host key pair as block scalars",
    metaData: meta("iid-hostkeys-1"),
    userData: `#cloud-config
ssh_keys:
  ed25519_private: |
${block(hostKey("ed25519"), 4)}
  ed25519_public: |
${block(hostKey("ed25519.pub"), 4)}
`,
  },
  {
    name: "ssh_keys: an rsa private key alone (the public key is made from it)",
    metaData: meta("iid-hostkeys-2"),
    userData: `#cloud-config
ssh_keys:
  rsa_private: |
${block(hostKey("rsa"), 4)}
`,
  },
  {
    name: "ssh_keys: a key pair with its host certificate, the public key quoted on one line",
    metaData: meta("iid-hostkeys-3"),
    userData: `#cloud-config
ssh_keys:
  ed25519_private: |
${block(hostKey("ed25519"), 4)}
  ed25519_public: "${hostKey("ed25519.pub").trim()}"
  ed25519_certificate: "${hostKey("ed25519-cert.pub").trim()}"
`,
  },
  {
    name: "ssh_keys: a private key in a |- block (no final newline)",
    metaData: meta("iid-hostkeys-7"),
    userData: `#cloud-config
ssh_keys:
  ed25519_private: |-
${block(hostKey("ed25519"), 4)}
  ed25519_public: ${hostKey("ed25519.pub").trim()}
`,
  },
  { name: "ssh_keys: an empty mapping", metaData: meta("iid-hostkeys-4"), userData: "#cloud-config\nssh_keys: {}\n" },
  {
    name: "ssh_keys: a type sshd has no host key for (ecdsa-sk) next to a good key",
    metaData: meta("iid-hostkeys-5"),
    userData: `#cloud-config
ssh_keys:
  ecdsa-sk_private: "not a key"
  ed25519_private: |
${block(hostKey("ed25519"), 4)}
  ed25519_public: ${hostKey("ed25519.pub").trim()}
`,
  },
  { name: "ssh_genkeytypes: ed25519 only, quietly", metaData: meta("iid-hostkeys-6"), userData: "#cloud-config\nssh_genkeytypes: [ed25519]\nssh_quiet_keygen: true\n" },
  {
    name: "root's keys: disable_root_opts of one's own, allow_public_ssh_keys false",
    metaData: metaWithKey("iid-rootopts"),
    userData: `#cloud-config
disable_root: true
disable_root_opts: no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Use $USER, not $DISABLE_USER';exit 1"
allow_public_ssh_keys: false
ssh_authorized_keys:
  - ${KEY_A}
`,
  },
  { name: "preserve_hostname true with hostname and fqdn", metaData: meta("iid-preserve"), userData: "#cloud-config\npreserve_hostname: true\nhostname: ignored\nfqdn: ignored.example.com\n" },
  {
    name: "users: uid, homedir, no_create_home, quoted expiredate and inactive, groups and a primary group to create",
    metaData: meta("iid-users-rare-1"),
    userData: `#cloud-config
users:
  - name: deploy
    uid: 1500
    homedir: /srv/deploy
    primary_group: deployers
    groups: [ci, docker]
    expiredate: '2032-09-01'
    inactive: '10'
    shell: /bin/bash
  - name: nohome
    uid: "1501"
    no_create_home: true
  - name: plain
    no_user_group: true
    no_log_init: true
`,
  },
  {
    name: "users: expiredate unquoted (a YAML date) and inactive as a number",
    metaData: meta("iid-users-rare-2"),
    userData: "#cloud-config\nusers:\n  - name: temp\n    expiredate: 2032-09-01\n    inactive: 5\n",
  },
  {
    name: "users: create_groups false, one group that exists and one that does not",
    metaData: meta("iid-users-rare-3"),
    userData: "#cloud-config\nusers:\n  - name: carol\n    create_groups: false\n    groups: [video, nosuchgroup]\n  - name: dave\n    create_groups: false\n    groups: video\n",
  },
  { name: "users: a comma-separated string", metaData: metaWithKey("iid-users-rare-4"), userData: "#cloud-config\nusers: default, erin\n" },
  {
    name: "users: sudo true",
    metaData: meta("iid-users-rare-5"),
    userData: "#cloud-config\nusers:\n  - name: frank\n    sudo: true\n  - name: grace\n    sudo: ALL=(ALL) NOPASSWD:ALL\n",
  },
  {
    name: "users: a user the image has already (www-data) given groups, a shell and a key",
    metaData: meta("iid-users-rare-7"),
    userData: `#cloud-config
users:
  - default
  - name: www-data
    groups: [adm]
    shell: /bin/bash
    ssh_authorized_keys:
      - ${KEY_B}
`,
  },
  {
    name: "users: a system user given a home directory, and hashed_passwd with lock_passwd false",
    metaData: meta("iid-users-rare-6"),
    userData: `#cloud-config
users:
  - name: svcacct
    system: true
    homedir: /var/lib/svcacct
    shell: /usr/sbin/nologin
  - name: heidi
    lock_passwd: false
    hashed_passwd: ${HASH}
`,
  },
];

export const CASES: CompatCase[] = [...docCases(), ...realWorld, ...sshAndUserCases, ...userDataFormatCases, ...moduleListCases, ...localeAndCaCerts, ...mountCases, ...passwordCases, ...networkCases, ...aptCases, ...EC2_CASES, ...OVF_CASES];
