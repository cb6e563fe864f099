// The Jinja engine moved to agent/jinja.ts (shared with the templater of ntp and
// apt). This keeps `../../agent/userdata/jinja` imports of branches written before
// the move compiling; new code imports agent/jinja.ts (lazily) or agent/templater.ts.
export { hasJinjaHeader, jinjaVariables, MISSING_PREFIX, renderJinja, TemplateError } from "../jinja";
