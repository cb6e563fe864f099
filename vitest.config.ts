import { defineConfig } from "vitest/config";

// Unit, module, conformance and chroot e2e tests. The qemu boot tests have their
// own config (test/boot/vitest.config.ts) because they need minutes, not seconds.
export default defineConfig({
  test: {
    include: ["agent/**/*.test.ts", "datasources/**/*.test.ts", "modules/**/*.test.ts", "test/**/*.test.ts", "packaging/**/*.test.ts", "docs/**/*.test.ts", "initramfs-hooks/**/*.test.ts"],
    exclude: ["test/boot/**", "test/vm/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 900_000,
    pool: "forks",
    globalSetup: ["test/temp-dir-setup.ts", "test/global-setup.ts"],
  },
});
