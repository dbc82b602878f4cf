import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryBreach } from '../../test/fakes/incidents.ts';
import { startEmbeddedStore } from '../../test/support/embedded-store.ts';
import { ManualClock } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createGuardianMetrics } from '../telemetry/metrics.ts';
import { Correlator } from './correlator.ts';
import { merge } from './incident-state.ts';

const logger = silentLogger();
const T0 = Date.parse('2026-03-02T02:00:00Z');
let opened: Awaited<ReturnType<typeof startEmbeddedStore>> | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function freshStore() {
  opened = await startEmbeddedStore('iw');
  return opened;
}

/** A process's correlator: a new one is a restarted process (nothing in memory). */
const correlatorOn = (store: IncidentStore) =>
  new Correlator({ store, clock: new ManualClock(T0 + 60_000), logger, metrics: createGuardianMetrics() });

describe('the correlator after a process died between two writes', () => {
  it('a signal whose fingerprint a dead create claimed opens the incident that claim names', async () => {
    const { store, table, endpoint } = await freshStore();
    // The claim of incident inc_lost was written, the incident never was.
    const raw = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    await raw.send(
      new PutCommand({
        TableName: table,
        Item: { PK: 'FP#fp-h1', SK: 'FP', incidentId: 'inc_lost', open: true, claimedAt: Date.now() },
      }),
    );
    raw.destroy();
    // The detector fires again after the restart: a later signal, so another derived id.
    const { incident, change } = await correlatorOn(store).apply(memoryBreach('h1', T0 + 30_000));
    expect(change).toBe('opened');
    expect(incident?.id).toBe('inc_lost');
    expect((await store.findOpenByFingerprint('fp-h1'))?.id).toBe('inc_lost');
    // The dead process's own write, had it come late, meets the stored incident and doubles nothing.
    const late = await store.create({ ...incident!, signals: [] });
    expect(late.created).toBe(false);
  });

  it('a merge whose absorbed incident was written and survivor not is finished on load', async () => {
    const { store } = await freshStore();
    const before = correlatorOn(store);
    const a = (await before.apply(memoryBreach('h1', T0))).incident!;
    const b = (await before.apply(memoryBreach('h2', T0 + 1))).incident!;
    expect(a.id).not.toBe(b.id);
    // Died after the first write of merging b into a.
    await store.update(merge(a, b, T0 + 2).absorbed.incident);

    const after = correlatorOn(store);
    await after.sweep();
    const survivor = await store.get(a.id);
    expect(survivor?.signals.map((s) => s.fingerprint).sort()).toEqual(['fp-h1', 'fp-h2']);
    expect((await store.findOpenByFingerprint('fp-h2'))?.id).toBe(a.id);
    // Loading again does not merge again.
    await correlatorOn(store).sweep();
    expect((await store.get(a.id))?.version).toBe(survivor?.version);
  });
});
