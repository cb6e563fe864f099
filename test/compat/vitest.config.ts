import { defineConfig } from "vitest/config";

// The differential suite (npm run test:compat): every case boots Debian's cloud-init
// and sprout in two chroots, one after another (each cloud-init boot takes seconds of
// a shared 2-core machine), so nothing runs in parallel and every case gets minutes.
export default defineConfig({
  test: {
    include: ["test/compat/**/*.compat.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: "forks",
    globalSetup: ["test/temp-dir-setup.ts"],
  },
});
