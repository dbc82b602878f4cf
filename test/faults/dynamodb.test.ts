import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { createGuardian, type Guardian } from '../../src/main.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startSlackStandIn } from '../fakes/slack-api.ts';
import { eventually } from '../support/eventually.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.ts';
import {
  expectPostedExactlyOnce,
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  pushUntilTaken,
  signalFingerprints,
} from './support/pipeline.ts';

const TOKEN = 'xoxb-dynamodb-faults';

describe('DynamoDB calls have timeouts', () => {
  it('fails a call whose connection answers nothing within its request timeout, retryable', async () => {
    const dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
    const proxy = await startFaultProxy(dynamo.endpoint);
    try {
      const store = createDynamoIncidentStore({
        endpoint: proxy.url,
        region: 'us-east-1',
        tableName: 'timeouts',
        createTable: true,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        logger: silentLogger(),
        maxAttempts: 2,
        timeoutsMs: { connect: 500, request: 500 },
      });
      await store.start();
      proxy.fault = 'black-hole';
      const started = Date.now();
      const error = await store.get('inc_x').catch((err: unknown) => err);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toMatchObject({ code: expect.any(String), retryable: true });
      expect(proxy.injected.blackHoled).toBe(2);
      proxy.fault = 'none';
      expect(await store.get('inc_x')).toBeNull();
      await store.close();
    } finally {
      proxy.fault = 'none';
      await proxy.close();
      await dynamo.close();
    }
  });
});
/** How long DynamoDB misbehaves: 8 s in CI, 5 min with GUARDIAN_FAULTS=long. */
const FAULT_MS = faultScale({ ci: 8_000, long: 300_000 });

/**
 * DynamoDB throttling every request, or black-holing them (no answer, no reset), behind a
 * fault-injecting proxy in front of dynalite, while series breach. The first signal arrives while
 * the fault is on, so the correlator's first load of its working set fails too. Expected once the
 * fault ends: every breach an incident, each posted exactly once, no restart.
 */
describe.each(['throttle', 'black-hole'] as const)('fault matrix: DynamoDB %s', (fault) => {
  let guardian: Guardian | undefined;
  let proxy: FaultProxy | undefined;
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>> | undefined;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>> | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    if (proxy) proxy.fault = 'none';
    await guardian?.stop();
    await proxy?.close();
    await dynamo?.close();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    `recovers by itself after ${FAULT_MS / 1000} s: every breach posted once`,
    async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'guardian-dynamo-fault-'));
      dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
      proxy = await startFaultProxy(dynamo.endpoint);
      slack = await startSlackStandIn({ token: TOKEN });
      process.env.AWS_ACCESS_KEY_ID ??= 'local';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
      guardian = await createGuardian(
        parseConfig({
          port: 0,
          host: '127.0.0.1',
          dataDir: dir,
          store: { kind: 'dynamodb', endpoint: proxy.url, table: 'faults', createTable: true },
          notify: { groupWait: 0, reconcileInterval: 5_000 },
          slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
          detection: { tick: 200, thresholds: [MEMORY_RULE] },
        }),
        { logger: silentLogger() },
      );
      const url = await guardian.listen();
      const n = faultScale({ ci: 6, long: 30 });
      const hosts = Array.from({ length: n }, (_, i) => `ddb-${i}`);

      proxy.fault = fault;
      const ends = Date.now() + FAULT_MS;
      // Breaches keep coming while DynamoDB is away, one new series at a time.
      for (const [i, host] of hosts.entries()) {
        await pushUntilTaken(url, gaugeExport([host], 0.95));
        await new Promise((r) => setTimeout(r, Math.max(0, (ends - Date.now()) / (n - i))));
      }
      while (Date.now() < ends) await new Promise((r) => setTimeout(r, 100));
      proxy.fault = 'none';

      await eventually(
        async () => {
          const incidents = await listIncidents(url);
          expect((await signalFingerprints(url)).size).toBe(n);
          expect(incidents.every((i) => i.slack !== null)).toBe(true);
        },
        120_000,
        500,
      );
      const outcome = await expectPostedExactlyOnce(url, slack);
      recordOutcome(`DynamoDB ${fault} for ${FAULT_MS / 1000} s, first load included (embedded queue)`, {
        faults: proxy.injected.throttled + proxy.injected.blackHoled,
        ...outcome,
        signalsLost: n - (await signalFingerprints(url)).size,
      });
    },
    FAULT_MS + 240_000,
  );
});
