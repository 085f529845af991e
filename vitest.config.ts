import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs every suite against the embedded engine (dynalite, started by the global setup),
 * then the storage and pipeline suites again against DynamoDB Local (AWS's emulator, Java 17), and
 * the infrastructure checks.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'embedded',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/setup/embedded-engine.ts'],
        },
      },
      {
        extends: true,
        test: {
          // sst.config.ts and infra/ without AWS: synthesized against stand-ins, and type-checked
          // against the SST platform (`sst install`, run by `pretest`; about a minute on a fresh clone).
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'dynamodb-local',
          include: ['test/integration/store-*.test.ts', 'test/integration/pipeline-*.test.ts'],
          globalSetup: ['test/setup/dynamodb-local.ts'],
        },
      },
    ],
  },
});
