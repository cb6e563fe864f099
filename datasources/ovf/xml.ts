// A small, strict XML reader for the OVF environment: elements and their attributes,
// in one pass over the text. It is what the OVF datasource needs and no more, so it
// costs about a millisecond at boot where a general XML parser costs several (see the
// README's dependency table). It never reads a DTD: a DOCTYPE or an entity
// declaration is an XmlDtdError before anything else happens, and the only references
// it knows are the five predefined entities and character references, so nothing is
// read from outside and nothing expands.
//
// Handled as XML has them: the XML declaration, namespace prefixes (an element's or
// attribute's local name is the part after the prefix), attributes in double or
// single quotes, comments, processing instructions, CDATA sections. Text content is
// checked (an "&" must start a predefined entity or a character reference) but not
// kept: the OVF environment holds its data in attributes. Where fast-xml-parser, sprout's earlier parser, was lenient
// inside an attribute value (a "<", a lone "&", an unknown entity), this reader keeps
// the characters as written, so an environment that worked before reads the same;
// likewise a comment may hold "--" (people write `<!-- use --flag -->`).

export interface XmlElement {
  /** The qualified name as written: "oe:Property". */
  name: string;
  /** The name without its namespace prefix: "Property". */
  local: string;
  /** Attributes in document order, values as XML reads them (attributeValue). */
  attrs: Array<{ name: string; local: string; value: string }>;
  children: XmlElement[];
}

/** Malformed XML; `offset` is where in the text the reader stopped. */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** A DOCTYPE or entity declaration: refused, never read. */
export class XmlDtdError extends XmlSyntaxError {}

// XML 1.0 (fifth edition) name characters, basic multilingual plane.
const NAME_START = ":A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD";
const NAME = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, "y");
// {0,} rather than *: a "*" before the closing "/" would put "*/" in the bundle, which the
// loader then has to unescape at every start (packaging/code-cache-loader.js).
const SPACE = /[ \t\r\n]{0,}/y;
/** version, then optionally encoding and standalone, in that order (XML 1.0, production 23). */
const XML_DECL = /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][-\w.]*"|'[A-Za-z][-\w.]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>/y;
/** An "&" in text that is not a predefined entity or a character reference: there is no DTD to define others. */
const TEXT_AMP = /&(?!(?:lt|gt|amp|quot|apos);|#[0-9]+;|#x[0-9a-fA-F]+;)/;
const REFERENCE = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The five predefined entities and character references; anything else stays as written. */
function decodeReferences(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(REFERENCE, (_, ref: string) => {
    if (ref[0] !== "#") return PREDEFINED[ref]!;
    const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : "\uFFFD";
  });
}

/**
 * An attribute value as XML reads it: a line break (CR LF, CR or LF) or tab written in
 * the value is a space (XML 1.0, 3.3.3), a reference is its character (so &#10; is a
 * line break). cloud-init's parser (expat) reads values so: a public-keys value pasted
 * over two lines is one line to it, and must be to sprout.
 */
export function attributeValue(raw: string): string {
  return decodeReferences(raw.replace(/\r\n?|[\n\t]/g, " "));
}

const localName = (name: string) => name.slice(name.indexOf(":") + 1);

/** The document's root element. Throws XmlDtdError for a DTD and XmlSyntaxError for anything malformed. */
export function readXml(text: string): XmlElement {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const start = pos;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const fail = (message: string, at = pos): never => {
    throw new XmlSyntaxError(message, at);
  };
  const skipSpace = () => {
    SPACE.lastIndex = pos;
    SPACE.test(text);
    pos = SPACE.lastIndex;
  };
  const readName = (what: string): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) fail(`expected ${what}${pos < text.length ? `, found ${JSON.stringify(text[pos])}` : " before the end of the document"}`);
    pos += m![0].length;
    return m![0];
  };
  const skipPast = (end: string, what: string) => {
    const i = text.indexOf(end, pos);
    if (i < 0) fail(`${what} is never closed with ${end}`);
    pos = i + end.length;
  };

  while (pos < text.length) {
    const lt = text.indexOf("<", pos);
    const textEnd = lt < 0 ? text.length : lt;
    if (textEnd > pos) {
      if (stack.length === 0) {
        for (let i = pos; i < textEnd; i++) if (!isSpace(text.charCodeAt(i))) fail(root ? "text after the root element" : "text before the root element", i);
      } else {
        // Searched within this run of text only: a search to the end of the document for every run would be quadratic.
        const run = text.slice(pos, textEnd);
        const amp = run.includes("&") ? TEXT_AMP.exec(run) : null;
        if (amp) fail('"&" that is not &lt; &gt; &amp; &quot; &apos; or a character reference (write & as &amp;)', pos + amp.index);
        const cdataEnd = run.indexOf("]]>");
        if (cdataEnd >= 0) fail('"]]>" in text, outside a CDATA section (write ]]&gt;)', pos + cdataEnd);
      }
      pos = textEnd;
      if (lt < 0) break;
    }
    const tagStart = pos;
    const next = text[pos + 1];
    if (next === "?") {
      pos += 2;
      const target = readName("a processing instruction target");
      if (target.toLowerCase() !== "xml") {
        if (!text.startsWith("?>", pos) && !isSpace(text.charCodeAt(pos))) fail(`expected a space or "?>" after <?${target}`);
        skipPast("?>", "a processing instruction");
      } else {
        if (tagStart !== start) fail("the XML declaration is allowed only at the very start of the document", tagStart);
        XML_DECL.lastIndex = tagStart;
        if (!XML_DECL.test(text)) fail('the XML declaration is not <?xml version="1.0" encoding="..." standalone="..."?> (encoding and standalone optional)', tagStart);
        pos = XML_DECL.lastIndex;
      }
    } else if (next === "!") {
      if (text.startsWith("<!--", pos)) {
        pos += 4;
        skipPast("-->", "a comment");
      } else if (text.startsWith("<![CDATA[", pos)) {
        if (stack.length === 0) fail("a CDATA section outside the root element");
        pos += 9;
        skipPast("]]>", "a CDATA section");
      } else if (/^<!(DOCTYPE|ENTITY)/i.test(text.slice(pos, pos + 9))) {
        throw new XmlDtdError("a DOCTYPE or entity declaration", pos);
      } else fail('"<!" that starts no comment or CDATA section');
    } else if (next === "/") {
      pos += 2;
      const name = readName("the name of a closing tag");
      skipSpace();
      if (text[pos] !== ">") fail(`expected ">" to end the closing tag </${name}`);
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> without an opening tag`, tagStart);
      if (open!.name !== name) fail(`closing tag </${name}> where </${open!.name}> was expected`, tagStart);
      pos++;
    } else {
      pos++;
      const name = readName("an element name after \"<\"");
      if (stack.length === 0 && root) fail(`a second root element <${name}>`, tagStart);
      const el: XmlElement = { name, local: localName(name), attrs: [], children: [] };
      const seen = new Set<string>();
      let selfClosing = false;
      for (;;) {
        const before = pos;
        skipSpace();
        const c = text[pos];
        if (c === ">") {
          pos++;
          break;
        }
        if (c === "/" && text[pos + 1] === ">") {
          pos += 2;
          selfClosing = true;
          break;
        }
        if (c === undefined) fail(`<${name}> is never closed with ">"`, tagStart);
        if (pos === before) fail(`expected a space, ">" or "/>" in <${name}>`);
        const attrAt = pos;
        const attr = readName(`an attribute name or the end of <${name}>`);
        skipSpace();
        if (text[pos] !== "=") fail(`attribute ${attr} has no value (write ${attr}="...")`, attrAt);
        pos++;
        skipSpace();
        const quote = text[pos];
        if (quote !== '"' && quote !== "'") fail(`the value of attribute ${attr} is not in quotes`);
        const close = text.indexOf(quote!, pos + 1);
        if (close < 0) fail(`the value of attribute ${attr} has no closing quote`, pos);
        if (seen.has(attr)) fail(`attribute ${attr} is repeated`, attrAt);
        seen.add(attr);
        el.attrs.push({ name: attr, local: localName(attr), value: attributeValue(text.slice(pos + 1, close)) });
        pos = close + 1;
      }
      if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
      else root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) fail("no root element");
  return root!;
}

/** The value of the attribute with this local name (the last one wins), ignoring namespace declarations. */
export function attribute(el: XmlElement, local: string): string | undefined {
  let value: string | undefined;
  for (const a of el.attrs) if (a.local === local && a.name !== "xmlns" && !a.name.startsWith("xmlns:")) value = a.value;
  return value;
}

/** 1-based line and column of an offset, for error messages. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}
