// cloud-init's rsyslog `remotes` lines and `configs` entries, read without I/O.
// A remote is "[selector] [@|@@]host[:port] [# comment]": @ is UDP (the default),
// @@ TCP; an IPv6 address goes in brackets so its colons are not a port.

export interface Remote {
  name: string;
  selector: string;
  proto: "@" | "@@";
  host: string;
  port: number | null;
}

export function parseRemote(name: string, line: string): Remote | { error: string } {
  const where = `remotes.${name} (${JSON.stringify(line)})`;
  const hash = line.indexOf("#");
  const data = (hash >= 0 ? line.slice(0, hash) : line).trim();
  const toks = data.split(/\s+/).filter(Boolean);
  if (toks.length === 0 || toks.length > 2) return { error: `${where}: write it as "[selector] [@|@@]host[:port]", e.g. "*.* @@10.0.0.5:514"` };
  const [selector, hostPort] = toks.length === 2 ? [toks[0]!, toks[1]!] : ["*.*", toks[0]!];
  const addr = hostPort.replace(/^@+/, "");
  // Two colons outside brackets: an IPv6 address whose last group would be taken for the port.
  if (!addr.startsWith("[") && (addr.match(/:/g) ?? []).length >= 2) {
    return { error: `${where}: ${addr} looks like an IPv6 address without brackets; put the address in brackets, e.g. @[2001:db8::1]:514` };
  }
  const m = /^(@{0,2})(?:\[([^\]]*)\]|([^:[\]]*))(?::(.*))?$/.exec(hostPort);
  if (!m) return { error: `${where}: cannot read the host and port; write e.g. @10.0.0.5:514 or @[2001:db8::1]:514` };
  const host = (m[2] ?? m[3] ?? "").trim();
  if (!host) return { error: `${where}: no host` };
  let port: number | null = null;
  if (m[4] !== undefined) {
    port = /^\d+$/.test(m[4]) ? Number(m[4]) : NaN;
    if (!(port >= 1 && port <= 65535)) return { error: `${where}: port ${JSON.stringify(m[4])} is not a number between 1 and 65535` };
  }
  return { name, selector, proto: m[1] === "@@" ? "@@" : "@", host, port };
}

/** The rsyslog line for a remote, its name as a comment line above it. */
export function remoteLines(r: Remote): string {
  const addr = r.host.includes(":") ? `[${r.host}]` : r.host;
  return `# ${r.name}\n${r.selector} ${r.proto}${addr}${r.port !== null ? `:${r.port}` : ""}\n`;
}

export interface ConfigEntry {
  filename: string;
  content: string;
}

/** configs entries: a string goes to the default file; {filename, content} to its own. */
export function parseConfigs(list: unknown[], defaultFile: string): { entries: ConfigEntry[]; errors: string[] } {
  const entries: ConfigEntry[] = [];
  const errors: string[] = [];
  for (const [i, e] of list.entries()) {
    if (typeof e === "string") entries.push({ filename: defaultFile, content: e });
    else if (e && typeof e === "object" && typeof (e as { content?: unknown }).content === "string") {
      const fn = (e as { filename?: unknown }).filename;
      if (fn !== undefined && (typeof fn !== "string" || fn === "")) errors.push(`configs[${i}]: filename must be a file name, e.g. 30-app.conf`);
      else entries.push({ filename: (fn as string | undefined) ?? defaultFile, content: (e as { content: string }).content });
    } else errors.push(`configs[${i}] must be a string or {filename, content}`);
  }
  return { entries, errors };
}
