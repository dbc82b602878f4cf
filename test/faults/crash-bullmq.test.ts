import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startSlackStandIn } from '../fakes/slack-api.ts';
import { eventually } from '../support/eventually.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { type GuardianProcess, startGuardianProcess } from './support/guardian-process.ts';
import {
  expectPostedExactlyOnce,
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  pushUntilTaken,
  signalFingerprints,
} from './support/pipeline.ts';

const TOKEN = 'xoxb-fault-matrix';

/**
 * `guardian serve` in BullMQ mode (Redis, and DynamoDB in dynalite, both outliving the process)
 * killed with SIGKILL again and again: each round a new batch of breaches is pushed and the
 * process is killed after a delay that walks through the pipeline (queued, being correlated,
 * claimed, written, being posted), every other round at the moment Slack took a post and before
 * Guardian recorded it. Expected after the last restart: every breach in an incident, every paged
 * incident posted exactly once, with nothing done by hand.
 */
describe('fault matrix: kill -9 through the pipeline, again and again (BullMQ)', () => {
  let dataDir: string;
  let redis: TestRedis;
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let guardian: GuardianProcess | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-faults-'));
    redis = await startRedis();
    dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
    slack = await startSlackStandIn({ token: TOKEN });
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  });
  afterEach(async () => {
    await guardian?.kill('SIGKILL');
    guardian = undefined;
    await slack.close();
    await dynamo.close();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const config = () => ({
    dataDir,
    logLevel: 'info' as const,
    store: { kind: 'dynamodb' as const, endpoint: dynamo.endpoint, table: 'crashes', createTable: true },
    queue: { redisUrl: redis.url },
    notify: { groupWait: 0, reconcileInterval: 5_000 },
    slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
    detection: { tick: 200, thresholds: [MEMORY_RULE] },
  });

  it(
    'every breach in an incident, every paged incident posted exactly once',
    async () => {
      // Each start waits for the lease the killed process held to lapse (30 s at most): 2 rounds in CI.
      const rounds = faultScale({ ci: 2, long: 100 });
      const perRound = 2;
      let kills = 0;
      for (let round = 0; round < rounds; round++) {
        guardian = await startGuardianProcess(config());
        const batch = Array.from({ length: perRound }, (_, i) => `k${round}-${i}`);
        if (round % 2 === 1) {
          // After the Slack post, before its record.
          const held = slack.holdNextResponse('chat.postMessage');
          await pushUntilTaken(guardian.url, gaugeExport(batch, 0.95));
          const call = await held;
          await guardian.kill('SIGKILL');
          call.release();
        } else {
          await pushUntilTaken(guardian.url, gaugeExport(batch, 0.95));
          // 0 to 1.2 s after the push was answered: from "just queued" to "being posted".
          await new Promise((r) => setTimeout(r, ((round * 7) % 13) * 100));
          await guardian.kill('SIGKILL');
        }
        kills++;
      }

      guardian = await startGuardianProcess(config());
      const url = guardian.url;
      const total = rounds * perRound;
      await eventually(
        async () => {
          expect((await signalFingerprints(url)).size).toBe(total);
          expect((await listIncidents(url)).every((i) => i.slack !== null)).toBe(true);
        },
        // A job running when its process died runs again after BullMQ's stalled check (30 s),
        // perhaps twice: 60 s was missed once under CI load. What is asserted is recovery
        // without a restart, not its speed.
        150_000,
        250,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      const outcome = await expectPostedExactlyOnce(url, slack);
      expect(outcome.posts).toBeGreaterThan(0);
      recordOutcome(`kill -9 ${kills}× through the pipeline, ${perRound} breaches a round (BullMQ)`, {
        faults: kills,
        ...outcome,
        signalsLost: total - (await signalFingerprints(url)).size,
      });
    },
    faultScale({ ci: 600_000, long: 3_600_000 }),
  );
});
