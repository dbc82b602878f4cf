import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Incident, Signal } from '../../src/core/index.ts';
import { ManualClock, VersionConflictError } from '../../src/core/index.ts';
import { Correlator } from '../../src/correlation/correlator.ts';
import { merge } from '../../src/correlation/incident-state.ts';
import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { type IncidentStore, StaleLeaderError } from '../../src/incidents/store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../../src/telemetry/metrics.ts';
import { spotLossIncident, T0 } from '../fakes/incidents.ts';
import { type FaultProxy, startFaultProxy } from '../faults/support/fault-proxy.ts';
import { startMoto } from '../support/moto.ts';

/**
 * A merge's two incident writes as one DynamoDB transaction, on a real moto server (which runs
 * `TransactWriteItems` as DynamoDB does: all or nothing, every condition checked). The store talks
 * to moto through a proxy that can land another writer's write between the store's reads and its
 * transaction, and that counts the operations the store sent.
 */
let moto: Awaited<ReturnType<typeof startMoto>>;
beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store through the proxy (what the test watches and interposes on) and one straight to moto (the other writer). */
async function stores(): Promise<{
  store: IncidentStore;
  other: IncidentStore;
  proxy: FaultProxy;
  ops: string[];
}> {
  const proxy = await startFaultProxy(moto.endpoint);
  const ops: string[] = [];
  proxy.beforeForward = async (op) => {
    ops.push(op);
  };
  const tableName = `merge-${Math.random().toString(36).slice(2)}`;
  const open = (endpoint: string) =>
    createDynamoIncidentStore({
      endpoint,
      region: 'us-east-1',
      tableName,
      createTable: true,
      credentials,
      logger: silentLogger(),
    });
  const store = open(proxy.url);
  const other = open(moto.endpoint);
  await store.start();
  await other.start();
  cleanups.push(async () => {
    await store.close();
    await other.close();
    await proxy.close();
  });
  return { store, other, proxy, ops };
}

/** Two open incidents, each holding its own fingerprints, and their merge (b into a). */
async function twoIncidents(store: IncidentStore, fence?: number) {
  const options = fence === undefined ? {} : { fence };
  const a = (await store.create(spotLossIncident('inc_a'), options)).incident;
  const b = (
    await store.create(
      spotLossIncident('inc_b', {
        openedAt: T0 + 1,
        signals: spotLossIncident('x').signals.map((s) => ({ ...s, fingerprint: `b_${s.fingerprint}` })),
      }),
      options,
    )
  ).incident;
  return { a, b, merged: merge(a, b, T0 + 5_000) };
}

describe('a merge on a server with transactions (moto)', () => {
  it('writes both incidents in one TransactWriteItems, and the survivor holds the absorbed fingerprints', async () => {
    const { store, ops } = await stores();
    const { merged } = await twoIncidents(store, 1);
    ops.length = 0;
    const written = await store.mergeIncidents(merged.absorbed.incident, merged.survivor.incident, {
      fence: 1,
    });
    expect(written.atomic).toBe(true);
    expect(ops.filter((op) => op === 'TransactWriteItems')).toHaveLength(1);
    // Neither incident was written on its own.
    expect(ops).not.toContain('PutItem');
    const a = await store.get('inc_a');
    const b = await store.get('inc_b');
    expect(a?.version).toBe(2);
    expect(a?.signals.map((s) => s.fingerprint).sort()).toEqual(['b_fp_1', 'b_fp_2', 'fp_1', 'fp_2']);
    expect(b).toMatchObject({ status: 'resolved', mergedInto: 'inc_a', version: 2 });
    expect((await store.findOpenByFingerprint('b_fp_1'))?.id).toBe('inc_a');
    expect((await store.findOpenByFingerprint('fp_2'))?.id).toBe('inc_a');
  });

  it.each([
    ['the survivor', 'inc_a'],
    ['the absorbed incident', 'inc_b'],
  ])(
    'a write to %s landing between the read and the transaction fails the merge as a whole: neither item changes',
    async (_, changedId) => {
      const { store, other, proxy } = await stores();
      const { merged } = await twoIncidents(store);
      const before = { a: await store.get('inc_a'), b: await store.get('inc_b') };
      let landed: Incident | undefined;
      proxy.beforeForward = async (op) => {
        if (op !== 'TransactWriteItems' || landed) return;
        // Another writer (a lifecycle action: an acknowledgement) gets in first.
        const current = (await other.get(changedId))!;
        landed = await other.update({ ...current, status: 'acknowledged', version: current.version + 1 });
      };
      const err = await store
        .mergeIncidents(merged.absorbed.incident, merged.survivor.incident)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VersionConflictError);
      expect(landed?.status).toBe('acknowledged');
      // The other writer's change is all there is: the merge left no trace in either incident.
      const after = { a: await store.get('inc_a'), b: await store.get('inc_b') };
      for (const id of ['a', 'b'] as const) {
        const expected = `inc_${id}` === changedId ? landed : before[id];
        expect(after[id]).toEqual(expected);
      }
      expect(after.b?.mergedInto).toBeUndefined();
      expect(after.a?.signals).toHaveLength(2);
      // The claims it moved first name the survivor, still open: nothing is blocked, and the merge
      // worked out again from what is stored now lands whole.
      expect((await store.findOpenByFingerprint('b_fp_1'))?.id).toBe('inc_a');
      const again = merge(after.a!, after.b!, T0 + 6_000);
      const written = await store.mergeIncidents(again.absorbed.incident, again.survivor.incident);
      expect(written.atomic).toBe(true);
      expect((await store.get('inc_a'))?.signals).toHaveLength(4);
      expect(await store.get('inc_b')).toMatchObject({ status: 'resolved', mergedInto: 'inc_a' });
      for (const fp of ['fp_1', 'fp_2', 'b_fp_1', 'b_fp_2'])
        expect((await store.findOpenByFingerprint(fp))?.id).toBe('inc_a');
    },
  );

  it('a later leader writing the survivor in between fences the whole merge off', async () => {
    const { store, other, proxy } = await stores();
    const { merged } = await twoIncidents(store, 1);
    const absorbedBefore = await store.get('inc_b');
    proxy.beforeForward = async (op) => {
      if (op !== 'TransactWriteItems') return;
      proxy.beforeForward = undefined;
      const current = (await other.get('inc_a'))!;
      await other.update({ ...current, title: 'by leader 2', version: current.version + 1 }, { fence: 2 });
    };
    const err = await store
      .mergeIncidents(merged.absorbed.incident, merged.survivor.incident, { fence: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleLeaderError);
    expect(await store.get('inc_b')).toEqual(absorbedBefore);
    expect((await store.get('inc_a'))?.title).toBe('by leader 2');
  });

  it('the correlator merges through one transaction, and a load finds nothing to finish', async () => {
    const { store, ops } = await stores();
    const correlator = () =>
      new Correlator({
        store,
        clock: new ManualClock(T0 + 60_000),
        logger: silentLogger(),
        metrics: createGuardianMetrics(),
      });
    const c = correlator();
    // Two incidents, then a series about the bucket of one and the table of the other.
    const first = await c.apply(series('h-a', { bucket: 'mb-orders' }));
    const second = await c.apply(series('h-b', { table: 'mb-payments' }));
    expect(first.incident?.id).not.toBe(second.incident?.id);
    ops.length = 0;
    const linked = await c.apply(series('h-c', { bucket: 'mb-orders', table: 'mb-payments' }));
    expect(linked.also).toHaveLength(1);
    expect(ops.filter((op) => op === 'TransactWriteItems')).toHaveLength(1);
    const survivor = await store.get(linked.incident!.id);
    expect(survivor?.signals).toHaveLength(3);
    const absorbed = await store.get(linked.also![0]!.incident.id);
    expect(absorbed).toMatchObject({ status: 'resolved', mergedInto: survivor!.id });
    // A restarted correlator loads both and has no merge to finish (no write at all).
    ops.length = 0;
    await correlator().sweep();
    expect(ops.filter((op) => /Put|Update|Transact/.test(op))).toEqual([]);
  });
});

/** A breaching memory series on `host` with other attributes naming what it is about. */
function series(host: string, attributes: Record<string, string>): Signal {
  const labels = Object.entries({ 'host.name': host, ...attributes })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return {
    fingerprint: `fp-${host}`,
    kind: 'metric.threshold',
    entity: `metric:mem{${labels}}`,
    related: [`host:${host}`],
    status: 'firing',
    time: T0 + 30_000,
    severity: 'high',
    title: `memory on ${host}`,
    evidence: [],
    detector: 'test',
  };
}
