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
          globalSetup: ['test/setup/embedded-engine.ts', 'test/setup/local-hub-bundle.ts'],
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
          // The pipeline's fault cases that need no in-process fault injection run on AWS's emulator too.
          include: [
            'test/integration/store-*.test.ts',
            'test/faults/duplicates.test.ts',
            'test/faults/reordering.test.ts',
            'test/faults/bus-outage.test.ts',
            'test/faults/crash.test.ts',
          ],
          globalSetup: ['test/setup/dynamodb-local.ts', 'test/setup/local-hub-bundle.ts'],
        },
      },
      {
        extends: true,
        test: {
          // `npm run bench -- --quick`, checked for figures, never for times (bench/run.ts).
          name: 'bench',
          include: ['test/bench/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The fault suite (`npm run test:faults`, docs/faults.md): duplicates, reordering, storage and
          // bus outages, crashes, mutated payloads, signature attacks and cross-tenant probes, each
          // printing what was sent, acknowledged, indexed and published.
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/setup/embedded-engine.ts', 'test/setup/local-hub-bundle.ts'],
        },
      },
    ],
  },
});
