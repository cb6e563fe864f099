// `sprout schema` on a typical cloud-config (test/demo/seed/user-data), whole
// process with Node's start-up: the target is under 80 ms wall time.
export async function bench({ timeProcess, bundle, runs }) {
  const file = new URL("../demo/seed/user-data", import.meta.url).pathname;
  const t = timeProcess([process.execPath, bundle, "schema", "--config-file", file]);
  return { bench: "schema-typical-file", runs, target_ms: 80, median_ms: t.median, p90_ms: t.p90 };
}
