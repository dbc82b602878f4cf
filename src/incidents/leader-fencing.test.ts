import { afterEach, describe, expect, it } from 'vitest';
import { memoryBreach, spotLossIncident } from '../../test/fakes/incidents.ts';
import { startEmbeddedStore } from '../../test/support/embedded-store.ts';
import { ManualClock, VersionConflictError } from '../core/index.ts';
import { Correlator } from '../correlation/correlator.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createGuardianMetrics } from '../telemetry/metrics.ts';
import { StaleLeaderError } from './store.ts';

const T0 = Date.parse('2026-03-02T02:00:00Z');
let opened: Awaited<ReturnType<typeof startEmbeddedStore>> | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

describe('leader epochs fence off a paused correlator', () => {
  it('gives out increasing epochs, never the same twice', async () => {
    opened = await startEmbeddedStore('fence');
    const { store } = opened;
    const epochs = await Promise.all(Array.from({ length: 5 }, () => store.nextLeaderEpoch()));
    expect([...epochs].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await store.nextLeaderEpoch()).toBe(6);
  });

  it('refuses an older leader the write that its version alone would allow, and keeps the epoch through unfenced writes', async () => {
    opened = await startEmbeddedStore('fence');
    const { store } = opened;
    const { incident } = await store.create(spotLossIncident('inc_f'), { fence: 1 });
    await store.update({ ...incident, title: 'by leader 2', version: 2 }, { fence: 2 });
    // A lifecycle action (no fence) in between.
    await store.update({ ...incident, title: 'acknowledged', status: 'acknowledged', version: 3 });
    // Leader 1 read the current version (after a lost race) and writes: its epoch is refused.
    const stale = await store
      .update({ ...incident, title: 'by leader 1', version: 4 }, { fence: 1 })
      .catch((e) => e);
    expect(stale).toBeInstanceOf(StaleLeaderError);
    expect((await store.get('inc_f'))?.title).toBe('acknowledged');
    // The current leader writes on; a stale version is still a version conflict, not a fence.
    await store.update({ ...incident, title: 'by leader 2 again', version: 4 }, { fence: 2 });
    expect(await store.update({ ...incident, version: 4 }, { fence: 3 }).catch((e) => e)).toBeInstanceOf(
      VersionConflictError,
    );
  });

  it('a correlator paused past its lease cannot overwrite what the next leader correlated', async () => {
    opened = await startEmbeddedStore('fence');
    const { store } = opened;
    let epochA: number | undefined = await store.nextLeaderEpoch();
    const correlator = (fence: () => number | undefined) =>
      new Correlator({
        store,
        clock: new ManualClock(T0),
        logger: silentLogger(),
        metrics: createGuardianMetrics(),
        fence,
      });
    const a = correlator(() => epochA);
    const opening = await a.apply(memoryBreach('h1', T0));
    // A is paused; B takes the lead and correlates a newer signal of the same incident.
    const epochB = await store.nextLeaderEpoch();
    const b = correlator(() => epochB);
    await b.apply({ ...memoryBreach('h1', T0 + 5_000), title: 'memory on h1, worse' });
    const byB = await store.get(opening.incident!.id);

    // A goes on with what it had in hand: refused, and the store keeps what B wrote.
    await expect(a.apply({ ...memoryBreach('h1', T0 + 3_000), severity: 'critical' })).rejects.toBeInstanceOf(
      StaleLeaderError,
    );
    expect(await store.get(opening.incident!.id)).toEqual(byB);
    // Once A leads again it takes a new epoch, and correlates from what the store holds.
    epochA = await store.nextLeaderEpoch();
    await a.invalidate();
    const later = await a.apply(memoryBreach('h1', T0 + 9_000));
    expect(later.incident?.version).toBe(byB!.version + 1);
  });
});
