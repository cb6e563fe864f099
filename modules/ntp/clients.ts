// cloud-init's NTP clients with Debian's values (cc_ntp's NTP_CLIENT_CONFIG merged
// with its DISTRO_CLIENT_CONFIG["debian"]), and how one is chosen.
import type { TargetRoot } from "../../agent/host/types";
import { findInTarget } from "../../agent/target-command";

export interface ClientConfig {
  /** The program whose presence means the client is installed: a name on PATH or an absolute path. */
  check_exe: string;
  confpath: string;
  packages: string[];
  service_name: string;
  /** A built-in template's name (templates.ts), unless `template` gives the text. */
  template_name?: string;
  /** The template's text (ntp.config.template). */
  template?: string;
}

export const CLIENTS: Record<string, ClientConfig> = {
  chrony: { check_exe: "chronyd", confpath: "/etc/chrony/chrony.conf", packages: ["chrony"], service_name: "chrony", template_name: "chrony.conf.debian" },
  ntp: { check_exe: "ntpd", confpath: "/etc/ntp.conf", packages: ["ntp"], service_name: "ntp", template_name: "ntp.conf.debian" },
  ntpdate: { check_exe: "ntpdate", confpath: "/etc/ntp.conf", packages: ["ntpdate"], service_name: "ntpdate", template_name: "ntp.conf.debian" },
  // Debian has no openntpd template in cloud-init: choosing it is an error unless ntp.config.template is given.
  openntpd: { check_exe: "ntpd", confpath: "/etc/ntpd.conf", packages: [], service_name: "ntpd", template_name: "ntpd.conf.debian" },
  "systemd-timesyncd": { check_exe: "/lib/systemd/systemd-timesyncd", confpath: "/etc/systemd/timesyncd.conf.d/cloud-init.conf", packages: [], service_name: "systemd-timesyncd", template_name: "timesyncd.conf" },
};

/** Debian's preference when ntp_client is auto: the first installed, else the first. */
export const PREFERRED = ["chrony", "systemd-timesyncd", "ntp", "ntpdate"] as const;

/** The default pools written when neither servers nor pools are given (a name in a file, never contacted by sprout). */
export const DEFAULT_POOLS = [0, 1, 2, 3].map((n) => `${n}.debian.pool.ntp.org`);

// The PATH cloud-init runs with under systemd; the target's own programs, not the host's.
/**
 * The client's name and settings: `requested` when given (and not auto), else the first
 * of Debian's preference that is installed, else chrony (to be installed). An unknown
 * name gives an empty config, which ntp.config must fill (a client of your own).
 */
export function selectClient(requested: string | undefined, root: TargetRoot): { name: string; config: Partial<ClientConfig> } {
  if (requested && requested !== "auto") return { name: requested, config: CLIENTS[requested] ?? {} };
  const name = PREFERRED.find((n) => findInTarget(root, CLIENTS[n]!.check_exe)) ?? PREFERRED[0];
  return { name, config: CLIENTS[name]! };
}
