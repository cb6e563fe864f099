import { describe, expect, it } from "vitest";
import { cloudFqdn, cloudShortHostname } from "./cloud-hostname";
import { instanceDataDocs, localFqdn } from "./instance-data";
import type { InstanceData } from "./types";

describe("host names from local-hostname, as cloud-init's get_hostname", () => {
  it("keeps a name, makes an IPv4 address ip-a-b-c-d, and shortens to the first label", () => {
    expect(cloudFqdn("web1.example.com")).toBe("web1.example.com");
    expect(cloudShortHostname("web1.example.com")).toBe("web1");
    expect(cloudFqdn("10.1.2.3")).toBe("ip-10-1-2-3");
    expect(cloudShortHostname("10.1.2.3")).toBe("ip-10-1-2-3");
    // Not an address: five parts, an octet over 255, a leading zero.
    for (const name of ["10.1.2.3.4", "10.1.2.300", "10.01.2.3"]) expect(cloudFqdn(name)).toBe(name);
    expect(cloudShortHostname("solo")).toBe("solo");
  });

  it("instance data: v1.local_hostname is the short name (as {{ v1.local_hostname }} in cloud-init's jinja), sprout.local_fqdn the whole one", () => {
    const data = (localHostname: string | null): InstanceData => ({ instanceId: "iid-1", localHostname, platform: "nocloud", metaData: {} }) as InstanceData;
    const docs = instanceDataDocs(data("db1.internal.example"), "NoCloud");
    expect((docs.sensitive.v1 as Record<string, unknown>).local_hostname).toBe("db1");
    expect(localFqdn(docs.sensitive)).toBe("db1.internal.example");
    expect(localFqdn(docs.redacted)).toBe("db1.internal.example");
    const ip = instanceDataDocs(data("10.0.0.12"), "Ec2");
    expect([(ip.sensitive.v1 as Record<string, unknown>).local_hostname, localFqdn(ip.sensitive)]).toEqual(["ip-10-0-0-12", "ip-10-0-0-12"]);
    const none = instanceDataDocs(data(null), "None");
    expect([(none.sensitive.v1 as Record<string, unknown>).local_hostname, localFqdn(none.sensitive)]).toEqual([null, null]);
    // A document an older sprout wrote has v1.local_hostname alone.
    expect(localFqdn({ v1: { local_hostname: "old.example.org" } })).toBe("old.example.org");
  });
});
