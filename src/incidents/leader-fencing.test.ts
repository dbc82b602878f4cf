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

  it('a fingerprint claim carries the epoch: a paused leader cannot take a fingerprint the next leader released', async () => {
    opened = await startEmbeddedStore('fence');
    const { store } = opened;
    // Leader 2 opened and resolved an incident: its fingerprints are free again, released by epoch 2.
    const { incident } = await store.create(spotLossIncident('inc_2'), { fence: 2 });
    await store.update({ ...incident, status: 'resolved', resolvedAt: 2, version: 2 }, { fence: 2 });
    const fingerprint = incident.signals[0]!.fingerprint;
    // Leader 1, paused past its lease, opens an incident on the same fingerprint: refused, nothing written.
    const stale = await store
      .create(spotLossIncident('inc_1', { signals: [incident.signals[0]!] }), { fence: 1 })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleLeaderError);
    expect((stale as Error).message).toMatch(
      `the claim of fingerprint ${fingerprint} was written by leader epoch 2`,
    );
    expect(await store.get('inc_1')).toBeNull();
    expect(await store.findOpenByFingerprint(fingerprint)).toBeNull();
    // The same write from the current leader (or a later one) claims it.
    const { created } = await store.create(spotLossIncident('inc_3', { signals: [incident.signals[0]!] }), {
      fence: 3,
    });
    expect(created).toBe(true);
    expect((await store.findOpenByFingerprint(fingerprint))?.id).toBe('inc_3');
    // An unfenced write (no leader: a single process) keeps the epoch, so leader 2 is still fenced off.
    await store.update({ ...(await store.get('inc_3'))!, status: 'resolved', resolvedAt: 3, version: 2 });
    const after = await store
      .create(spotLossIncident('inc_2b', { signals: [incident.signals[0]!] }), { fence: 2 })
      .catch((e: unknown) => e);
    expect(after).toBeInstanceOf(StaleLeaderError);
  });

  it('a correlator paused past its lease cannot claim a fingerprint for a new incident after the next leader resolved it', async () => {
    opened = await startEmbeddedStore('fence');
    const { store } = opened;
    const clock = new ManualClock(T0);
    const correlator = (fence: () => number | undefined) =>
      new Correlator({ store, clock, logger: silentLogger(), metrics: createGuardianMetrics(), fence });
    const epochA = await store.nextLeaderEpoch();
    const a = correlator(() => epochA);
    await a.apply(memoryBreach('h9', T0));
    // B takes the lead, resolves the incident (the breach clears) and forgets nothing.
    const epochB = await store.nextLeaderEpoch();
    const b = correlator(() => epochB);
    const cleared = await b.apply({ ...memoryBreach('h9', T0 + 5_000), status: 'resolved' });
    expect(cleared.incident?.status).toBe('resolved');
    // A, resumed with a working set that no longer matches the store, sees the series breach again
    // long after: it would open a new incident, and its claim is refused.
    await clock.advanceTo(T0 + 3 * 3_600_000);
    await a.invalidate();
    const err = await a.apply(memoryBreach('h9', T0 + 3 * 3_600_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleLeaderError);
    expect((await store.list({ limit: 10 })).incidents).toHaveLength(1);
    expect(await store.findOpenByFingerprint('fp-h9')).toBeNull();
  });
});
