import { defineConfig } from "vitest/config";

// qemu boot tests (npm run test:boot): each boot takes 10-20 s under TCG and the
// machine has 2 cores, so files run one after another and tests get minutes.
export default defineConfig({
  test: {
    include: ["test/boot/**/*.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: "forks",
  },
});
