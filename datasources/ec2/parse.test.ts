import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { errorPage } from "../../test/imds-mock/server";
import { chooseApiVersion, decodeLeaf, ec2PlatformReason, htmlTitle, isEc2Uuid, isValidToken, parseListing, regionFromZone, sensitivePaths, summarize } from "./parse";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name));
const noFacts = { productUuid: null, hypervisorUuid: null, sysVendor: null, productName: null, boardAssetTag: null };

describe("EC2 platform identification", () => {
  it("accepts EC2 uuids in either byte order, and nothing else", () => {
    expect(isEc2Uuid("EC2E1916-9099-7CAF-FD21-012345ABCDEF")).toBe(true);
    expect(isEc2Uuid("ec2a0b1c-0000-0000-0000-000000000000")).toBe(true);
    // The same uuid with the first field's bytes swapped (little-endian firmware).
    expect(isEc2Uuid("45E12AEC-DCD1-B213-94ED-012345ABCDEF")).toBe(true);
    expect(isEc2Uuid("16192EEC-9099-7CAF-FD21-012345ABCDEF")).toBe(true);
    expect(isEc2Uuid("4c4c4544-0035-4810-8030-b4c04f4d4e31")).toBe(false);
    expect(isEc2Uuid("2ec00000-0000-0000-0000-000000000000")).toBe(false);
    expect(isEc2Uuid("")).toBe(false);
    expect(isEc2Uuid("not a uuid")).toBe(false);
  });

  it("names the fact it went by", () => {
    expect(ec2PlatformReason({ ...noFacts, productUuid: "ec2e1916-9099-7caf-fd21-012345abcdef" })).toMatch(/product_uuid/);
    expect(ec2PlatformReason({ ...noFacts, hypervisorUuid: "ec2e1916-9099-7caf-fd21-012345abcdef" })).toMatch(/hypervisor/);
    expect(ec2PlatformReason({ ...noFacts, sysVendor: "Amazon EC2" })).toMatch(/sys_vendor/);
    expect(ec2PlatformReason({ ...noFacts, boardAssetTag: "Amazon EC2" })).toMatch(/board_asset_tag/);
    expect(ec2PlatformReason({ ...noFacts, sysVendor: "QEMU", productName: "Standard PC (Q35 + ICH9, 2009)", productUuid: "4c4c4544-0035-4810-8030-b4c04f4d4e31" })).toBeNull();
    expect(ec2PlatformReason(noFacts)).toBeNull();
  });
});

describe("listings", () => {
  it("reads a meta-data listing: directories end in /", () => {
    const l = parseListing(fixture("meta-data-listing.txt").toString());
    expect(l.rejected).toEqual([]);
    expect(l.entries.find((e) => e.name === "instance-id")).toEqual({ name: "instance-id", resource: "instance-id", dir: false });
    expect(l.entries.find((e) => e.name === "placement")).toEqual({ name: "placement", resource: "placement/", dir: true });
    expect(l.entries.filter((e) => e.dir).map((e) => e.name)).toEqual(["block-device-mapping", "events", "iam", "identity-credentials", "metrics", "network", "placement", "public-keys", "services"]);
  });

  it("turns public-keys' N=name into the key named name at N/openssh-key", () => {
    const l = parseListing(fixture("public-keys-listing.txt").toString());
    expect(l.entries).toEqual([
      { name: "my-key", resource: "0/openssh-key", dir: false },
      { name: "other key", resource: "1/openssh-key", dir: false },
    ]);
  });

  it("leaves out entries that would leave the directory or pollute the tree", () => {
    const l = parseListing(fixture("hostile-listing.txt").toString());
    expect(l.entries.map((e) => e.name)).toEqual(["ok"]);
    expect(l.rejected).toEqual(["../", "..", "__proto__", "bad name", "/abs"]);
  });

  it("reads CRLF listings", () => {
    expect(parseListing("a\r\nb/\r\n").entries.map((e) => e.resource)).toEqual(["a", "b/"]);
  });
});

describe("API version", () => {
  it("picks the newest version sprout reads among those offered", () => {
    expect(chooseApiVersion(fixture("versions-aws.txt").toString())).toBe("2021-03-23");
    expect(chooseApiVersion("2016-09-02\n2018-09-24\nlatest")).toBe("2018-09-24");
    expect(chooseApiVersion("1.0\n2016-09-02")).toBe("2016-09-02");
  });
  it("falls back to 2009-04-04 when none of them is offered", () => {
    expect(chooseApiVersion(fixture("versions-old-copy.txt").toString())).toBe("2009-04-04");
    expect(chooseApiVersion("")).toBe("2009-04-04");
  });
});

describe("answers that are not metadata", () => {
  it("recognises the service's own 404 page and other HTML", () => {
    expect(htmlTitle(Buffer.from(errorPage(404, "Not Found")), undefined)).toBe("404 - Not Found");
    expect(htmlTitle(Buffer.from("<html><body>x</body></html>"), undefined)).toBe("untitled page");
    expect(htmlTitle(Buffer.from("anything"), "text/html; charset=utf-8")).toBe("untitled page");
    expect(htmlTitle(Buffer.from("ami-id\ninstance-id"), "text/plain")).toBeNull();
  });
  it("accepts only a printable word as a token", () => {
    expect(isValidToken("AQAEAFc2Yw2x9Xn4k8m0XW0h0VfH2eWm6Q==")).toBe(true);
    expect(isValidToken("")).toBe(false);
    expect(isValidToken("two words")).toBe(false);
    expect(isValidToken("a\nb")).toBe(false);
    expect(isValidToken("x".repeat(5000))).toBe(false);
  });
});

describe("leaves and the summary", () => {
  it("keeps text, reads JSON objects, and leaves broken JSON as text", () => {
    expect(decodeLeaf(Buffer.from("t3.micro"))).toBe("t3.micro");
    expect(decodeLeaf(Buffer.from('{"Code":"Success"}'))).toEqual({ Code: "Success" });
    expect(decodeLeaf(Buffer.from('{"Code":'))).toBe('{"Code":');
  });

  it("maps the identity document and meta-data to v1 facts", () => {
    const identity = JSON.parse(fixture("identity-document.json").toString());
    const s = summarize({ "instance-id": "i-1234567890abcdef0", "local-hostname": "ip-10-0-1-5.us-west-2.compute.internal", placement: { "availability-zone": "us-west-2c" } }, identity);
    expect(s).toEqual({ instanceId: "i-1234567890abcdef0", localHostname: "ip-10-0-1-5.us-west-2.compute.internal", availabilityZone: "us-west-2c", region: "us-west-2", instanceType: "m5.large" });
  });

  it("takes the host name from local-hostname alone, as cloud-init (an IPv4 address there becomes ip-a-b-c-d in the instance data: agent/cloud-hostname.test.ts)", () => {
    const md = { "instance-id": "i-1" };
    expect(summarize({ ...md, "local-hostname": "10.1.2.3", hostname: "vm-20" }, null).localHostname).toBe("10.1.2.3");
    // cloud-init reads `hostname` nowhere: without local-hostname the machine keeps its name.
    expect(summarize({ ...md, hostname: "vm-20.cloud.example.net" }, null).localHostname).toBeNull();
    expect(summarize({ ...md, "local-hostname": "10.1.2.300" }, null).localHostname).toBe("10.1.2.300");
    expect(summarize({ ...md, "local-hostname": "web01.corp.example.com" }, null).localHostname).toBe("web01.corp.example.com");
  });

  it("derives the region from the zone when nothing else says it", () => {
    expect(summarize({ "instance-id": "i-1", placement: { "availability-zone": "eu-central-1a" } }, null).region).toBe("eu-central-1");
    expect(regionFromZone("us-gov-west-1a")).toBe("us-gov-west-1");
    expect(regionFromZone("nova")).toBeNull();
    expect(regionFromZone(null)).toBeNull();
  });

  it("lists the credentials as sensitive, and only when present", () => {
    expect(sensitivePaths({ iam: { "security-credentials": { role: {} } }, "identity-credentials": {} })).toEqual(["meta_data.iam.security-credentials", "meta_data.identity-credentials"]);
    expect(sensitivePaths({ iam: { info: "{}" } })).toEqual([]);
  });
});
