import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type Signal, VersionConflictError } from '../src/core/index.ts';
import { Correlator } from '../src/correlation/correlator.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { DeliveryRecords } from '../src/notify/delivery-records.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../src/telemetry/metrics.ts';
import { startEmbeddedStore } from './support/embedded-store.ts';

const logger = silentLogger();
const T0 = Date.parse('2026-03-02T02:00:00Z');

/**
 * The delivery ledger keeps what the notifier writes apart from the incident: the correlator and
 * lifecycle actions write the incident, the notifier its ledger items, and neither's conditional
 * writes fail because of the other's. Real store (dynalite), real Correlator.
 */
describe('delivery ledger', () => {
  let embedded: Awaited<ReturnType<typeof startEmbeddedStore>>;
  beforeAll(async () => {
    embedded = await startEmbeddedStore('ledger');
  });
  afterAll(async () => {
    await embedded?.close();
  });

  /** The store, counting the conditional writes that fail (a lost race), by writer. */
  function counting(store: IncidentStore) {
    const conflicts = { incident: 0, delivery: 0, state: 0 };
    const log: string[] = [];
    const counted = <T>(kind: keyof typeof conflicts, write: Promise<T>) =>
      write.then(
        (v) => {
          log.push(kind);
          return v;
        },
        (err: unknown) => {
          if (err instanceof VersionConflictError) conflicts[kind]++;
          throw err;
        },
      );
    const wrapped: IncidentStore = {
      ...store,
      create: (i) => counted('incident', store.create(i)),
      update: (i) => counted('incident', store.update(i)),
      putDelivery: (d) => counted('delivery', store.putDelivery(d)),
      putNotificationState: (s) => counted('state', store.putNotificationState(s)),
    };
    return { store: wrapped, conflicts, log };
  }

  const signal = (n: number): Signal => ({
    fingerprint: 'fp-executor-lost-37',
    kind: 'spark.executor_lost',
    status: 'firing',
    entity: 'spark:executor:app-1/37',
    related: ['host:10.0.3.17'],
    time: T0 + n * 1000,
    severity: n % 2 === 0 ? 'high' : 'critical',
    title: `executor 37 lost (${n})`,
    evidence: [{ kind: 'text', label: 'reason', text: `attempt ${n}` }],
    detector: 'test',
  });

  it('a correlator write and a notifier record racing on one incident never retry each other', async () => {
    const { store, conflicts, log } = counting(embedded.store);
    const clock = new ManualClock(T0);
    const correlator = new Correlator({ store, clock, logger, metrics: createGuardianMetrics() });
    const records = new DeliveryRecords({ store, clock, logger, claimTtlMs: 60_000 });
    const opened = await correlator.apply(signal(0));
    const id = opened.incident!.id;
    // Posted: the claim, then Slack's answer.
    const claim = await records.claimPost(id, null, 'C0ALERTS', clock.now());
    await records.recordPost(id, { channel: 'C0ALERTS', ts: '1.000100' }, { ...claim.thread, version: 1 });

    // The correlator applies signal after signal while the notifier
    // edits the post and replies in its thread: each one writer at a time, as in production.
    const rounds = 25;
    await Promise.all([
      (async () => {
        for (let n = 1; n <= rounds; n++) {
          await correlator.apply(signal(n));
        }
      })(),
      (async () => {
        for (let n = 1; n <= rounds; n++) {
          await records.recordEdit(id, { channel: 'C0ALERTS', ts: '1.000100' }, `digest-${n}`, n);
          await records.recordReply(
            id,
            { channel: 'C0ALERTS', ts: `1.${String(200 + n).padStart(6, '0')}` },
            n,
          );
          await records.updateState(id, (s) => ({ ...s, lastReplyAt: T0 + n }));
        }
      })(),
    ]);

    // They did run side by side: the writes interleave.
    const firstDelivery = log.indexOf('delivery', 3);
    expect(log.lastIndexOf('incident')).toBeGreaterThan(firstDelivery);
    // And not one conditional write failed: nobody re-read and retried because of the other.
    expect(conflicts).toEqual({ incident: 0, delivery: 0, state: 0 });
    const incident = (await embedded.store.get(id))!;
    expect(incident.version).toBe(1 + rounds);
    expect(incident.signals[0]!.count).toBe(1 + rounds);
    expect((await embedded.store.getDelivery(id))!.thread).toMatchObject({
      ts: '1.000100',
      digest: `digest-${rounds}`,
    });
    const sent = await embedded.store.sent(id);
    expect(sent.filter((n) => n.kind === 'post')).toHaveLength(1);
    expect(sent.filter((n) => n.kind === 'thread')).toHaveLength(rounds);
    expect(sent.filter((n) => n.kind === 'update')).toHaveLength(rounds);
  });
});
