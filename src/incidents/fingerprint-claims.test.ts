import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../test/support/embedded-store.ts';
import type { Incident } from '../core/index.ts';
import { CLAIM_GRACE_MS } from './dynamo-store.ts';
import { FingerprintTakenError, type IncidentStore } from './store.ts';

let opened: Awaited<ReturnType<typeof startEmbeddedStore>> | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

/** A store, and a way to write a claim as a process that died right after writing it left it. */
async function freshStore(): Promise<{
  store: IncidentStore;
  leaveClaim(fingerprint: string, incidentId: string, claimedAt: number): Promise<void>;
}> {
  const o = await startEmbeddedStore('fp');
  opened = o;
  return {
    store: o.store,
    async leaveClaim(fingerprint, incidentId, claimedAt) {
      const raw = DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: o.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
      );
      await raw.send(
        new PutCommand({
          TableName: o.table,
          Item: { PK: `FP#${fingerprint}`, SK: 'FP', incidentId, open: true, claimedAt },
        }),
      );
      raw.destroy();
    },
  };
}

function incident(id: string, fingerprint: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    status: 'open',
    severity: 'high',
    title: id,
    openedAt: 1,
    updatedAt: 1,
    resolvedAt: null,
    rootCause: null,
    entities: [],
    signals: [
      {
        fingerprint,
        kind: 'metric.threshold',
        entity: 'metric:m',
        related: [],
        status: 'firing',
        severity: 'high',
        title: 't',
        detector: 'd',
        firstSeen: 1,
        lastSeen: 1,
        count: 1,
        evidence: [],
      },
    ],
    version: 1,
    ...over,
  };
}

describe('fingerprint claims left by a write that stopped halfway', () => {
  it('a claim whose incident is resolved is taken over', async () => {
    const { store, leaveClaim } = await freshStore();
    await store.create(incident('inc_old', 'fp1', { status: 'resolved', resolvedAt: 2 }));
    // Died between resolving the incident and releasing its claim.
    await leaveClaim('fp1', 'inc_old', Date.now());
    const { created } = await store.create(incident('inc_new', 'fp1'));
    expect(created).toBe(true);
    expect((await store.findOpenByFingerprint('fp1'))?.id).toBe('inc_new');
  });

  it('a claim whose incident was never written is taken over once the grace is over, not before', async () => {
    const { store, leaveClaim } = await freshStore();
    await leaveClaim('fp2', 'inc_never', Date.now());
    const err = await store.create(incident('inc_new', 'fp2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FingerprintTakenError);
    expect((err as FingerprintTakenError).ownerId).toBe('inc_never');

    await leaveClaim('fp2', 'inc_never', Date.now() - CLAIM_GRACE_MS - 1);
    // The update path too: a signal joining an existing incident.
    await store.create(incident('inc_other', 'fp3'));
    const joined = incident('inc_other', 'fp3', { version: 2 });
    const updated = await store.update({
      ...joined,
      signals: [...joined.signals, { ...joined.signals[0]!, fingerprint: 'fp2' }],
    });
    expect(updated.signals).toHaveLength(2);
    expect((await store.findOpenByFingerprint('fp2'))?.id).toBe('inc_other');
  });

  it('a claim held by an open incident is not taken over, however old', async () => {
    const { store, leaveClaim } = await freshStore();
    await store.create(incident('inc_open', 'fp4'));
    await leaveClaim('fp4', 'inc_open', 0);
    const err = await store.create(incident('inc_new', 'fp4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FingerprintTakenError);
    expect((await store.findOpenByFingerprint('fp4'))?.id).toBe('inc_open');
  });
});
