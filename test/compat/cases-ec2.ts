// The EC2 differential cases: an EC2 metadata service (test/imds-mock on 127.0.0.1)
// shaped the way AWS serves it and the way other clouds' copies do (OpenStack's
// Nova and others: no session tokens, a 404 or 405 on the token PUT, older API
// versions only), and failing the way real ones fail. Each machine either shows
// AWS firmware (cloud-init then asks for IMDSv2 tokens, as it does only on AWS) or
// none (cloud-init reads IMDSv1 there, sprout still asks for a token first).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { defaultIdentity, defaultMetaData, type ImdsMockOptions, type Tree } from "../imds-mock/server";
import type { CompatCase } from "./cases";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHhDq4vJ1oWd4Vdo0ZqgQ0CUq1nI0m2bRk2Jm4QrSx7 alice@laptop";
const KEY_B = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDZcompatkeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@desk";
const LAUNCH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEc2LaunchKeyPairFromTheConsoleXXXXXXXXXXXXXXX my-keypair";
const seedFile = (name: string) => readFileSync(join(__dirname, "seeds", name), "utf8");

/**
 * A Xen-based EC2 instance's firmware as both agents read it (plain files: the chroot
 * has no sysfs): an "ec2..." hypervisor UUID, and the same UUID as DMI product uuid and
 * serial. cloud-init's identify_aws takes the hypervisor one, sprout either.
 */
const AWS_FIRMWARE: Record<string, string> = {
  "/sys/hypervisor/uuid": "ec2e1916-9099-7caf-fd21-0123456789ab\n",
  "/sys/class/dmi/id/product_uuid": "EC2E1916-9099-7CAF-FD21-0123456789AB\n",
  "/sys/class/dmi/id/product_serial": "ec2e1916-9099-7caf-fd21-0123456789ab\n",
  "/sys/class/dmi/id/sys_vendor": "Xen\n",
  "/sys/class/dmi/id/product_name": "HVM domU\n",
};

/**
 * The mock's meta-data for `instanceId`, without `network/` and `mac`: the machines boot
 * on this host's network namespace, and no NIC the meta-data names may ever be brought
 * up or renamed (neither agent sees a NIC without /sys/class/net, and this keeps it so).
 */
function metaData(instanceId: string, extra: Tree = {}, drop: string[] = []): Tree {
  const { network: _network, mac: _mac, ...rest } = defaultMetaData(instanceId);
  for (const k of drop) delete rest[k];
  return { ...rest, ...extra };
}

function imds(instanceId: string, o: Omit<ImdsMockOptions, "metaData"> & { extra?: Tree; drop?: string[] } = {}): ImdsMockOptions {
  const { extra, drop, ...rest } = o;
  return { identity: defaultIdentity(instanceId), ...rest, metaData: metaData(instanceId, extra, drop) };
}

const usEast = (ip: string) => ({ "local-hostname": `ip-${ip.replace(/\./g, "-")}.ec2.internal`, hostname: `ip-${ip.replace(/\./g, "-")}.ec2.internal`, "local-ipv4": ip });

const CLOUD_CONFIG = `#cloud-config
hostname: app01
users:
  - default
  - name: deploy
    groups: [adm]
    shell: /bin/bash
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - ${KEY_A}
ssh_authorized_keys:
  - ${KEY_B}
write_files:
  - path: /etc/app/config.ini
    content: |
      [app]
      env = production
    permissions: "0640"
runcmd:
  - echo "runcmd ran" > /var/tmp/ec2-runcmd
  - [sh, -c, "id -Gn deploy > /var/tmp/ec2-deploy-groups"]
`;

/**
 * The user-data AWS's knowledge center gives for running a script at every restart of
 * an instance (MIME with boundary "//", cloud_final_modules: [scripts-user, always]),
 * with the script writing to /var/tmp instead of /tmp.
 */
const AWS_EVERY_BOOT = `Content-Type: multipart/mixed; boundary="//"
MIME-Version: 1.0

--//
Content-Type: text/cloud-config; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="cloud-config.txt"

#cloud-config
cloud_final_modules:
- [scripts-user, always]

--//
Content-Type: text/x-shellscript; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="userdata.txt"

#!/bin/bash
/bin/echo "Hello World" >> /var/tmp/testfile.txt
--//--
`;

export const EC2_CASES: CompatCase[] = [
  {
    name: "ec2: AWS's user-data for a script at every restart (cloud_final_modules: [scripts-user, always])",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f6e0b1", { mode: "required", userData: AWS_EVERY_BOOT }),
  },
  {
    name: "ec2: AWS, IMDSv2 required, #cloud-config with users, keys, write_files, runcmd, hostname",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60001", { mode: "required", userData: CLOUD_CONFIG }),
  },
  {
    name: "ec2: AWS, IMDSv1 and v2 (optional), one launch key, no user-data (404)",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60002", { mode: "optional", userData: null, extra: { ...usEast("10.0.0.12"), "public-keys": { "0=my-keypair": { "openssh-key": LAUNCH_KEY } } } }),
  },
  {
    name: "ec2: other cloud, v1-only (404 on the token PUT), several public keys, no identity document",
    imds: imds("i-0000a1b2", {
      mode: "v1-only",
      v1OnlyStatus: 404,
      identity: null,
      userData: "#cloud-config\nwrite_files:\n  - path: /etc/from-v1-only\n    content: v1\n",
      extra: { ...usEast("10.0.0.12"), "public-keys": { "0=alice": { "openssh-key": KEY_A }, "1=bob": { "openssh-key": KEY_B } } },
    }),
  },
  {
    name: "ec2: other cloud, v1-only (405 on the token PUT), shell script user-data",
    imds: imds("i-0000a1b3", { mode: "v1-only", v1OnlyStatus: 405, identity: null, userData: "#!/bin/sh\necho \"script ran as $(id -un)\" > /var/tmp/ec2-script\n" }),
  },
  {
    name: "ec2: other cloud offering only API versions 1.0, 2009-04-04 and latest",
    imds: imds("i-0000a1b4", {
      mode: "v1-only",
      v1OnlyStatus: 405,
      versions: ["1.0", "2009-04-04", "latest"],
      identity: null,
      // What a 2009-04-04 tree has: no iam, no services, no instance-life-cycle.
      drop: ["iam", "services", "instance-life-cycle", "instance-action"],
      userData: "#cloud-config\nruncmd:\n  - echo old-api > /var/tmp/ec2-old-api\n",
    }),
  },
  {
    name: "ec2: AWS, local-hostname a custom FQDN (resource-name hostnames off, private DNS of a custom domain)",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60006", { mode: "required", extra: { "local-hostname": "web01.corp.example.com", hostname: "web01.corp.example.com" }, userData: "#cloud-config\n{}\n" }),
  },
  {
    name: "ec2: AWS, gzip-compressed #cloud-config user-data",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60007", { mode: "required", userData: gzipSync(Buffer.from("#cloud-config\nwrite_files:\n  - path: /etc/from-gzip\n    content: gz\nruncmd:\n  - touch /var/tmp/ec2-gzip\n")) }),
  },
  {
    name: "ec2: AWS, MIME multipart user-data (cloud-config, shell script, boothook)",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60008", { mode: "required", userData: seedFile("mime-multipart.txt") }),
  },
  {
    name: "ec2: AWS, identity document with region and AZ in a jinja template, block-device-mapping with ephemeral0, iam role",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60009", {
      mode: "required",
      extra: {
        "block-device-mapping": { ami: "/dev/xvda", ebs1: "sdf", ephemeral0: "sdb", root: "/dev/xvda" },
        placement: { "availability-zone": "eu-west-1b", "availability-zone-id": "euw1-az2", region: "eu-west-1", "group-name": "" },
      },
      userData: `## template: jinja
#cloud-config
write_files:
  - path: /etc/ec2-facts
    content: |
      id={{ v1.instance_id }}
      region={{ v1.region }}
      az={{ v1.availability_zone }}
      cloud={{ v1.cloud_name }}
      platform={{ v1.platform }}
      host={{ ds.meta_data['local-hostname'] }}
      type={{ ds.meta_data['instance-type'] }}
`,
    }),
  },
  {
    name: "ec2: other cloud, placement without region (region from the AZ) in a jinja template",
    imds: imds("i-0000a1b10", {
      mode: "optional",
      identity: null,
      extra: { placement: { "availability-zone": "nova-az1a" } },
      userData: "## template: jinja\n#cloud-config\nwrite_files:\n  - path: /etc/ec2-facts\n    content: \"region={{ v1.region }} az={{ v1.availability_zone }} cloud={{ v1.cloud_name }}\\n\"\n",
    }),
  },
  {
    name: "ec2: AWS, a 500 once on the meta-data listing, then OK",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60011", { mode: "required", userData: "#cloud-config\nruncmd:\n  - touch /var/tmp/ec2-after-500\n", faults: [{ match: /^GET \/[^/]+\/meta-data\/$/, kind: "status", status: 500, times: 1 }] }),
  },
  {
    name: "ec2: other cloud, a 503 once on the first meta-data read, then OK",
    imds: imds("i-0000a1b12", { mode: "v1-only", identity: null, userData: "#cloud-config\nruncmd:\n  - touch /var/tmp/ec2-after-503\n", faults: [{ match: /^GET \/[^/]+\/meta-data\//, kind: "status", status: 503, times: 1 }] }),
  },
  {
    name: "ec2: AWS, user-data answered with an HTML page (200 text/html from a proxy)",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60013", { mode: "required", userData: "#cloud-config\n{}\n", faults: [{ match: /^GET \/[^/]+\/user-data$/, kind: "html" }] }),
  },
  {
    name: "ec2: AWS, user-data answered with the service's 500 error page every time",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60014", { mode: "required", userData: "#cloud-config\n{}\n", faults: [{ match: /^GET \/[^/]+\/user-data$/, kind: "status", status: 500 }] }),
  },
  {
    name: "ec2: AWS, the metadata service turned off (403)",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60015", { mode: "disabled", userData: "#cloud-config\nruncmd:\n  - touch /var/tmp/ec2-disabled\n" }),
  },
  {
    name: "ec2: AWS, a 503 once on the token PUT, then OK",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60016", { mode: "required", userData: "#cloud-config\nruncmd:\n  - touch /var/tmp/ec2-after-token-503\n", faults: [{ match: /^PUT \/latest\/api\/token$/, kind: "status", status: 503, times: 1 }] }),
  },
  {
    name: "ec2: other cloud requiring IMDSv2 tokens (firmware does not say AWS)",
    imds: imds("i-0000a1b17", { mode: "required", userData: "#cloud-config\nruncmd:\n  - touch /var/tmp/ec2-v2-elsewhere\n" }),
  },
  {
    name: "ec2: AWS, cloud-config hostname with fqdn and prefer_fqdn_over_hostname, manage_etc_hosts",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60018", { mode: "optional", extra: usEast("172.31.5.9"), userData: "#cloud-config\nfqdn: api.prod.example.com\nprefer_fqdn_over_hostname: true\nmanage_etc_hosts: true\n" }),
  },
  {
    name: "ec2: other cloud, local-hostname an IPv4 address",
    imds: imds("i-0000a1b19", { mode: "v1-only", identity: null, extra: { "local-hostname": "10.1.2.3", hostname: "10.1.2.3", "local-ipv4": "10.1.2.3" }, userData: "#cloud-config\n{}\n" }),
  },
  {
    name: "ec2: other cloud, hostname but no local-hostname in the meta-data",
    imds: imds("i-0000a1b20", { mode: "v1-only", identity: null, extra: { hostname: "vm-20.cloud.example.net" }, drop: ["local-hostname"], userData: "#cloud-config\n{}\n" }),
  },
  {
    name: "ec2: AWS, a key pair name with spaces, several security groups",
    files: AWS_FIRMWARE,
    imds: imds("i-0a1b2c3d4e5f60021", { mode: "required", extra: { "public-keys": { "0=my laptop key": { "openssh-key": `${KEY_A}\n` } }, "security-groups": "web\nssh-admins" }, userData: "#cloud-config\n{}\n" }),
  },
];
