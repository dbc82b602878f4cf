import { defineConfig } from 'vitest/config';

/**
 * Test files that start an outside process (redis-server, moto, Python, Java, Airflow, Spark, an
 * npm install) or replay whole scenarios. `npm run test:fast` runs everything else, and a fast test
 * that tries to start one of these fails, naming this list (test/support/external.ts).
 */
const EXTERNAL = [
  'test/engines/**/*.test.ts',
  'test/browser/**/*.test.ts',
  'test/acceptance/**/*.test.ts',
  'test/deploy/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'test/contracts/*.moto.test.ts',
  'test/contracts/*.bullmq.test.ts',
  'test/detector-state.test.ts',
  'test/end-to-end.test.ts',
  'test/keys-cli.test.ts',
  'test/poll-lease.test.ts',
  'test/replay.test.ts',
  'test/telemetry.test.ts',
  'test/loghub.test.ts',
  'test/nab.test.ts',
  'test/otlp-exporters.test.ts',
  'test/readme-example.test.ts',
  'test/bench-correlate.test.ts',
];

const INCLUDE = ['src/**/*.test.ts', 'detectors/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: integration suites start real servers (Redis, dynalite, moto); keep parallelism modest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'fast', include: INCLUDE, exclude: EXTERNAL, env: { GUARDIAN_TEST_TIER: 'fast' } },
      },
      { extends: true, test: { name: 'external', include: EXTERNAL } },
    ],
  },
});
