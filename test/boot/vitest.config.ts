import { defineConfig } from "vitest/config";

// qemu boot tests (npm run test:boot): each boot takes 10-20 s under TCG on an idle
// 2-core machine and several times that under load, so files run one after
// another and every test gets minutes; qemu itself is killed at a hard limit.
export default defineConfig({
  test: {
    include: ["test/boot/**/*.test.ts"],
    testTimeout: 480_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: "forks",
    globalSetup: ["test/temp-dir-setup.ts"],
  },
});
