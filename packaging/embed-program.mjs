// Puts an esbuild CommonJS bundle into packaging/code-cache-loader.js, as the trailing
// comment the loader compiles (see the loader's own comment for why a comment).
// Used by the build, and by test/bundle.test.ts to check the loader on small programs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export function embedProgram(program) {
  const sourceHash = createHash("sha256").update(program).digest("hex").slice(0, 16);
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${program}\n})`;
  if (wrapped.includes("\x7f")) throw new Error("the bundle contains a DEL character, which the loader uses to escape */ in its comment");
  if (/SPROUT-PROGRAM/.test(wrapped)) throw new Error("the bundle contains the loader's marker SPROUT-PROGRAM");
  const hasCommentClose = wrapped.includes("*/");
  const escaped = wrapped.replaceAll("*/", "*\x7f/");
  const loader = readFileSync(new URL("./code-cache-loader.js", import.meta.url), "utf8")
    .replace("__SPROUT_SOURCE_HASH__", () => JSON.stringify(sourceHash))
    .replace("__SPROUT_HAS_COMMENT_CLOSE__", () => String(hasCommentClose))
    .replace("__SPROUT_PROGRAM_LENGTH__", () => String(escaped.length));
  return { text: `#!/usr/bin/env node\n${loader}/*SPROUT-PROGRAM\n${escaped}\nSPROUT-PROGRAM-END*/\n`, hasCommentClose };
}
