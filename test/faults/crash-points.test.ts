import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CrashPointName } from '../../src/core/crash-point.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { eventually } from '../support/eventually.ts';
import { startRedis } from '../support/redis.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { ExitedBeforeReady, type GuardianProcess, startGuardianProcess } from './support/guardian-process.ts';
import {
  expectPostedExactlyOnce,
  type FaultSeries,
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  pushUntilTaken,
  signalFingerprints,
} from './support/pipeline.ts';
import { useFaultWorkspace } from './support/workspace.ts';

const TOKEN = 'xoxb-fault-matrix';
const TABLE = 'crashpoints';
/** Kills per step and mode: 1 in CI, 100 with GUARDIAN_FAULTS=long. */
const ROUNDS = faultScale({ ci: 1, long: 100 });
const POINTS: readonly CrashPointName[] = [
  'claimed',
  'incident-written',
  'merge-absorbed',
  'notify-taken',
  'slack-posted',
];

/**
 * kill -9 aimed at each named step of the pipeline (`GUARDIAN_CRASH_AT`, see
 * src/core/crash-point.ts): after a new incident's fingerprint claim, after an incident write,
 * between the two writes of a merge, after a notify job is taken, after Slack took a first post
 * and before Guardian recorded it. Each round starts `guardian serve` with the crash armed,
 * pushes what makes the pipeline pass the step, and waits for the process to kill itself; then
 * it is started without the crash armed and the exporter pushes every series again (as it does
 * on its interval) until all is recovered. Expected: every series in an incident, every paged
 * incident posted exactly once with the message the store records, no fingerprint claim left
 * pointing at an incident that does not exist or is resolved, no dead letter.
 */
describe.each(['embedded', 'BullMQ'] as const)(
  'fault matrix: kill -9 at each step of the pipeline (%s)',
  (mode) => {
    const ws = useFaultWorkspace(TOKEN);
    beforeEach(async () => {
      process.env.AWS_ACCESS_KEY_ID ??= 'local';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
      if (mode === 'BullMQ') {
        ws.redis = await startRedis();
        ws.dynamo = await startEmbeddedDynamo({ port: 0, logger: silentLogger() });
      }
    });

    const config = () => ({
      dataDir: ws.dataDir,
      logLevel: 'info' as const,
      store: ws.dynamo
        ? { kind: 'dynamodb' as const, endpoint: ws.dynamo.endpoint, table: TABLE, createTable: true }
        : { kind: 'embedded' as const, table: TABLE },
      ...(ws.redis ? { queue: { redisUrl: ws.redis.url } } : {}),
      notify: { groupWait: 0, reconcileInterval: 2_000 },
      otlp: { retryAfterSeconds: 1 },
      slack: { token: TOKEN, apiUrl: ws.slack.url, channel: '#alerts' },
      detection: { tick: 200, thresholds: [MEMORY_RULE] },
    });

    it.each(POINTS)(
      'at %s: every paged incident posted once, as stored; no claim left pointing at nothing',
      async (point) => {
        const kills = ROUNDS;
        const pushed: FaultSeries[] = [];
        // Started without the crash: the exporter goes on pushing every series, still breaching,
        // and each one is in an incident, every paged one posted.
        const recover = async (): Promise<string> => {
          ws.guardian = await startGuardianProcess(config());
          const url = ws.guardian.url;
          await pushUntilTaken(url, gaugeExport(pushed, 0.95));
          await eventually(
            async () => {
              expect((await signalFingerprints(url)).size).toBe(pushed.length);
              const unposted = (await listIncidents(url)).filter((i) => i.status !== 'resolved' && !i.slack);
              expect(unposted).toEqual([]);
            },
            90_000,
            250,
          );
          return url;
        };
        let url = '';
        for (let round = 0; round < kills; round++) {
          let g: GuardianProcess | undefined;
          try {
            g = await startGuardianProcess(config(), { env: { GUARDIAN_CRASH_AT: point } });
          } catch (err) {
            // Killed at the step while starting, by work left from the round before (a stalled
            // BullMQ job, a journaled signal, taken again): that is this round's kill.
            if (!(err instanceof ExitedBeforeReady && err.how === 'SIGKILL')) throw err;
          }
          if (g) {
            ws.guardian = g;
            const steps = passThrough(point, `${point}-${round}`, g, pushed);
            // The kill may land on such work after the start too, before this round's pushes are
            // through: a push the dead process refused is then what a kill looks like.
            await Promise.race([steps.catch(() => undefined), g.exited]);
            const how = await Promise.race([
              g.exited,
              new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000)),
            ]);
            expect(how, g.output()).toBe('SIGKILL');
            steps.catch(() => {});
          }
          // Recovered before the next kill: each kill lands on new work, as separate crashes do (a
          // job in more than STALLS_BEFORE_DEAD dead processes is a dead letter by design).
          url = await recover();
          if (round < kills - 1) await ws.guardian?.kill('SIGTERM');
        }

        // Long enough for late work (an adoption, a message update) to finish.
        await new Promise((r) => setTimeout(r, 2_000));
        const outcome = await expectPostedExactlyOnce(url, ws.slack);
        expect(outcome.posts).toBeGreaterThan(0);
        // Each post shows what the store holds: the incident's title, in the channel it records.
        const byTs = new Map(ws.slack.messages().map((m) => [m.ts, m]));
        for (const i of await listIncidents(url)) {
          if (!i.slack) continue;
          const message = byTs.get(i.slack.ts);
          expect(message?.channel).toBe(i.slack.channel);
          expect(message?.text).toContain(i.title);
        }
        for (const queue of ['signals', 'notify']) {
          const res = await fetch(`${url}/api/v1/dead-letters?queue=${queue}`);
          expect(((await res.json()) as { deadLetters: unknown[] }).deadLetters, queue).toEqual([]);
        }
        await ws.guardian?.kill('SIGTERM');
        ws.guardian = undefined;
        expect(await danglingClaims(ws.dynamo?.endpoint, ws.dataDir)).toEqual([]);
        recordOutcome(`kill -9 ${kills}× at ${point} (${mode})`, {
          faults: kills,
          ...outcome,
          signalsLost: 0,
        });
      },
      ROUNDS * 120_000 + 180_000,
    );
  },
);

/**
 * Pushes what makes the pipeline pass `point` once, with series new to this round (named after
 * `prefix`), and adds them to `pushed`. A merge needs two incidents first, then a series that
 * links both: one about bucket `<prefix>-a`, one about table `<prefix>-b`, then one about both.
 */
async function passThrough(
  point: CrashPointName,
  prefix: string,
  g: GuardianProcess,
  pushed: FaultSeries[],
): Promise<void> {
  const push = async (series: FaultSeries[]) => {
    pushed.push(...series);
    await pushUntilTaken(g.url, gaugeExport(series, 0.95), 30_000);
  };
  if (point !== 'merge-absorbed') {
    await push([{ host: `${prefix}-h` }]);
    return;
  }
  const a = { host: `${prefix}-ha`, attributes: { bucket: `${prefix}-a` } };
  const b = { host: `${prefix}-hb`, attributes: { table: `${prefix}-b` } };
  const before = (await listIncidents(g.url)).length;
  await push([a]);
  await eventually(async () => expect((await listIncidents(g.url)).length).toBe(before + 1), 30_000, 100);
  await push([b]);
  await eventually(async () => expect((await listIncidents(g.url)).length).toBe(before + 2), 30_000, 100);
  await push([{ host: `${prefix}-hc`, attributes: { bucket: `${prefix}-a`, table: `${prefix}-b` } }]);
}

/**
 * Fingerprint claims that still say "open" while their incident does not exist or is resolved:
 * what would block that fingerprint. Read from the table once Guardian stopped (the embedded
 * store is opened on its data folder).
 */
async function danglingClaims(endpoint: string | undefined, dataDir: string): Promise<string[]> {
  const embedded = endpoint
    ? undefined
    : await startEmbeddedDynamo({ dataDir: path.join(dataDir, 'dynamodb'), port: 0, logger: silentLogger() });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: endpoint ?? embedded!.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const doc = DynamoDBDocumentClient.from(client);
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateScan({ client: doc }, { TableName: TABLE }))
      items.push(...(page.Items ?? []));
    const incidents = new Map(
      items.filter((i) => i.SK === 'META').map((i) => [String(i.id), String(i.status)] as const),
    );
    return items
      .filter((i) => i.SK === 'FP' && i.open === true)
      .filter(
        (i) =>
          (incidents.get(String(i.incidentId)) ?? 'missing') === 'missing' ||
          incidents.get(String(i.incidentId)) === 'resolved',
      )
      .map(
        (i) =>
          `${String(i.PK)} → ${String(i.incidentId)} (${incidents.get(String(i.incidentId)) ?? 'missing'})`,
      );
  } finally {
    client.destroy();
    await embedded?.close();
  }
}
