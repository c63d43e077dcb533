import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Unit tests run against the shared package's source, so a change there needs no rebuild;
    // end-to-end tests spawn the built binaries under dist/. The test kit exists only as source: it is
    // never built (packages/shared/tsconfig.json excludes it), so nothing of it ships.
    alias: [
      {
        find: /^@agent-sidecars\/shared$/,
        replacement: fileURLToPath(new URL('./packages/shared/src/index.ts', import.meta.url)),
      },
      {
        find: /^@agent-sidecars\/shared\/testing$/,
        replacement: fileURLToPath(new URL('./packages/shared/src/testing/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', 'test/containers/**'],
        },
      },
      {
        // The images built and run in a private engine (test/containers/global-setup.ts makes it once,
        // only when one of these files runs). One file at a time, after the unit project's files
        // (groupOrder 1): they share the engine, and running them beside the process-level tests would
        // only make both slower on 2 cores.
        extends: true,
        test: {
          name: 'containers',
          include: ['test/containers/**/*.test.ts'],
          globalSetup: ['test/containers/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
