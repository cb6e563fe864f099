// None: the fallback when no other datasource is found or all failed. The
// modules still run, configured by the system config alone.
import type { Datasource } from "../../agent/types";

export const none: Datasource = {
  id: "None",
  phase: "local",
  async detect() {
    return { reason: "fallback: no other datasource" };
  },
  async fetch() {
    return {
      instanceId: "iid-datasource-none",
      localHostname: null,
      platform: "none",
      cloudName: "none",
      subplatform: "config",
      region: null,
      availabilityZone: null,
      publicSshKeys: [],
      metaData: {},
      userData: null,
      vendorData: null,
      networkConfig: null,
    };
  },
};
