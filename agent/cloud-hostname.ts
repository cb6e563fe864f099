// The host names a datasource's local-hostname gives, as cloud-init's
// DataSource.get_hostname reads it (22.4.2, every datasource alike). Pure.

/** A dotted IPv4 address (what EC2 copies without DNS names put in local-hostname). */
export function isIpv4(text: string): boolean {
  const octets = text.split(".");
  return octets.length === 4 && octets.every((o) => /^(0|[1-9]\d{0,2})$/.test(o) && Number(o) <= 255);
}

/**
 * get_hostname(fqdn=True): the name itself, except that an IPv4 address becomes
 * ip-10-1-2-3 (LP: #475354), where its first octet would otherwise be the host name.
 */
export function cloudFqdn(localHostname: string): string {
  return isIpv4(localHostname) ? `ip-${localHostname.replace(/\./g, "-")}` : localHostname;
}

/** get_hostname(): the first label of that, which is what instance data's v1.local_hostname holds. */
export function cloudShortHostname(localHostname: string): string {
  return cloudFqdn(localHostname).split(".")[0]!;
}
