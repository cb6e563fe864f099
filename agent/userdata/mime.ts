// MIME multipart user-data, as cloud-init's write-mime-multipart and Python's
// email package produce it: headers, a multipart/* body split on its boundary
// (nested multiparts flattened), and base64 / quoted-printable parts decoded.
// Bytes are handled as latin1 strings so nothing is lost before decoding.

export interface MimeHeaders {
  /** Lower-cased header names; the last occurrence wins. */
  [name: string]: string;
}

export interface MimePart {
  /** Lower-cased type/subtype, "text/plain" when absent. */
  contentType: string;
  headers: MimeHeaders;
  /** Content-Disposition filename (or Content-Type name), when given. */
  filename: string | null;
  body: Buffer;
}

export interface ParsedMime {
  parts: MimePart[];
  /** A part or a boundary that could not be used; the other parts still are. */
  problems: string[];
}

const MAX_DEPTH = 10;

/** cloud-init's test: "mime-version:" in the first 4 KiB. */
export function looksLikeMime(bytes: Buffer): boolean {
  return bytes.subarray(0, 4096).toString("latin1").toLowerCase().includes("mime-version:");
}

function splitHeaders(text: string): { headers: MimeHeaders; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const body = m ? text.slice(m.index + m[0].length) : "";
  const headers: MimeHeaders = {};
  let last: string | null = null;
  for (const line of head.split(/\r?\n/)) {
    if (/^From /.test(line) && last === null) continue; // mbox "From " line
    if (/^[ \t]/.test(line) && last !== null) {
      headers[last] += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** `type/sub; a=b; c="d"` -> value and parameters (names lower-cased). */
export function parseHeaderValue(value: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  const semi = value.indexOf(";");
  const main = (semi < 0 ? value : value.slice(0, semi)).trim();
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
  return { value: main, params };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function decodeBody(body: string, encoding: string): Buffer {
  const enc = encoding.toLowerCase().trim();
  if (enc === "base64") {
    const clean = body.replace(/[\s]+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) throw new Error("its base64 content is not valid base64");
    return Buffer.from(clean, "base64");
  }
  if (enc === "quoted-printable") {
    const text = body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(text, "latin1");
  }
  if (enc === "" || enc === "7bit" || enc === "8bit" || enc === "binary") return Buffer.from(body, "latin1");
  throw new Error(`its Content-Transfer-Encoding ${JSON.stringify(encoding)} is unknown (use base64, quoted-printable, 7bit or 8bit)`);
}

function walk(text: string, out: ParsedMime, where: string, depth: number): void {
  const { headers, body } = splitHeaders(text);
  const ct = parseHeaderValue(headers["content-type"] ?? "text/plain");
  const type = ct.value.toLowerCase() || "text/plain";
  if (type.startsWith("multipart/")) {
    if (depth >= MAX_DEPTH) {
      out.problems.push(`${where}: multipart nested deeper than ${MAX_DEPTH} levels; its parts were skipped`);
      return;
    }
    const boundary = ct.params.boundary;
    if (!boundary) {
      out.problems.push(`${where}: ${type} without a boundary parameter; its parts were skipped (add boundary="..." to the Content-Type header)`);
      return;
    }
    const delim = new RegExp(`(?:^|\\r?\\n)--${escapeRe(boundary)}(--)?[ \\t]*(?=\\r?\\n|$)`, "g");
    const marks: Array<{ start: number; end: number; close: boolean }> = [];
    let m: RegExpExecArray | null;
    while ((m = delim.exec(body)) !== null) {
      marks.push({ start: m.index, end: m.index + m[0].length, close: m[1] === "--" });
      if (m[1] === "--") break;
    }
    if (marks.length === 0) {
      out.problems.push(`${where}: the boundary ${JSON.stringify(boundary)} never appears in the body; its parts were skipped (each part must start with a line --${boundary})`);
      return;
    }
    if (!marks[marks.length - 1]!.close) out.problems.push(`${where}: no closing --${boundary}-- line; the parts up to the end were used`);
    for (let i = 0; i < marks.length; i++) {
      if (marks[i]!.close) break;
      const end = i + 1 < marks.length ? marks[i + 1]!.start : body.length;
      const chunk = body.slice(marks[i]!.end, end).replace(/^[ \t]*\r?\n/, "");
      walk(chunk, out, `${where} part ${i + 1}`, depth + 1);
    }
    return;
  }
  let decoded: Buffer;
  try {
    decoded = decodeBody(body, headers["content-transfer-encoding"] ?? "");
  } catch (err) {
    out.problems.push(`${where} (${type}): ${(err as Error).message}; this part was skipped`);
    return;
  }
  const disp = headers["content-disposition"] ? parseHeaderValue(headers["content-disposition"]).params.filename : undefined;
  out.parts.push({ contentType: type, headers, filename: disp ?? ct.params.name ?? null, body: decoded });
}

/** Splits a MIME message into its leaf parts. Never throws. */
export function parseMime(bytes: Buffer): ParsedMime {
  const out: ParsedMime = { parts: [], problems: [] };
  walk(bytes.toString("latin1"), out, "MIME message", 0);
  return out;
}
