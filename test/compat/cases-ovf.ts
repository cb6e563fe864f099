// OVF environments (ovf-env.xml) as hypervisors and people write them: vSphere's
// (oe:/ve: namespaces, PlatformSection, EthernetAdapterSection), cloud-init's own
// example, hand-written ones with other prefixes, comments, CRLF, a byte order mark,
// and broken ones. Each is laid at /var/lib/cloud/seed/ovf-env.xml, which both agents
// read first (test/compat/machine.ts).
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CompatCase } from "./cases";

const OE = "http://schemas.dmtf.org/ovf/environment/1";
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHhDq4vJ1oWd4Vdo0ZqgQ0CUq1nI0m2bRk2Jm4QrSx7 alice@laptop";
const KEY_B = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDZcompatkeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@desk";
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
/** `base64` without -w0: lines of 76 characters, as people paste it. */
const b64Wrapped = (s: string | Uint8Array, sep = "\n") => b64(s).replace(/.{76}/g, `$&${sep}`).replace(new RegExp(`${sep}$`), "");
/** XML attribute text: the characters XML would read as markup, escaped. */
const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

/** The environment vSphere (vCenter 7/8) hands a vApp VM through guestinfo.ovfEnv or the ISO, with its property values. */
export function vsphereEnv(props: Record<string, string>): string {
  const lines = Object.entries(props).map(([k, v]) => `         <Property oe:key="${k}" oe:value="${attr(v)}"/>`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<Environment
     xmlns="${OE}"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     xmlns:oe="${OE}"
     xmlns:ve="http://www.vmware.com/schema/ovfenv"
     oe:id=""
     ve:vCenterId="vm-4021">
   <PlatformSection>
      <Kind>VMware ESXi</Kind>
      <Version>8.0.2</Version>
      <Vendor>VMware, Inc.</Vendor>
      <Locale>en</Locale>
   </PlatformSection>
   <PropertySection>
${lines.join("\n")}
   </PropertySection>
   <ve:EthernetAdapterSection>
      <ve:Adapter ve:mac="00:50:56:8a:3f:21" ve:network="VM Network" ve:unitNumber="7"/>
   </ve:EthernetAdapterSection>
</Environment>
`;
}

const CLOUD_CONFIG = `#cloud-config
users:
  - default
  - name: ops
    groups: adm
    shell: /bin/bash
    ssh_authorized_keys:
      - ${KEY_B}
write_files:
  - path: /etc/ovf/app.conf
    content: |
      listen = 0.0.0.0:8080
    permissions: "0640"
runcmd:
  - echo from-ovf > /var/tmp/ovf-runcmd
`;

export const OVF_CASES: CompatCase[] = [
  {
    name: "ovf: vSphere environment with hostname, instance-id, one public key and base64 cloud-config",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-vsphere", hostname: "ovf-vsphere", "public-keys": KEY_A, "user-data": b64(CLOUD_CONFIG) }),
  },
  {
    name: "ovf: cloud-init's example document (default namespace, comments, shell-script user-data)",
    ovfEnv: readFileSync(join(__dirname, "../../../shared/corpus/cloud-init/ovf/ovf-env.xml"), "utf8")
      // Only the seedfrom (it points at tinyurl.com: no traffic leaves the machine) and the password (a case of its own) are left out.
      .replace(/<Property oe:key="seedfrom"[^>]*\/>/, "")
      .replace(/<Property oe:key="password"[^>]*\/>/, "")
      .replace(/<Property oe:key="network-config"[^>]*\/>/, ""),
  },
  {
    name: "ovf: every element and attribute under another prefix (ovfenv:)",
    ovfEnv: `<?xml version="1.0"?>
<ovfenv:Environment xmlns:ovfenv="${OE}" ovfenv:id="vm1">
  <ovfenv:PropertySection>
    <ovfenv:Property ovfenv:key="instance-id" ovfenv:value="iid-ovf-prefix"/>
    <ovfenv:Property ovfenv:key="hostname" ovfenv:value="ovf-prefix"/>
    <ovfenv:Property ovfenv:key="user-data" ovfenv:value="${b64("#cloud-config\nwrite_files:\n  - path: /etc/ovf/prefix\n    content: other prefix\n")}"/>
  </ovfenv:PropertySection>
</ovfenv:Environment>
`,
  },
  {
    name: "ovf: user-data base64 wrapped at 76 columns inside the attribute",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-wrap", hostname: "ovf-wrap", "user-data": b64Wrapped(CLOUD_CONFIG) }),
  },
  {
    name: "ovf: user-data base64 with &#10; line breaks and spaces",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-wrap-ref", "user-data": "PLACEHOLDER" }).replace("PLACEHOLDER", b64Wrapped(CLOUD_CONFIG, "&#10;  ")),
  },
  {
    name: "ovf: user-data a shell script",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-sh", "user-data": b64("#!/bin/sh\nset -e\nmkdir -p /srv/app\necho \"$(id -un) ran me\" > /srv/app/who\n") }),
  },
  {
    name: "ovf: user-data gzip of a cloud-config",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-gz", "user-data": b64(gzipSync(Buffer.from(CLOUD_CONFIG))) }),
  },
  {
    name: "ovf: user-data MIME multipart (cloud-config, shell script, boothook)",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-mime", "user-data": b64(readFileSync(join(__dirname, "seeds/mime-multipart.txt"))) }),
  },
  {
    name: "ovf: user-data as plain text (not base64), newlines as &#10; and & < escaped",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-plain", "user-data": "#cloud-config\nruncmd:\n  - echo 'a & b < c' > /var/tmp/ovf-plain\n" }).replace(/\n(?=[^<]*"\/>)/g, "&#10;"),
  },
  {
    name: "ovf: user-data as plain text whose letters happen to be valid base64",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-plain4", "user-data": "#cloud-config\nwrite_files:\n  - path: /etc/ovf-plainX\n    content: plain\n" }).replace(/\n(?=[^<]*"\/>)/g, "&#10;"),
  },
  {
    name: "ovf: two public keys separated by &#10;",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-keys", "public-keys": `${KEY_A}\n${KEY_B}` }).replace(/\n(?=[^<]*"\/>)/g, "&#10;"),
  },
  {
    name: "ovf: two public keys on two lines of the attribute (a literal newline)",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-keys-nl", "public-keys": `${KEY_A}\n${KEY_B}` }),
  },
  {
    name: "ovf: password for the default user",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-pw", hostname: "ovf-pw", password: "Ovf-Passw0rd" }),
    passwords: ["Ovf-Passw0rd"],
  },
  {
    name: "ovf: password with user-data chpasswd expire false and ssh_pwauth",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-pw2", password: "Ovf-Passw0rd-2", "user-data": b64("#cloud-config\nchpasswd: { expire: False }\nssh_pwauth: True\n") }),
    passwords: ["Ovf-Passw0rd-2"],
  },
  {
    name: "ovf: password RANDOM for the default user",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-pw-random", password: "RANDOM" }),
    passwords: [],
  },
  {
    name: "ovf: password, and a different password: in the user-data (user-data wins)",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-pw-ud", password: "Ovf-Passw0rd-3", "user-data": b64("#cloud-config\npassword: From-User-Data-1\n") }),
    passwords: ["Ovf-Passw0rd-3", "From-User-Data-1"],
  },
  {
    name: "ovf: local-hostname, then hostname (the later one wins)",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-hostnames", "local-hostname": "ovf-local-hostname", hostname: "ovf-hostname" }),
  },
  {
    name: "ovf: seedfrom a file:// seed folder (meta-data and user-data), hostname property wins",
    ovfEnv: vsphereEnv({ hostname: "ovf-seeded", seedfrom: "file:///var/lib/ovf-seed/" }),
    files: {
      "/var/lib/ovf-seed/meta-data": "instance-id: iid-ovf-seedfrom\nlocal-hostname: from-seed-meta\n",
      "/var/lib/ovf-seed/user-data": "#cloud-config\nwrite_files:\n  - path: /etc/ovf/seeded\n    content: from the seed folder\n",
    },
  },
  {
    name: "ovf: seedfrom a plain path, user-data property replaced by the seed's",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-seedpath", seedfrom: "/srv/seed/", "user-data": b64("#cloud-config\nwrite_files:\n  - path: /etc/ovf/from-property\n    content: property\n") }),
    files: {
      "/srv/seed/meta-data": "instance-id: iid-from-seed\nlocal-hostname: seed-path-host\n",
      "/srv/seed/user-data": "#cloud-config\nwrite_files:\n  - path: /etc/ovf/from-seed\n    content: seed\n",
    },
  },
  {
    name: "ovf: vSphere with unset properties (empty values) and only a hostname",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-empty", hostname: "ovf-empty", seedfrom: "", "public-keys": "", "user-data": "", password: "", "network-config": "" }),
  },
  {
    name: "ovf: properties cloud-init does not use (vami, guestinfo, fqdn, domain)",
    ovfEnv: vsphereEnv({
      "vami.hostname.VM_1": "appliance",
      "vami.ip0.VM_1": "10.1.2.3",
      "guestinfo.dns": "10.1.2.1",
      fqdn: "ignored.example.com",
      domain: "example.com",
      "instance-id": "iid-ovf-extra",
      hostname: "ovf-extra",
    }),
  },
  {
    name: "ovf: CRLF line endings, a byte order mark, comments, CDATA and a processing instruction",
    ovfEnv: `\uFEFF<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="env.xsl"?>
<!-- exported by a Windows tool -->
<Environment xmlns="${OE}" xmlns:oe="${OE}">
  <PlatformSection><Kind><![CDATA[VMware <ESXi>]]></Kind></PlatformSection>
  <PropertySection>
    <!-- <Property oe:key="hostname" oe:value="commented-out"/> -->
    <Property oe:key="instance-id" oe:value="iid-ovf-crlf"/>
    <Property oe:key="hostname" oe:value="ovf-crlf"/>
    <Property oe:key="public-keys" oe:value="${KEY_A}"/>
  </PropertySection>
</Environment>
`.replace(/\n/g, "\r\n"),
  },
  {
    name: "ovf: entity and character references in values",
    ovfEnv: vsphereEnv({ "instance-id": "iid-&#111;vf-refs", hostname: "ovf&#45;refs" }).replace(/&amp;#/g, "&#"),
  },
  {
    name: "ovf: two PropertySections",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-sections", hostname: "ovf-first-section" }).replace(
      "   <ve:EthernetAdapterSection>",
      `   <PropertySection>\n         <Property oe:key="hostname" oe:value="ovf-second-section"/>\n         <Property oe:key="public-keys" oe:value="${KEY_A}"/>\n   </PropertySection>\n   <ve:EthernetAdapterSection>`,
    ),
  },
  {
    name: "ovf: no instance-id (cloud-init's default iid-dsovf), hostname only",
    ovfEnv: vsphereEnv({ hostname: "ovf-noid" }),
  },
  {
    name: "ovf: network-config property (base64 netplan v2) with a NIC",
    ovfEnv: vsphereEnv({
      "instance-id": "iid-ovf-net",
      "network-config": b64("network:\n  version: 2\n  ethernets:\n    nics:\n      match:\n        name: ens*\n      dhcp4: yes\n"),
    }),
    nics: { ens192: "00:50:56:8a:3f:21" },
  },
  {
    name: "ovf guestinfo: vSphere environment with hostname, one public key and base64 cloud-config",
    ovfTransport: "guestinfo",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-gi", hostname: "ovf-guestinfo", "public-keys": KEY_A, "user-data": b64(CLOUD_CONFIG) }),
  },
  {
    name: "ovf guestinfo: network-config property, static netplan v2 for the vSphere NIC",
    ovfTransport: "guestinfo",
    ovfEnv: vsphereEnv({
      "instance-id": "iid-ovf-gi-net",
      hostname: "ovf-static",
      "network-config": b64("network:\n  version: 2\n  ethernets:\n    ens192:\n      dhcp4: false\n      addresses: [192.168.10.20/24]\n      gateway4: 192.168.10.1\n      nameservers:\n        addresses: [192.168.10.1]\n        search: [example.internal]\n"),
    }),
    nics: { ens192: "00:50:56:8a:3f:21" },
  },
  {
    name: "ovf guestinfo: network-config property as in cloud-init's example (match by name glob)",
    ovfTransport: "guestinfo",
    ovfEnv: vsphereEnv({
      "instance-id": "iid-ovf-gi-net-example",
      "network-config": b64("network:\n  version: 2\n  ethernets:\n    nics:\n      match:\n        name: ens*\n      dhcp4: yes\n"),
    }),
    nics: { ens192: "00:50:56:8a:3f:21" },
  },
  {
    name: "ovf guestinfo: network-config property without the network: key",
    ovfTransport: "guestinfo",
    ovfEnv: vsphereEnv({
      "instance-id": "iid-ovf-gi-net-bare",
      "network-config": b64("version: 2\nethernets:\n  ens192:\n    addresses: [192.168.10.21/24]\n    gateway4: 192.168.10.1\n"),
    }),
    nics: { ens192: "00:50:56:8a:3f:21" },
  },
  {
    name: "ovf guestinfo: network-config property that is not base64",
    ovfTransport: "guestinfo",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-gi-net-bad", hostname: "ovf-bad-net", "network-config": "network: {version: 2}" }),
    nics: { ens192: "00:50:56:8a:3f:21" },
  },
  {
    name: "ovf: truncated document (cut off in the PropertySection)",
    ovfEnv: vsphereEnv({ "instance-id": "iid-ovf-trunc", hostname: "ovf-trunc", "public-keys": KEY_A }).slice(0, 700),
  },
  {
    name: "ovf: a Property without a value attribute",
    ovfEnv: `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="${OE}" xmlns:oe="${OE}">
  <PropertySection>
    <Property oe:key="instance-id" oe:value="iid-ovf-novalue"/>
    <Property oe:key="hostname" oe:value="ovf-novalue"/>
    <Property oe:key="public-keys"/>
  </PropertySection>
</Environment>
`,
  },
  {
    name: "ovf: key and value attributes without a prefix (hand-written)",
    ovfEnv: `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="${OE}">
  <PropertySection>
    <Property key="instance-id" value="iid-ovf-unprefixed"/>
    <Property key="hostname" value="ovf-unprefixed"/>
  </PropertySection>
</Environment>
`,
  },
];
