// /usr/lib/sprout/startup-snapshot.js: the entry of the V8 start-up snapshot that
// warm-code-cache makes for a Node.js that has none of its own (Debian's nodejs 18
// is built without one). Such a Node runs its whole bootstrap from source at every
// start: about 100 ms of a 230 ms boot on the development VM. Started as
// `node --snapshot-blob /var/cache/sprout/startup.blob -- ARGS` (/usr/bin/sprout does,
// when the snapshot was made by this very node binary), Node deserialises that state
// instead, about half the time.
//
// Only Node's own state goes into the snapshot: its bootstrap and the built-ins every
// sprout command loads, loaded the way a program loads them (for a Node without a
// snapshot, a program's first require("fs") alone costs about 14 ms: it makes the
// public module by reading every export, and fs.promises and fs.ReadStream load
// fs/promises, readline and the streams). sprout itself is not in it: at each start
// the main function below runs /usr/lib/sprout/sprout.js as Node would, with its code
// cache, so a snapshot never holds an older sprout or any state of a run.
"use strict";
const fs = require("fs");
const path = require("path");
const v8 = require("v8");
require("string_decoder");

// Fixed when the snapshot is made (warm-code-cache sets it for a test's bundle).
const SPROUT_JS = process.env.SPROUT_JS || "/usr/lib/sprout/sprout.js";

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // The snapshot builder's require warns about each built-in it has not vetted for
  // snapshots (vm, child_process, module), on stderr at every start: sprout gets Node's
  // own require, made from "module" with that warning left out.
  const emitWarning = process.emitWarning;
  let realRequire;
  try {
    process.emitWarning = () => undefined;
    realRequire = require("module").createRequire(SPROUT_JS);
  } finally {
    process.emitWarning = emitWarning;
  }
  let source;
  try {
    source = fs.readFileSync(SPROUT_JS, "utf8");
  } catch (err) {
    process.stderr.write(`sprout: cannot read ${SPROUT_JS} (${err.code || err.message}): reinstall the sprout package\n`);
    process.exitCode = 1;
    return;
  }
  // As `node sprout.js ARGS`: argv[1] is the program.
  process.argv.splice(1, 0, SPROUT_JS);
  // As Node's CommonJS loader compiles a module (sprout.js's loader reads its own
  // source through arguments.callee, which this keeps).
  const compiled = realRequire("vm").compileFunction(source.replace(/^#!.*/, ""), ["exports", "require", "module", "__filename", "__dirname"], { filename: SPROUT_JS });
  const mod = { exports: {}, filename: SPROUT_JS, id: ".", loaded: false };
  compiled.call(mod.exports, mod.exports, realRequire, mod, SPROUT_JS, path.dirname(SPROUT_JS));
});
