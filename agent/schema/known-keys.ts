// The top-level keys a boot knows, to report the ones nothing reads (a typo, a module
// sprout lacks). Taken from the module manifest, not the modules: a boot loads only the
// modules it runs. ./index's knownTopLevelKeys computes the same set from the modules'
// schemas, and a test holds the two equal.
import { MODULE_MANIFEST } from "../../modules/manifest";
import { CORE_SCHEMA } from "./core";
import { DEPRECATED_KEYS } from "./deprecated";

export function bootKnownKeys(): Set<string> {
  return new Set([...Object.keys(CORE_SCHEMA), ...MODULE_MANIFEST.flatMap((e) => e.keys), ...Object.keys(DEPRECATED_KEYS)]);
}
