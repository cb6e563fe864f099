// Text of apt sources: cloud-init's templater (agent/templater) with sprout's
// errors, its Debian sources.list template, disable_suites, and the check that a line is a one-line
// deb entry. Pure: strings in, strings (or a reason) out.
import { renderBasic as basic, renderTemplate as render, TemplateError } from "../../agent/templater";

export class SourceTextError extends Error {}

/** cloud-init's basic renderer ($NAME, ${NAME}); a name that is not in `params` is an error that lists the known ones. */
export function renderBasic(text: string, params: Record<string, string>): string {
  try {
    return basic(text, params);
  } catch (err) {
    if (err instanceof TemplateError) throw new SourceTextError(err.message.replace(/^line 1: /, ""));
    throw err;
  }
}

/**
 * cloud-init's sources.list.debian.tmpl as Debian's cloud-init 22.4.2 ships it, so
 * the file is the same whichever agent wrote it (the comments name cloud-init's
 * paths: they are the ones an admin migrating from cloud-init knows).
 */
export const DEBIAN_TEMPLATE = `## template:jinja
## Note, this file is written by cloud-init on first boot of an instance
## modifications made here will not survive a re-bundle.
## if you wish to make changes you can:
## a.) add 'apt_preserve_sources_list: true' to /etc/cloud/cloud.cfg
##     or do the same in user-data
## b.) add sources in /etc/apt/sources.list.d
## c.) make changes to template file /etc/cloud/templates/sources.list.debian.tmpl
###

# See http://www.debian.org/releases/stable/i386/release-notes/ch-upgrading.html
# for how to upgrade to newer versions of the distribution.
deb {{mirror}} {{codename}} main
deb-src {{mirror}} {{codename}} main

## Major bug fix updates produced after the final release of the
## distribution.
deb {{security}} {{codename}}{% if codename in ('buster', 'stretch') %}/updates{% else %}-security{% endif %} main
deb-src {{security}} {{codename}}{% if codename in ('buster', 'stretch') %}/updates{% else %}-security{% endif %} main
deb {{mirror}} {{codename}}-updates main
deb-src {{mirror}} {{codename}}-updates main

## Uncomment the following two lines to add software from the 'backports'
## repository.
## 
## N.B. software from this repository may not have been tested as
## extensively as that contained in the main release, although it includes
## newer versions of some applications which may provide useful features.
deb {{mirror}} {{codename}}-backports main
deb-src {{mirror}} {{codename}}-backports main
`;

/** Renders a sources.list template as cloud-init does: jinja with a `## template:jinja` first line, else basic. */
export async function renderTemplate(template: string, params: Record<string, string>): Promise<string> {
  try {
    return await render(template, params, { undefinedVariables: "error" });
  } catch (err) {
    if (err instanceof TemplateError) throw new SourceTextError(`the template does not render: ${err.message}`);
    throw err;
  }
}

const SUITE_ALIASES: Record<string, string> = {
  updates: "$RELEASE-updates",
  backports: "$RELEASE-backports",
  security: "$RELEASE-security",
  proposed: "$RELEASE-proposed",
  release: "$RELEASE",
};

/** The suite of a one-line entry (after `deb` and its [options]), or null for a line that has none. */
function suiteOf(line: string): string | null {
  const cols = line.split(/\s+/).filter(Boolean);
  if (cols.length < 2) return null;
  let at = 2;
  if (cols[1]!.startsWith("[")) {
    for (const col of cols.slice(1)) {
      at++;
      if (col.endsWith("]")) break;
    }
  }
  return cols[at] ?? null;
}

/** Comments out the entries of each disabled suite, as cloud-init does (aliases as in cloud-init: updates, backports, security, proposed, release). */
export function disableSuites(text: string, disabled: readonly string[], release: string): string {
  let out = text;
  for (const given of disabled) {
    const suite = renderBasic(SUITE_ALIASES[given] ?? given, { RELEASE: release });
    out = out
      .split(/(?<=\n)/)
      .map((line) => (!line.startsWith("#") && suiteOf(line) === suite ? `# suite disabled by cloud-init: ${line}` : line))
      .join("");
  }
  return out;
}

const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

/** Why a line of a sources file is not a one-line entry apt reads, or null when it is one (or blank, or a comment). */
export function debLineProblem(line: string): string | null {
  const text = line.trim();
  if (text === "" || text.startsWith("#")) return null;
  const m = /^(deb|deb-src)\s+(\[[^\]]*\]\s+)?(\S+)(?:\s+(\S+))?((?:\s+\S+)*)\s*$/.exec(text);
  if (!m) {
    if (/^(Types|URIs|Suites|Components|Signed-By):/i.test(text)) return `${JSON.stringify(text)} is deb822 (a .sources stanza); cloud-init's sources take one-line entries: write "deb [signed-by=$KEY_FILE] URI SUITE COMPONENT..."`;
    return `${JSON.stringify(text)} is not a deb line: write "deb [options] URI SUITE COMPONENT..." (or deb-src)`;
  }
  const [, , options, uri, suite, components] = m;
  if (options !== undefined && !/^\[\s*[^\]=\s]+=\S/.test(options)) return `${JSON.stringify(text)}: the [options] must be key=value pairs, e.g. [signed-by=$KEY_FILE arch=amd64]`;
  if (!URI.test(uri!)) return `${JSON.stringify(text)}: ${JSON.stringify(uri)} is not a URI (e.g. https://repo.example/debian)`;
  if (suite === undefined) return `${JSON.stringify(text)} has no suite: write the release after the URI, e.g. "$RELEASE main"`;
  if (!suite.endsWith("/") && !(components ?? "").trim()) return `${JSON.stringify(text)} has no component: add one after the suite (e.g. main), or end the suite with "/" for a flat repository`;
  return null;
}
