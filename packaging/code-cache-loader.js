// sprout's bundle loader. The program (the esbuild bundle) is the comment at the end
// of this file, compiled with a V8 code cache, so a boot does not re-parse and
// re-compile the same functions every time: the cache holds the bytecode of every
// function the last run used. Node 18/20 have no built-in compile cache, hence this
// small loader.
//
// Why a comment: Node compiles this whole file before it runs a line of it. A 600 KB
// string literal costs V8 a scan and two copies (about 7 ms on a small VM); a comment
// is only skipped. The text is then taken from this module function's own source
// (arguments.callee, hence no "use strict" here): a view into the source V8 already
// holds, not a copy. A comment cannot hold "*/", so the build writes each one as
// "*" DEL "/" and the loader puts them back (the build checks the program has no DEL).
//
// The cache lives in /var/cache/sprout (SPROUT_CODE_CACHE_DIR overrides, "off" disables).
// It is used only when the file and its directory belong to the user running sprout and
// nobody else can write them: bytecode from a file others can write would be code they
// choose. V8 itself rejects a cache made from other source or another Node version, and
// then sprout compiles from source and writes a fresh cache. Any failure here only means
// no cache; the program always runs.
const fs = require("fs");
const path = require("path");
const vm = require("vm");

// The program comes wrapped as a CommonJS function already (the build adds the wrapper):
// joining strings here would copy all 600 KB once more before compiling.
const wrapped = programText(arguments.callee.toString());

function programText(ownSource) {
  // Written in two pieces so the marker appears in this file only where the program starts.
  const start = "/*SPROUT-" + "PROGRAM\n";
  const end = "\nSPROUT-" + "PROGRAM-END*/";
  let text = ownSource;
  let at = text.indexOf(start);
  if (at === -1) {
    // A Node whose module function does not show its source: read the file instead.
    text = fs.readFileSync(__filename, "latin1");
    at = text.indexOf(start);
  }
  // The build knows the program's length: slicing by it spares a scan of 500 KB for the end marker.
  const from = at + start.length;
  const length = __SPROUT_PROGRAM_LENGTH__;
  const to = text.startsWith(end, from + length) ? from + length : text.indexOf(end, at);
  const program = text.slice(from, to);
  return __SPROUT_HAS_COMMENT_CLOSE__ ? program.replace(/\*\x7f\//g, "*/") : program;
}
const dirSetting = process.env.SPROUT_CODE_CACHE_DIR || "/var/cache/sprout";
const uid = typeof process.getuid === "function" ? process.getuid() : -1;

function safeOwned(st) {
  return st.uid === uid && (st.mode & 0o022) === 0;
}

// One cache per command: `boot` and `status` use different functions, and a cache
// holds what the run that wrote it compiled.
function commandName() {
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--root") i++;
    else if (!a[i].startsWith("-")) return a[i].replace(/[^a-z-]/g, "").slice(0, 20) || "x";
  }
  return "none";
}

// The source's hash is computed at build time: hashing 600 KB at every start would cost more than it saves.
const CACHE_PREFIX = "code-" + __SPROUT_SOURCE_HASH__ + "-" + process.version + "-" + process.arch + "-";
let cacheFile = null;
let cached;
if (dirSetting !== "off") {
  cacheFile = path.join(dirSetting, CACHE_PREFIX + commandName() + ".bin");
  try {
    const fd = fs.openSync(cacheFile, "r");
    try {
      if (safeOwned(fs.fstatSync(fd)) && safeOwned(fs.statSync(dirSetting))) cached = fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (_) {
    cached = undefined;
  }
}

const script = new vm.Script(wrapped, { filename: __filename, cachedData: cached });
// SPROUT_CODE_CACHE_REFRESH=1 writes the cache even when this run could use it, so it
// gains the functions this run compiled (warm-code-cache runs several kinds of boot).
if (cacheFile && (cached === undefined || script.cachedDataRejected || process.env.SPROUT_CODE_CACHE_REFRESH === "1")) {
  // Written at exit, so the cache holds every function this run compiled lazily.
  process.once("exit", () => {
    try {
      fs.mkdirSync(dirSetting, { recursive: true, mode: 0o755 });
      if (!safeOwned(fs.statSync(dirSetting))) return;
      const tmp = cacheFile + "." + process.pid;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
      fs.renameSync(tmp, cacheFile);
      removeStaleCaches();
    } catch (_) {
      // read-only /var/cache or no permission: run without a cache
    }
  });
}
// Caches of other sprout builds or Node versions are never read again: an upgrade
// would otherwise leave one set behind each time.
function removeStaleCaches() {
  for (const name of fs.readdirSync(dirSetting)) {
    if (name.startsWith("code-") && !name.startsWith(CACHE_PREFIX)) {
      try {
        fs.unlinkSync(path.join(dirSetting, name));
      } catch (_) {
        // another sprout removed it first
      }
    }
  }
}

script.runInThisContext()(exports, require, module, __filename, __dirname);
// Everything after this line is the program, in a comment (see the top of the file).
return;

