import { describe, expect, it } from 'vitest';
import { generateApiKey, secretMatches } from '../../src/auth/api-key.ts';
import { type Incident, type IncidentSignal, VersionConflictError } from '../../src/core/index.ts';
import { ITEM_CAPS } from '../../src/incidents/dynamo-store.ts';
import {
  FingerprintTakenError,
  type IncidentStore,
  InvalidCursorError,
  SUPPRESSED_FINGERPRINTS_MAX,
} from '../../src/incidents/store.ts';

export type MakeIncidentStore = () => Promise<{ store: IncidentStore; cleanup(): Promise<void> }>;

const t0 = Date.parse('2026-03-02T02:00:00Z');
let seq = 0;

function sig(fingerprint: string, over: Partial<IncidentSignal> = {}): IncidentSignal {
  return {
    fingerprint,
    kind: 'metric.threshold',
    entity: 'metric:m{host.name="h1"}',
    related: ['host:h1'],
    status: 'firing',
    severity: 'high',
    title: 'm above 1',
    detector: 'metric-threshold',
    firstSeen: t0,
    lastSeen: t0,
    count: 1,
    evidence: [
      { kind: 'value', label: 'observed', value: 1.5, unit: '1' },
      { kind: 'text', label: 'rule', text: 'm > 1' },
      { kind: 'log', label: 'log', lines: ['ERROR a', 'ERROR b'] },
      { kind: 'link', label: 'dashboard', url: 'https://grafana.example/d/1' },
    ],
    ...over,
  };
}

function incident(over: Partial<Incident> = {}): Incident {
  seq++;
  const id = `inc_c${seq}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    id,
    status: 'open',
    severity: 'high',
    title: `incident ${seq}`,
    openedAt: t0 + seq * 1000,
    updatedAt: t0 + seq * 1000,
    resolvedAt: null,
    rootCause: null,
    entities: ['metric:m{host.name="h1"}', 'host:h1'],
    signals: [sig(`fp_${id}`)],
    version: 1,
    ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** What every IncidentStore must do (src/incidents/store.ts), run against each DynamoDB-compatible server. */
export function describeIncidentStoreContract(name: string, make: MakeIncidentStore): void {
  describe(`incident store contract: ${name}`, () => {
    async function withStore(fn: (store: IncidentStore) => Promise<void>) {
      const { store, cleanup } = await make();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    }

    it('round-trips every field', () =>
      withStore(async (store) => {
        const inc = incident({
          rootCause: { entity: 'host:h1', kind: 'spot_interruption', confidence: 0.8 },
        });
        expect(await store.create(inc)).toEqual({ incident: inc, created: true });
        expect(await store.get(inc.id)).toEqual(inc);
        const plain = incident();
        await store.create(plain);
        expect(await store.get(plain.id)).toEqual(plain);
        expect(await store.get('inc_missing')).toBeNull();
      }));

    it('treats a retried create as a no-op', () =>
      withStore(async (store) => {
        const inc = incident();
        await store.create(inc);
        const again = await store.create({ ...inc, title: 'changed' });
        expect(again.created).toBe(false);
        expect(again.incident.title).toBe(inc.title);
      }));

    it('updates on the right version and refuses a stale one', () =>
      withStore(async (store) => {
        const inc = incident();
        await store.create(inc);
        const v2 = await store.update({ ...inc, title: 'v2', version: 2 });
        expect(v2.version).toBe(2);
        expect((await store.get(inc.id))!.title).toBe('v2');
        expect(await rejection(store.update({ ...inc, title: 'stale', version: 2 }))).toBeInstanceOf(
          VersionConflictError,
        );
        expect((await store.get(inc.id))!.title).toBe('v2');
      }));

    it('lets exactly one of two concurrent updates from the same version win', () =>
      withStore(async (store) => {
        const inc = incident();
        await store.create(inc);
        const results = await Promise.allSettled([
          store.update({ ...inc, title: 'a', version: 2 }),
          store.update({ ...inc, title: 'b', version: 2 }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(VersionConflictError);
        const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Incident>)
          .value;
        expect((await store.get(inc.id))!.title).toBe(winner.title);
      }));

    it('gives a fingerprint to one open incident at a time, and frees it on resolve', () =>
      withStore(async (store) => {
        const fp = `fp_shared_${Math.random()}`;
        const first = incident({ signals: [sig(fp)] });
        await store.create(first);
        expect((await store.findOpenByFingerprint(fp))!.id).toBe(first.id);

        const second = incident({ signals: [sig(fp)] });
        const err = await rejection(store.create(second));
        expect(err).toBeInstanceOf(FingerprintTakenError);
        expect((err as FingerprintTakenError).ownerId).toBe(first.id);

        // A signal added by update is claimed too.
        const other = incident();
        await store.create(other);
        expect(
          await rejection(store.update({ ...other, signals: [...other.signals, sig(fp)], version: 2 })),
        ).toBeInstanceOf(FingerprintTakenError);

        await store.update({ ...first, status: 'resolved', resolvedAt: t0 + 5000, version: 2 });
        expect(await store.findOpenByFingerprint(fp)).toBeNull();
        await store.create(second);
        expect((await store.findOpenByFingerprint(fp))!.id).toBe(second.id);
        expect(await store.findOpenByFingerprint('fp_never_seen')).toBeNull();
      }));

    it('lists newest first, by status and time range, with cursors that neither skip nor repeat', () =>
      withStore(async (store) => {
        const made: Incident[] = [];
        for (let i = 0; i < 25; i++) {
          const inc = incident({ openedAt: t0 + 1_000_000 + i * 60_000 });
          await store.create(inc);
          made.push(inc);
        }
        for (const inc of made.filter((_, i) => i % 4 === 0)) {
          await store.update({ ...inc, status: 'resolved', resolvedAt: inc.openedAt + 1, version: 2 });
        }
        const newestFirst = [...made].reverse().map((i) => i.id);

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({ limit: 10, ...(cursor ? { cursor } : {}) });
          seen.push(...page.incidents.map((i) => i.id));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor && pages < 10);
        expect(seen).toEqual(newestFirst);

        const resolved = await store.list({ limit: 100, status: 'resolved' });
        expect(resolved.incidents.map((i) => i.id)).toEqual(
          newestFirst.filter((id) => made.findIndex((m) => m.id === id) % 4 === 0),
        );
        expect(resolved.nextCursor).toBeNull();
        const open = await store.list({ limit: 100, status: 'open' });
        expect(open.incidents).toHaveLength(25 - resolved.incidents.length);
        expect(open.incidents.every((i) => i.status === 'open')).toBe(true);

        const from = made[5]!.openedAt;
        const to = made[9]!.openedAt;
        const ranged = await store.list({ limit: 100, from, to });
        expect(ranged.incidents.map((i) => i.id)).toEqual([
          made[8]!.id,
          made[7]!.id,
          made[6]!.id,
          made[5]!.id,
        ]);

        const pagedOpen: string[] = [];
        let c: string | undefined;
        do {
          const page = await store.list({ limit: 4, status: 'open', ...(c ? { cursor: c } : {}) });
          pagedOpen.push(...page.incidents.map((i) => i.id));
          c = page.nextCursor ?? undefined;
        } while (c);
        expect(pagedOpen).toEqual(open.incidents.map((i) => i.id));
      }));

    it('rejects a cursor it did not issue', () =>
      withStore(async (store) => {
        for (const cursor of [
          'garbage!',
          Buffer.from('{"PK":1}').toString('base64url'),
          Buffer.from('[]').toString('base64url'),
        ]) {
          expect(await rejection(store.list({ limit: 5, cursor }))).toBeInstanceOf(InvalidCursorError);
        }
      }));

    it('appends timeline events once each, in time order', () =>
      withStore(async (store) => {
        const inc = incident();
        await store.create(inc);
        const e1 = { id: 'evt_1', at: t0 + 10, type: 'opened' as const, text: 'opened' };
        const e2 = {
          id: 'evt_2',
          at: t0 + 5,
          type: 'signal_firing' as const,
          text: 'fired',
          fingerprint: 'fp',
        };
        const e3 = { id: 'evt_3', at: t0 + 20, type: 'resolved' as const, text: 'resolved' };
        await store.appendTimeline(inc.id, [e1, e3]);
        await store.appendTimeline(inc.id, [e1, e2, e3]);
        expect(await store.timeline(inc.id)).toEqual([e2, e1, e3]);
        expect(await store.timeline('inc_other')).toEqual([]);
      }));

    it('keeps an incident with many large signals within the item limit', () =>
      withStore(async (store) => {
        const signals = Array.from({ length: 300 }, (_, i) =>
          sig(`fp_big_${i}_${Math.random()}`, {
            lastSeen: t0 + i,
            evidence: [
              { kind: 'log', label: 'log', lines: Array.from({ length: 50 }, () => 'x'.repeat(5000)) },
            ],
          }),
        );
        const inc = incident({ signals });
        const { incident: stored } = await store.create(inc);
        expect(stored.signals.length).toBeLessThanOrEqual(200);
        const kept = (await store.get(inc.id))!.signals;
        expect(kept).toEqual(stored.signals);
        expect(kept.length).toBeGreaterThan(0);
        expect(Math.max(...kept.map((s) => s.lastSeen))).toBe(t0 + 299);
        expect(JSON.stringify(kept).length).toBeLessThan(350_000);
      }));

    it('keeps the impact of a storm within the item limit, counting the tasks it leaves out', () =>
      withStore(async (store) => {
        const long = (i: number) => `dag_${i}_${'x'.repeat(240)}`;
        const tasks = Array.from({ length: 500 }, (_, i) => ({
          entity: `airflow:task:${long(i)}/scheduled__2026-03-02T02:00:00+00:00/${'t'.repeat(240)}`,
          dagId: long(i),
          runId: 'scheduled__2026-03-02T02:00:00+00:00',
          taskId: 't'.repeat(240),
          state: 'failed' as const,
        }));
        const dags = tasks.map((t) => t.dagId).sort();
        const inc = incident({ impact: { dags, tasks, sparkJobs: 3, omittedTasks: 40 } });
        expect(JSON.stringify(inc.impact).length).toBeGreaterThan(ITEM_CAPS.impactChars);
        const { incident: stored } = await store.create(inc);
        const read = (await store.get(inc.id))!;
        expect(read.impact).toEqual(stored.impact);
        const impact = read.impact!;
        expect(JSON.stringify(impact).length).toBeLessThanOrEqual(ITEM_CAPS.impactChars);
        // Every task is counted; DAG names go only once no task is listed.
        expect(impact.tasks.length + impact.omittedTasks!).toBe(540);
        expect(impact.tasks).toEqual(tasks.slice(0, impact.tasks.length));
        expect(impact.dags.length + (impact.omittedDags ?? 0)).toBe(500);
        expect(impact.dags).toEqual(dags.slice(0, impact.dags.length));
        expect(impact.dags.length).toBeGreaterThan(100);
        expect(impact.sparkJobs).toBe(3);
      }));

    it('keeps the entities of a storm within the item limit, the root cause first among them', () =>
      withStore(async (store) => {
        const entities = Array.from(
          { length: 1000 },
          (_, i) => `airflow:task:dag_${i}/${'r'.repeat(150)}/load`,
        );
        const inc = incident({
          entities,
          rootCause: { entity: entities[999]!, kind: 'host_lost', confidence: 0.9 },
        });
        const { incident: stored } = await store.create(inc);
        const read = (await store.get(inc.id))!;
        expect(read.entities).toEqual(stored.entities);
        expect(JSON.stringify(read.entities).length).toBeLessThanOrEqual(ITEM_CAPS.entitiesChars);
        expect(read.entities[0]).toBe(entities[999]);
        expect(read.entities.slice(1)).toEqual(entities.slice(0, read.entities.length - 1));
      }));

    it('counts the signals a silence suppressed, once per fingerprint, and more beyond the set', () =>
      withStore(async (store) => {
        const silence = {
          id: `sil_${Math.random().toString(36).slice(2)}`,
          kind: 'spot_interruption',
          createdAt: t0,
          expiresAt: t0 + 3_600_000,
          createdBy: { id: 'ana', via: 'api' as const },
          reason: 'maintenance',
        };
        await store.createSilence(silence);
        expect((await store.listSilences(t0))[0]).toEqual({ ...silence, suppressed: 0 });
        await store.recordSuppressed(silence.id, ['fp1', 'fp2']);
        await store.recordSuppressed(silence.id, ['fp2', 'fp3']);
        await store.recordSuppressed(silence.id, []);
        expect((await store.listSilences(t0))[0]?.suppressed).toBe(3);
        // An unknown silence: nothing written, nothing thrown.
        await store.recordSuppressed('sil_nope', ['fp1']);
        expect((await store.listSilences(t0)).map((s) => s.id)).toEqual([silence.id]);
        const many = Array.from({ length: SUPPRESSED_FINGERPRINTS_MAX + 10 }, (_, i) => `fpx${i}`);
        for (let i = 0; i < many.length; i += 500)
          await store.recordSuppressed(silence.id, many.slice(i, i + 500));
        const counted = (await store.listSilences(t0))[0]!.suppressed!;
        expect(counted).toBeGreaterThanOrEqual(many.length + 3);
        expect((await store.expireSilence(silence.id, t0 + 1000))?.suppressed).toBe(counted);
      }));

    it('keeps API keys as salted hashes, finds them by id, lists and revokes them', () =>
      withStore(async (store) => {
        const a = generateApiKey({ name: 'ana', scope: 'admin', now: t0 });
        const b = generateApiKey({ name: 'ci', scope: 'ingest', now: t0 + 1, expiresInMs: 86_400_000 });
        expect(await store.createApiKey(a.record)).toBe(true);
        expect(await store.createApiKey(b.record)).toBe(true);
        expect(await store.createApiKey({ ...a.record, name: 'other' })).toBe(false);
        const read = await store.getApiKey(a.record.id);
        expect(read).toEqual(a.record);
        expect(JSON.stringify(read)).not.toContain(a.key.slice(-43));
        expect(secretMatches(read!, a.key.slice(-43))).toBe(true);
        expect(secretMatches(read!, b.key.slice(-43))).toBe(false);
        expect(await store.getApiKey('nosuchkeyid00000')).toBeNull();
        expect((await store.listApiKeys()).map((k) => k.id)).toEqual([a.record.id, b.record.id]);
        expect((await store.getApiKey(b.record.id))?.expiresAt).toBe(t0 + 1 + 86_400_000);

        const revoked = await store.revokeApiKey(a.record.id, t0 + 5000);
        expect(revoked).toMatchObject({ id: a.record.id, revokedAt: t0 + 5000 });
        // Revoking again keeps the first time.
        expect((await store.revokeApiKey(a.record.id, t0 + 9000))?.revokedAt).toBe(t0 + 5000);
        expect(await store.revokeApiKey('nosuchkeyid00000', t0)).toBeNull();
        expect((await store.listApiKeys()).find((k) => k.id === a.record.id)?.revokedAt).toBe(t0 + 5000);
      }));

    it('keeps the delivery ledger beside the incident: versioned, read in batches, each send noted once', () =>
      withStore(async (store) => {
        const inc = incident();
        await store.create(inc);
        expect(await store.getDelivery(inc.id)).toBeNull();
        const claim = {
          incidentId: inc.id,
          version: 1,
          thread: { channel: '#c', ts: '', claimedAt: t0, digest: '' },
        };
        expect(await store.putDelivery(claim)).toEqual(claim);
        // A second first claim, or a write on a stale version, loses.
        expect(await rejection(store.putDelivery(claim))).toBeInstanceOf(VersionConflictError);
        const posted = { ...claim, version: 2, thread: { ...claim.thread, ts: '1.000100', digest: 'abc' } };
        await store.putDelivery(posted);
        expect(await rejection(store.putDelivery({ ...posted, thread: null }))).toBeInstanceOf(
          VersionConflictError,
        );
        expect(await store.getDelivery(inc.id)).toEqual(posted);
        // The incident is untouched by all of it: its writers never race the notifier.
        expect(await store.get(inc.id)).toEqual(inc);

        const other = incident();
        await store.create(other);
        const batch = await store.deliveries([inc.id, other.id, 'inc_missing']);
        expect([...batch.keys()]).toEqual([inc.id]);
        expect(batch.get(inc.id)).toEqual(posted);
        expect(
          await rejection(store.deliveries(Array.from({ length: 101 }, (_, i) => `inc_${i}`))),
        ).toBeInstanceOf(RangeError);

        const post = { at: t0 + 10, kind: 'post', channel: '#c', ts: '1.000100', version: 1 } as const;
        const reply = { at: t0 + 20, kind: 'thread', channel: '#c', ts: '1.000200', version: 2 } as const;
        const edit = { at: t0 + 30, kind: 'update', channel: '#c', ts: '1.000100', version: 3 } as const;
        const edit2 = { ...edit, at: t0 + 40, version: 4 };
        for (const r of [reply, post, edit, edit2]) await store.recordSent(inc.id, r);
        // Noted again (a retried job, an adopted post): nothing changes.
        await store.recordSent(inc.id, { ...post, at: t0 + 50 });
        await store.recordSent(inc.id, { ...reply, at: t0 + 60 });
        expect(await store.sent(inc.id)).toEqual([post, reply, edit, edit2]);
        expect(await store.sent(other.id)).toEqual([]);
        // Nor do the ledger's items show up as incidents, timeline events or in a listing.
        expect(await store.timeline(inc.id)).toEqual([]);
        const listed = await store.list({ limit: 100 });
        expect(listed.incidents.filter((i) => i.id === inc.id)).toEqual([inc]);
      }));

    it('answers ping', () =>
      withStore(async (store) => {
        expect(await store.ping()).toBe(true);
      }));
  });
}
