// The OVF environment's XML reader, on its own and against fast-xml-parser (sprout's
// parser before it, kept as a dev dependency): every document the corpus and the
// tests hold must give the same elements and attribute values through both, and
// every document fast-xml-parser refuses this reader must refuse too.
import { readFileSync } from "node:fs";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { ovfEnvXml } from "../../agent/commands/seed";
import { attributeValue, lineCol, readXml, XmlDtdError, XmlSyntaxError, type XmlElement } from "./xml";

const CORPUS = "/work/shared/corpus/cloud-init/ovf";

/** What a VMware host writes into guestinfo.ovfEnv or the transport ISO. */
const VMWARE_ENV = `<?xml version="1.0" encoding="UTF-8"?>
<Environment
     xmlns="http://schemas.dmtf.org/ovf/environment/1"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"
     xmlns:ve="http://www.vmware.com/schema/ovfenv"
     oe:id=""
     ve:vCenterId="vm-1234">
   <PlatformSection>
      <Kind>VMware ESXi</Kind>
      <Version>7.0.3</Version>
      <Vendor>VMware, Inc.</Vendor>
      <Locale>en</Locale>
   </PlatformSection>
   <PropertySection>
         <Property oe:key="hostname" oe:value="web-01"/>
         <Property oe:key="instance-id" oe:value="id-ovf"/>
         <Property oe:key="user-data" oe:value="I2Nsb3VkLWNvbmZpZwpydW5jbWQ6IFtscy
          wgLV0K"/>
   </PropertySection>
   <ve:EthernetAdapterSection>
      <ve:Adapter ve:mac="00:50:56:aa:bb:cc" ve:network="VM Network" ve:unitNumber="7"/>
   </ve:EthernetAdapterSection>
</Environment>
`;

/** Everything an environment may hold, in one document. */
const EVERYTHING = `\uFEFF<?xml version='1.0' encoding='UTF-8'?>
<?xml-stylesheet type="text/xsl" href="env.xsl"?>
<!-- a comment before the root, with <markup> & an ampersand -->
<oe:Environment xmlns:oe='http://schemas.dmtf.org/ovf/environment/1' oe:id = "vm&#45;1">\r
  <oe:PlatformSection><Kind>KVM &amp; friends</Kind><Note><![CDATA[ <Property oe:key="cdata" oe:value="no"/> & ]]></Note></oe:PlatformSection>\r
  <oe:PropertySection>
    <!-- <Property oe:key="commented" oe:value="no"/> -->
    <?sprout ignore this?>
    <oe:Property oe:key='quote' oe:value='say "hi" &apos;there&apos;'/>
    <oe:Property oe:key="entities" oe:value="&lt;a&gt; &amp; &quot;b&quot; &#65;&#x42;&#x1F600;"/>
    <oe:Property oe:key="utf-8" oe:value="Zürich, 東京, 🌱"></oe:Property>
    <Property key="no-prefix" value="plain"
    />
  </oe:PropertySection>
</oe:Environment>
<!-- trailing comment -->
`;

/** fast-xml-parser's reading of a document as a tree like readXml's (text, comments and declarations left out). */
function fxpTree(xml: string): XmlElement {
  const nodes = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: "", processEntities: false, htmlEntities: false, parseAttributeValue: false, parseTagValue: false, trimValues: false }).parse(xml) as Array<Record<string, unknown>>;
  const convert = (node: Record<string, unknown>): XmlElement | null => {
    const name = Object.keys(node).find((k) => k !== ":@")!;
    if (name.startsWith("#") || name.startsWith("?")) return null;
    const attrs = Object.entries((node[":@"] ?? {}) as Record<string, string>).map(([n, v]) => ({ name: n, local: n.slice(n.indexOf(":") + 1), value: attributeValue(v) }));
    const children = (node[name] as Array<Record<string, unknown>>).map(convert).filter((c): c is XmlElement => c !== null);
    return { name, local: name.slice(name.indexOf(":") + 1), attrs, children };
  };
  const roots = nodes.map(convert).filter((c): c is XmlElement => c !== null);
  expect(roots).toHaveLength(1);
  return roots[0]!;
}

function syntaxError(xml: string): XmlSyntaxError {
  try {
    readXml(xml);
  } catch (err) {
    if (err instanceof XmlSyntaxError) return err;
    throw err;
  }
  throw new Error(`accepted: ${xml}`);
}

describe("readXml against fast-xml-parser", () => {
  const documents: Record<string, string> = {
    "cloud-init's ovf-env.xml": readFileSync(`${CORPUS}/ovf-env.xml`, "utf8"),
    "cloud-init's OVF descriptor ubuntu-server.ovf": readFileSync(`${CORPUS}/ubuntu-server.ovf`, "utf8"),
    "a VMware environment": VMWARE_ENV,
    "prefixes, both quotes, entities, CDATA, comments, PIs, BOM, CRLF, UTF-8": EVERYTHING,
    "sprout seed ovf's environment with awkward values": ovfEnvXml({ "instance-id": "i-1", hostname: "a<b>&\"c'", "user-data": "#!/bin/sh\necho 'hi' \"there\" <&>\n\tend\r\n", "public-keys": "ssh-ed25519 AAAA x@y\nssh-rsa BBBB z" }),
  };
  for (const [name, xml] of Object.entries(documents)) {
    it(`reads ${name} as fast-xml-parser does`, () => {
      expect(XMLValidator.validate(xml)).toBe(true);
      expect(readXml(xml)).toEqual(fxpTree(xml));
    });
  }

  it("decodes the five predefined entities and character references, in either quote style", () => {
    const props = readXml(EVERYTHING).children[1]!.children;
    const value = (key: string) => props.find((p) => p.attrs[0]!.value === key)!.attrs[1]!.value;
    expect(value("quote")).toBe(`say "hi" 'there'`);
    expect(value("entities")).toBe('<a> & "b" AB😀');
    expect(value("utf-8")).toBe("Zürich, 東京, 🌱");
    expect(props.map((p) => p.attrs[0]!.value)).toEqual(["quote", "entities", "utf-8", "no-prefix"]);
  });

  it("reads a line break, CR LF or tab written in an attribute value as a space, as XML does; &#10; &#13; &#9; stay", () => {
    // A public-keys value pasted over two lines is one line to cloud-init's parser (expat).
    const xml = `<Environment><Property key="k" value="a\nb\r\nc\rd\te &#10;f&#13;&#9;"/></Environment>`;
    expect(readXml(xml).children[0]!.attrs[1]!.value).toBe("a b c d e \nf\r\t");
  });

  it("keeps what fast-xml-parser kept in an attribute value: a lone &, an unknown entity, a <", () => {
    const xml = `<Environment><Property key="k" value="http://h/?a=1&b=2 &nbsp; a<b &#xZZ;"/></Environment>`;
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(readXml(xml).children[0]!.attrs[1]!.value).toBe("http://h/?a=1&b=2 &nbsp; a<b &#xZZ;");
    expect(readXml(xml)).toEqual(fxpTree(xml));
  });

  const malformed: Record<string, string> = {
    "an unclosed element": `<Environment><PropertySection></Environment>`,
    "closing tags crossed": `<E><F></E></F>`,
    "a closing tag without an opening": `</E>`,
    "no root element": `<?xml version="1.0"?>\n<!-- nothing -->\n`,
    "an empty document": ``,
    "text before the root": `x<E/>`,
    "an attribute without a value": `<E a/>`,
    "an unquoted attribute": `<E a=1/>`,
    "an attribute without its closing quote": `<E a="x/>`,
    "attributes without a space between": `<E a="1"b="2"/>`,
    "a repeated attribute": `<E a="1" a="2"/>`,
    "a name that starts with a digit": `<1E/>`,
    "a space after <": `< E/>`,
    "a lone & in text": `<E>a & b</E>`,
    "a malformed character reference in text": `<E>&#xZZ;</E>`,
    "a < in text": `<E>a < b</E>`,
    "an unclosed comment": `<E><!-- x </E>`,
    "an unclosed CDATA section": `<E><![CDATA[ x </E>`,
    "an unclosed processing instruction": `<E><?pi x </E>`,
    "an XML declaration that is not first": ` <?xml version="1.0"?><E/>`,
    "an XML declaration after a comment": `<!-- c --><?xml version="1.0"?><E/>`,
    "a closing tag with attributes": `<E></E a="1">`,
    "a start tag cut off": `<E a="1"`,
  };
  for (const [name, xml] of Object.entries(malformed)) {
    it(`refuses ${name}, as fast-xml-parser does`, () => {
      expect(XMLValidator.validate(xml)).not.toBe(true);
      expect(syntaxError(xml)).not.toBeInstanceOf(XmlDtdError);
    });
  }

  // fast-xml-parser let these through; no OVF environment has them, and each would hide a broken or spliced file.
  const strictHere: Record<string, string> = {
    "a second root element": `<Environment/><Environment/>`,
    "text after the root element": `<Environment/>junk`,
    "a CDATA section outside the root": `<Environment/><![CDATA[x]]>`,
    "<! markup that is no comment, CDATA or DTD": `<Environment><!foo></Environment>`,
    "an undefined entity in text": `<Environment><Kind>&nbsp;</Kind></Environment>`,
    "]]> in text": `<Environment><Kind>a ]]> b</Kind></Environment>`,
    "a processing instruction target run into its text": `<?xml version="1.0"?><?pi]x?><Environment/>`,
    "an XML declaration without a version": `<?xml encoding="UTF-8"?><Environment/>`,
    "an XML declaration with an unknown pseudo-attribute": `<?xml version="1.0" foo="x"?><Environment/>`,
    "an XML declaration with its parts out of order": `<?xml standalone="yes" version="1.0"?><Environment/>`,
    "an XML declaration in capitals": `<?XML version="1.0"?><Environment/>`,
  };
  for (const [name, xml] of Object.entries(strictHere)) {
    it(`refuses ${name}, which fast-xml-parser accepted`, () => {
      expect(XMLValidator.validate(xml)).toBe(true);
      expect(syntaxError(xml)).toBeInstanceOf(XmlSyntaxError);
    });
  }

  it.each([
    ["cloud-init's ovf-env.xml", readFileSync(`${CORPUS}/ovf-env.xml`, "utf8")],
    ["the VMware environment", VMWARE_ENV],
    ["the environment with everything", EVERYTHING],
  ])("agrees with fast-xml-parser on corrupted copies of %s", (_, base) => {
    // Deterministic corruption (delete, duplicate or replace one character with markup); fast-xml-parser's
    // validator is the reference: what it refuses, readXml refuses; what both accept reads the same.
    const junk = ["<", ">", "&", '"', "'", "/", "=", " ", "!", "?", "-", "]", "x", ":"];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let refusedByBoth = 0;
    for (let i = 0; i < Number(process.env.SPROUT_XML_FUZZ ?? 2000); i++) {
      const at = rand(base.length);
      const op = rand(3);
      const doc = op === 0 ? base.slice(0, at) + base.slice(at + 1) : op === 1 ? base.slice(0, at) + base[at] + base.slice(at) : base.slice(0, at) + junk[rand(junk.length)] + base.slice(at + 1);
      let reference: XmlElement | null = null;
      try {
        // The validator passes a few documents its parser then refuses ("Pi Tag is not closed"): both count.
        if (XMLValidator.validate(doc) === true) reference = fxpTree(doc);
      } catch {
        reference = null;
      }
      let mine: XmlElement | null = null;
      try {
        mine = readXml(doc);
      } catch (err) {
        if (!(err instanceof XmlSyntaxError)) throw err;
      }
      // fast-xml-parser reads a processing instruction's text as attributes and refuses a lone quote there; XML does not.
      const inPi = [...doc.matchAll(/<\?(?!xml[\s?])[\s\S]*?\?>/g)].some((m) => at >= m.index && at < m.index + m[0].length);
      if (!reference && !inPi) {
        expect(mine, `accepted what fast-xml-parser refuses:\n${doc}`).toBeNull();
        refusedByBoth++;
      } else if (mine && reference) {
        expect(mine).toEqual(reference);
      }
    }
    expect(refusedByBoth).toBeGreaterThan(50);
  });
});

describe("readXml refuses DTDs", () => {
  it("stops at a DOCTYPE or an entity declaration, wherever it is", () => {
    expect(syntaxError(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/shadow">]><E a="&a;"/>`)).toBeInstanceOf(XmlDtdError);
    expect(syntaxError(`<E><!ENTITY a "b"></E>`)).toBeInstanceOf(XmlDtdError);
    expect(syntaxError(`<!doctype E><E/>`)).toBeInstanceOf(XmlDtdError);
  });

  it("a DOCTYPE in a comment or a CDATA section is text, not a DTD", () => {
    expect(readXml(`<!-- <!DOCTYPE x> --><E><![CDATA[<!DOCTYPE y>]]></E>`).name).toBe("E");
  });

  it("leaves entities it does not know as written: nothing is expanded", () => {
    const lol = readXml(`<E v="&lol9;&lol9;"/>`);
    expect(lol.attrs[0]!.value).toBe("&lol9;&lol9;");
  });
});

describe("readXml errors", () => {
  it("say where: line and column of the offending character", () => {
    const xml = `<?xml version="1.0"?>\n<Environment>\n  <PropertySection>\n    <Property key="a" value="b">\n</Environment>\n`;
    const err = syntaxError(xml);
    expect(err.message).toBe("closing tag </Environment> where </Property> was expected");
    expect(lineCol(xml, err.offset)).toEqual({ line: 5, col: 1 });
    expect(lineCol("ab\ncd", 4)).toEqual({ line: 2, col: 2 });
  });

  it("do not hang or overflow on hostile input: 200000 attributes, 100000 levels of nesting", () => {
    const attrs = `<E ${Array.from({ length: 200_000 }, (_, i) => `a${i}="${i}"`).join(" ")}/>`;
    expect(readXml(attrs).attrs).toHaveLength(200_000);
    expect(syntaxError(`<E ${Array.from({ length: 200_000 }, () => `a="1"`).join(" ")}/>`).message).toBe("attribute a is repeated");
    const deep = "<a>".repeat(100_000) + "</a>".repeat(100_000);
    let el = readXml(deep);
    let depth = 1;
    while (el.children.length) {
      el = el.children[0]!;
      depth++;
    }
    expect(depth).toBe(100_000);
    expect(syntaxError("<a>".repeat(100_000)).message).toBe("<a> is never closed");
    // Many short runs of text, each checked on its own (a search to the end of the document per run would not finish).
    expect(readXml(`<a>${"<b/>x&amp;y".repeat(300_000)}</a>`).children).toHaveLength(300_000);
  });
});
