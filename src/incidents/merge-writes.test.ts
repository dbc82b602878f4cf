import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { spotLossIncident, T0 } from '../../test/fakes/incidents.ts';
import { merge } from '../correlation/incident-state.ts';
import { createDynamoIncidentStore } from './dynamo-store.ts';
import { startEmbeddedDynamo } from './embedded-dynamo.ts';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('a merge on a server without transactions (dynalite)', () => {
  it('falls back to two writes, found out once and said once', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const dynamo = await startEmbeddedDynamo({ port: 0, logger: pino({ level: 'silent' }) });
    const store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: 'merges',
      createTable: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger,
    });
    cleanup = async () => {
      await store.close();
      await dynamo.close();
    };
    await store.start();
    const fingerprints = (prefix: string) =>
      spotLossIncident('x').signals.map((s) => ({ ...s, fingerprint: `${prefix}_${s.fingerprint}` }));
    const ids = ['inc_a', 'inc_b', 'inc_c'];
    const [a, b, c] = await Promise.all(
      ids.map(
        async (id) =>
          (
            await store.create(
              spotLossIncident(id, { signals: fingerprints(id), openedAt: T0 + ids.indexOf(id) }),
            )
          ).incident,
      ),
    );
    const first = merge(a!, b!, T0 + 5_000);
    const one = await store.mergeIncidents(first.absorbed.incident, first.survivor.incident);
    const second = merge(one.survivor, c!, T0 + 6_000);
    const two = await store.mergeIncidents(second.absorbed.incident, second.survivor.incident);
    expect([one.atomic, two.atomic]).toEqual([false, false]);
    expect(lines.filter((l) => /no transactions/.test(String(l.msg)))).toHaveLength(1);
    // Both merges landed, claims and all.
    expect((await store.get('inc_a'))?.signals).toHaveLength(6);
    expect(await store.get('inc_c')).toMatchObject({ status: 'resolved', mergedInto: 'inc_a' });
    expect((await store.findOpenByFingerprint('inc_c_fp_2'))?.id).toBe('inc_a');
    // A merge must name its survivor.
    await expect(store.mergeIncidents(b!, a!)).rejects.toThrow(/not merged into inc_a/);
  });
});
