// A small Markdown converter for the subset the guides use: headings, paragraphs,
// lists (nested by indent, with fenced code inside items), fenced code blocks,
// inline code, emphasis, links and tables. Our own rather than a package: ~150
// lines we can read, no dependency, and the tests need the code blocks' info
// strings (yaml, sh) which we keep as classes.
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/<[^>]+>/g, "").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** Links to another guide (`rescue.md`, `rescue.md#x`) become links to its page. */
function href(url: string): string {
  if (/^[a-z]+:/i.test(url) || url.startsWith("#")) return url;
  // The site is flat: docs/guides/X.md is X.html and docs/X.md (reference notes) is ref-X.html.
  return url.replace(/^\.\.\/([\w.-]+)\.md(#|$)/, "ref-$1.html$2").replace(/(^|\/)([\w.-]+)\.md(#|$)/, "$1$2.html$3");
}

export function inline(text: string): string {
  const codes: string[] = [];
  let s = text.replace(/`([^`]+)`/g, (_, c: string) => `\u0000${codes.push(c) - 1}\u0000`);
  s = esc(s);
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, t: string, u: string) => `<a href="${esc(href(u.replace(/&amp;/g, "&")))}">${t}</a>`);
  s = s.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>").replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => `<code>${esc(codes[Number(i)]!)}</code>`);
}

export interface CodeBlock {
  lang: string;
  code: string;
}

/** Markdown to HTML; `blocks` collects every fenced code block (for the tests). */
export function markdownToHtml(md: string, blocks: CodeBlock[] = []): { html: string; title: string } {
  const lines = md.replace(/\r\n/g, "\n").split("\n");
  let title = "";
  const out: string[] = [];
  let i = 0;

  function fence(indent: number): string {
    const m = /^\s*(`{3,})\s*([\w-]*)/.exec(lines[i]!)!;
    const body: string[] = [];
    i++;
    while (i < lines.length && !new RegExp(`^\\s*${m[1]}\\s*$`).test(lines[i]!)) {
      body.push(lines[i]!.slice(Math.min(indent, lines[i]!.length - lines[i]!.trimStart().length)));
      i++;
    }
    i++;
    const code = body.join("\n");
    blocks.push({ lang: m[2] ?? "", code });
    return `<pre><code${m[2] ? ` class="language-${esc(m[2])}"` : ""}>${esc(code)}</code></pre>`;
  }

  function list(indent: number): string {
    const ordered = /^\s*\d+[.)]\s/.test(lines[i]!);
    const items: string[] = [];
    while (i < lines.length) {
      const line = lines[i]!;
      const m = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
      if (!m || m[1]!.length !== indent || /\d/.test(m[2]!) !== ordered) break;
      const contentIndent = m[1]!.length + m[2]!.length + 1;
      const parts: string[] = [];
      let para = [m[3]!];
      i++;
      const flush = () => {
        if (para.length) parts.push(inline(para.join(" ")));
        para = [];
      };
      while (i < lines.length) {
        const l = lines[i]!;
        const ind = l.length - l.trimStart().length;
        if (l.trim() === "") {
          const next = lines.slice(i + 1).find((x) => x.trim() !== "");
          if (next === undefined || next.length - next.trimStart().length < contentIndent) break;
          flush();
          i++;
          continue;
        }
        if (ind < contentIndent) break;
        if (/^\s*```/.test(l)) {
          flush();
          parts.push(fence(ind));
        } else if (/^\s*([-*+]|\d+[.)])\s/.test(l)) {
          flush();
          parts.push(list(ind));
        } else {
          para.push(l.trim());
          i++;
        }
      }
      flush();
      items.push(`<li>${parts.join("\n")}</li>`);
      while (i < lines.length && lines[i]!.trim() === "" && /^(\s*)([-*+]|\d+[.)])\s/.exec(lines[i + 1] ?? "")?.[1]?.length === indent) i++;
    }
    return ordered ? `<ol>\n${items.join("\n")}\n</ol>` : `<ul>\n${items.join("\n")}\n</ul>`;
  }

  function table(): string {
    const row = (l: string) => l.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
    const head = row(lines[i]!);
    i += 2;
    const body: string[][] = [];
    while (i < lines.length && lines[i]!.trim().startsWith("|")) body.push(row(lines[i++]!));
    return `<table>\n<thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join("")}</tr></thead>\n<tbody>\n${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("\n")}\n</tbody></table>`;
  }

  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "") {
      i++;
      continue;
    }
    const h = /^(#{1,6})\s+(.*?)\s*#*$/.exec(line);
    if (h) {
      const level = h[1]!.length;
      const text = inline(h[2]!);
      if (level === 1 && !title) title = h[2]!.replace(/`/g, "");
      out.push(`<h${level} id="${slug(h[2]!)}">${text}</h${level}>`);
      i++;
    } else if (/^\s*```/.test(line)) out.push(fence(line.length - line.trimStart().length));
    else if (/^\s*([-*+]|\d+[.)])\s/.test(line)) out.push(list(line.length - line.trimStart().length));
    else if (line.trim().startsWith("|") && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1] ?? "") && (lines[i + 1] ?? "").includes("-")) out.push(table());
    else if (/^>\s?/.test(line)) {
      const q: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i]!)) q.push(lines[i++]!.replace(/^>\s?/, ""));
      out.push(`<blockquote>${markdownToHtml(q.join("\n"), blocks).html}</blockquote>`);
    } else {
      const p: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== "" && !/^(#{1,6}\s|\s*```|\s*([-*+]|\d+[.)])\s|\s*\||>)/.test(lines[i]!)) p.push(lines[i++]!.trim());
      if (p.length === 0) p.push(lines[i++]!.trim());
      out.push(`<p>${inline(p.join(" "))}</p>`);
    }
  }
  return { html: out.join("\n") + "\n", title };
}
