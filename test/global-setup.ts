// Builds dist/sprout.js once before the tests: CLI and e2e tests run the real bundle.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["packaging/bundle.mjs"], { stdio: "inherit" });
}
