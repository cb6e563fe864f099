// The `apt:` key as cloud-init 22.4.2 defines it (its schema's keys, types and
// limits), with sprout's descriptions. The deprecated top-level keys (apt_proxy,
// apt_mirror, apt_sources, ...) are in agent/schema/deprecated.ts.

const KEY_EXAMPLE = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n-----END PGP PUBLIC KEY BLOCK-----\n";

const MIRROR_LIST = {
  type: "array",
  minItems: 1,
  items: {
    type: "object",
    required: ["arches"],
    additionalProperties: false,
    properties: {
      arches: { type: "array", items: { type: "string" }, minItems: 1, description: 'Architectures this entry is for (dpkg names); "default" is every architecture no other entry names.', examples: [["amd64", "default"]] },
      uri: { type: "string", description: "The mirror's URL.", examples: ["http://mirror.example.com/debian"] },
      search: { type: "array", items: { type: "string" }, minItems: 1, description: "Mirror URLs to try in order when uri is not given: the first whose host name resolves is used (nothing else is probed).", examples: [["http://mirror.internal/debian", "https://deb.debian.org/debian"]] },
      search_dns: { type: "boolean", description: "cloud-init looks up <distro>-mirror host names in the machine's domains; sprout does not probe names nobody configured and reports it (name the mirror in uri or search).", examples: [false] },
      keyid: { type: "string", description: "Fingerprint or key id of the mirror's signing key, fetched from keyserver into /etc/apt/trusted.gpg.d/<primary|security>.gpg.", examples: ["9E53 B191 DBCA 9C76 9024  7230 4369 E73E E2F4 7536"] },
      key: { type: "string", description: "The mirror's ASCII-armored signing key, written dearmored to /etc/apt/trusted.gpg.d/<primary|security>.gpg.", examples: [KEY_EXAMPLE] },
      keyserver: { type: "string", description: "Where keyid is fetched from (HKP): a host name, hkp://, hkps://, http:// or https:// URL.", default: "keyserver.ubuntu.com", examples: ["hkps://keys.openpgp.org"] },
    },
  },
};

export const APT_SCHEMA = {
  type: "object",
  description:
    "Configure apt: proxies and apt.conf settings, extra sources in /etc/apt/sources.list.d with their signing keys, the archive mirrors in /etc/apt/sources.list (when preserve_sources_list is false), and debconf selections. Runs before packages are installed. A bad entry is reported and skipped; the others are applied.",
  minProperties: 1,
  additionalProperties: false,
  properties: {
    preserve_sources_list: {
      type: "boolean",
      description:
        "Keep /etc/apt/sources.list as the image has it. When false, it is written from the template (sources_list, or Debian's) with the primary and security mirrors. Defaults to true on Debian (as Debian's cloud-init config sets it) and false elsewhere.",
      examples: [false],
    },
    generate_mirrorlists: {
      type: "boolean",
      default: false,
      description: "Write the mirrors to /etc/apt/mirrors/<distro>.list and <distro>-security.list for apt-transport-mirror instead of writing sources.list.",
      examples: [true],
    },
    disable_suites: {
      type: "array",
      items: { type: "string" },
      minItems: 1,
      uniqueItems: true,
      description: "Suites to comment out in the written sources.list; $RELEASE is replaced, and updates, backports, security, proposed and release stand for $RELEASE-updates, ... and $RELEASE.",
      examples: [["backports", "$RELEASE-updates"]],
    },
    primary: { ...MIRROR_LIST, description: "The primary archive mirror, per architecture ($PRIMARY and $MIRROR). Default on Debian: https://deb.debian.org/debian.", examples: [[{ arches: ["default"], uri: "http://mirror.example.com/debian" }]] },
    security: { ...MIRROR_LIST, description: "The security archive mirror, per architecture ($SECURITY). When primary is given and security is not, security is the primary mirror. Default on Debian: https://deb.debian.org/debian-security.", examples: [[{ arches: ["default"], uri: "http://mirror.example.com/debian-security" }]] },
    add_apt_repo_match: {
      type: "string",
      default: "^[\\w-]+:\\w",
      description: "Sources matching this regular expression (ppa:..., cloud-archive:...) are added with add-apt-repository (Ubuntu's software-properties-common) instead of being written.",
      examples: ["^ppa:"],
    },
    debconf_selections: {
      type: "object",
      minProperties: 1,
      additionalProperties: false,
      patternProperties: { "^.+$": { type: "string" } },
      description: "Answers for debconf, passed to debconf-set-selections in the order of their names: each line is `package question type value`.",
      examples: [{ set1: "tzdata tzdata/Areas select Europe\ntzdata tzdata/Zones/Europe select Berlin" }],
    },
    sources_list: {
      type: "string",
      description: "A template for /etc/apt/sources.list (used when preserve_sources_list is false; without it, the image's /etc/cloud/templates/sources.list.debian.tmpl or Debian's built in): $MIRROR, $PRIMARY, $SECURITY, $RELEASE are replaced; a first line `## template:jinja` makes it a jinja template ({{mirror}}, {{codename}}, {{security}}).",
      examples: ["deb $MIRROR $RELEASE main contrib\ndeb $SECURITY $RELEASE-security main\n"],
    },
    conf: {
      type: "string",
      description: "apt configuration written as is to /etc/apt/apt.conf.d/94cloud-init-config.",
      examples: ['APT::Install-Recommends "false";\n'],
    },
    proxy: { type: "string", description: "The http proxy for apt (Acquire::http::Proxy in /etc/apt/apt.conf.d/90cloud-init-aptproxy).", examples: ["http://proxy.example.com:3128/"] },
    http_proxy: { type: "string", description: "The http proxy for apt; the same as proxy.", examples: ["http://user:pass@proxy.example.com:3128/"] },
    https_proxy: { type: "string", description: "The proxy for https sources (Acquire::https::Proxy).", examples: ["http://proxy.example.com:3128/"] },
    ftp_proxy: { type: "string", description: "The proxy for ftp sources (Acquire::ftp::Proxy).", examples: ["ftp://proxy.example.com:2121/"] },
    sources: {
      type: "object",
      additionalProperties: false,
      patternProperties: {
        "^.+$": {
          type: "object",
          additionalProperties: false,
          minProperties: 1,
          properties: {
            source: { type: "string" },
            keyid: { type: "string" },
            key: { type: "string" },
            keyserver: { type: "string" },
            filename: { type: "string" },
            append: { type: "boolean", default: true },
          },
        },
      },
      description:
        "Extra sources, by name: source (a one-line deb entry; $MIRROR, $PRIMARY, $SECURITY, $RELEASE and $KEY_FILE are replaced), filename (default the name, in /etc/apt/sources.list.d, .list added), append (default true; false replaces the file), key (ASCII-armored, written dearmored to /etc/apt/trusted.gpg.d/<name>.gpg, or to /etc/apt/cloud-init.gpg.d/<name>.gpg when source uses $KEY_FILE), keyid and keyserver (fetched over HKP, default keyserver.ubuntu.com). apt-get update runs after they are added.",
      examples: [
        {
          example: {
            source: "deb [signed-by=$KEY_FILE] https://repo.example.com/debian $RELEASE main",
            key: KEY_EXAMPLE,
          },
        },
      ],
    },
  },
  examples: [{ proxy: "http://proxy.example.com:3128/", sources: { example: { source: "deb https://repo.example.com/debian $RELEASE main", keyid: "9E53B191DBCA9C76902472304369E73EE2F47536" } } }],
} as const;
