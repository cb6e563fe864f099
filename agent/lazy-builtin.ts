// Node built-ins that a boot may not need, loaded on first use.
// Node's start-up snapshot holds only a few built-ins; every other one is compiled
// when first required (child_process, net, dgram, dns, crypto and zlib cost 2-8 ms
// each on a small VM). A boot that sends no syslog and gunzips nothing should not
// pay for them, and an ES `import` at the top of a file would load them with it.

declare const require: ((id: string) => unknown) | undefined;

interface ProcessWithBuiltins {
  getBuiltinModule?: (id: string) => unknown;
}

/** Returns a function that loads the built-in `id` the first time it is called. */
export function lazyBuiltin<T>(id: `node:${string}`): () => T {
  let mod: T | undefined;
  return () => (mod ??= loadBuiltin(id) as T);
}

function loadBuiltin(id: string): unknown {
  // The shipped bundle is CommonJS and has require(); TypeScript run directly as ES
  // modules (the tests) has process.getBuiltinModule (Node >= 20.16).
  if (typeof require === "function") return require(id);
  const load = (process as unknown as ProcessWithBuiltins).getBuiltinModule;
  if (!load) throw new Error(`cannot load ${id}: neither require() nor process.getBuiltinModule() exists in this Node`);
  return load(id);
}
