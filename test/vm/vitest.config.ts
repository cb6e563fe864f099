import { defineConfig } from "vitest/config";

// `npm run test:vm`: the built image booted under qemu (TCG). Minutes, not seconds:
// the first run builds the image (cached in /var/cache/sprout-test/image, rebuilt
// when sprout's .deb changes), each scenario boots a full Debian userspace.
export default defineConfig({
  test: {
    include: ["test/vm/**/*.test.ts"],
    testTimeout: 1_200_000,
    hookTimeout: 2_400_000,
    pool: "forks",
    globalSetup: ["test/temp-dir-setup.ts"],
    fileParallelism: false,
  },
});
