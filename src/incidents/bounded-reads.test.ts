import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { spotLossIncident } from '../../test/fakes/incidents.ts';
import { startEmbeddedStore } from '../../test/support/embedded-store.ts';
import { coveringSilences, findActiveSilence, findSilence } from './silences.ts';
import { type RecordedEvent, SILENCE_PAGE, type Silence } from './store.ts';

const NOW = Date.parse('2026-03-04T03:00:00Z');
let opened: Awaited<ReturnType<typeof startEmbeddedStore>> | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

function silence(n: number, over: Partial<Silence> = {}): Silence {
  return {
    id: `sil_${String(n).padStart(6, '0')}`,
    entity: `host:10.9.${Math.floor(n / 250)}.${n % 250}`,
    createdAt: NOW - 3_600_000 + n,
    expiresAt: NOW + 3_600_000,
    createdBy: { id: 'k1', name: 'ops', via: 'api' },
    reason: 'maintenance window '.repeat(50),
    suppressed: 0,
    ...over,
  };
}

describe('silences read a page at a time', () => {
  it('50,000 silences: the earliest that covers the incident, without stalling the event loop or holding them all', async () => {
    const incident = spotLossIncident('inc_s');
    const covering = incident.rootCause?.entity ?? incident.entities[0]!;
    const total = 50_000;
    // Built page by page as a store would read them; two cover the incident, far apart.
    // How long the scan holds the event loop per page: from handing it over to asking for the next.
    const slices: number[] = [];
    async function* pages(): AsyncGenerator<Silence[]> {
      for (let from = 0; from < total; from += SILENCE_PAGE) {
        await new Promise((r) => setImmediate(r));
        const page = Array.from({ length: SILENCE_PAGE }, (_, i) => {
          const n = from + i;
          return n === 31_000 || n === 47_000 ? silence(n, { entity: covering }) : silence(n);
        });
        const handed = performance.now();
        yield page;
        slices.push(performance.now() - handed);
      }
    }
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 5);
    delay.enable();
    const started = performance.now();
    const found = await findActiveSilence(pages(), incident, NOW);
    const tookMs = performance.now() - started;
    delay.disable();
    clearInterval(sampler);
    const maxLagMs = delay.max / 1e6;
    const growthMiB = (heapPeak - heapBefore) / 2 ** 20;
    slices.sort((a, b) => a - b);
    const p95 = slices[Math.floor(slices.length * 0.95)]!;
    console.info(
      `50,000 silences: ${tookMs.toFixed(0)} ms, slices p95 ${p95.toFixed(1)} ms max ${slices.at(-1)!.toFixed(1)} ms, event loop lag max ${maxLagMs.toFixed(1)} ms (shared machine), heap +${growthMiB.toFixed(1)} MiB`,
    );
    expect(found?.id).toBe('sil_031000');
    // All 50,000 held at once would be about 50 MiB (1 KiB of reason each).
    expect(growthMiB).toBeLessThan(25);
    // A page is checked in a few ms (the odd one meets a garbage collection or a busy machine);
    // the whole list at once would hold the loop for the whole scan.
    expect(p95).toBeLessThan(25);
  });

  it('from the store: pages of at most pageSize, expired ones left out, the same answer as the whole list', async () => {
    opened = await startEmbeddedStore('silences');
    const { store } = opened;
    const incident = spotLossIncident('inc_s');
    const covering = incident.rootCause?.entity ?? incident.entities[0]!;
    for (let n = 0; n < 240; n++) {
      const over: Partial<Silence> =
        n === 17
          ? { entity: covering, expiresAt: NOW - 1 }
          : n === 150 || n === 230
            ? { entity: covering }
            : {};
      await store.createSilence(silence(n, over));
    }
    const sizes: number[] = [];
    for await (const page of store.silencePages(NOW, 100)) sizes.push(page.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(239);
    const whole = findSilence(await store.listSilences(NOW), incident, NOW);
    expect(whole?.id).toBe('sil_000150');
    expect((await findActiveSilence(store.silencePages(NOW, 100), incident, NOW))?.id).toBe(whole?.id);
    expect((await coveringSilences(store.silencePages(NOW, 100), incident, NOW, 5)).map((s) => s.id)).toEqual(
      ['sil_000150', 'sil_000230'],
    );
  });
});

describe('timelines read newest first when only the newest are wanted', () => {
  it('the newest n events, oldest first, whatever the timeline holds', async () => {
    opened = await startEmbeddedStore('timeline');
    const { store } = opened;
    const events: RecordedEvent[] = Array.from({ length: 300 }, (_, i) => ({
      id: `evt_${i}`,
      at: NOW + i,
      type: 'signal_firing',
      text: `event ${i}`,
    }));
    await store.appendTimeline('inc_t', events);
    const newest = await store.timeline('inc_t', { newest: 120 });
    expect(newest).toHaveLength(120);
    expect(newest[0]?.id).toBe('evt_180');
    expect(newest.at(-1)?.id).toBe('evt_299');
    expect((await store.timeline('inc_t', { newest: 8 })).map((e) => e.id)).toEqual(
      events.slice(-8).map((e) => e.id),
    );
    expect(await store.timeline('inc_t')).toHaveLength(300);
  });
});

describe('notes: what people did and what the thread was told, apart from the signals', () => {
  const person = { id: 'U0OPS1', name: 'ops', via: 'slack' } as const;
  const events: RecordedEvent[] = [
    { id: 'evt_fire', at: NOW, type: 'signal_firing', text: 'fired' },
    { id: 'evt_ack', at: NOW + 1, type: 'acknowledged', text: 'ack', actor: person },
    { id: 'evt_clear', at: NOW + 2, type: 'signal_resolved', text: 'cleared' },
    { id: 'evt_chart', at: NOW + 3, type: 'notified', text: 'chart shared', fingerprint: 'fp_1' },
  ];

  it('an incident created since keeps its notes apart from the first event on', async () => {
    opened = await startEmbeddedStore('notes');
    const { store } = opened;
    await store.create(spotLossIncident('inc_n'));
    await store.appendTimeline('inc_n', events);
    // Appending again (a retried job) doubles nothing.
    await store.appendTimeline('inc_n', events.slice(1, 2));
    expect((await store.notes('inc_n')).map((e) => e.id)).toEqual(['evt_ack', 'evt_chart']);
    expect((await store.notes('inc_n'))[0]).toEqual(events[1]);
    expect(await store.timeline('inc_n')).toEqual(events);
  });

  it('a timeline begun before notes were kept apart is copied into them on the first read', async () => {
    opened = await startEmbeddedStore('notes');
    const { store, endpoint, table } = opened;
    // Written as the store wrote events before: no notes, no mark that they are kept.
    const raw = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    for (const e of events) {
      await raw.send(
        new PutCommand({
          TableName: table,
          Item: {
            PK: 'INCIDENT#inc_old',
            SK: `EVT#${String(e.at).padStart(13, '0')}#${e.id}`,
            id: e.id,
            at: e.at,
            eventType: e.type,
            text: e.text,
            ...(e.fingerprint ? { fingerprint: e.fingerprint } : {}),
            ...(e.actor ? { actor: e.actor } : {}),
          },
        }),
      );
    }
    raw.destroy();
    expect((await store.notes('inc_old')).map((e) => e.id)).toEqual(['evt_ack', 'evt_chart']);
    await store.appendTimeline('inc_old', [
      { id: 'evt_resolve', at: NOW + 9, type: 'resolved', text: 'resolved', actor: person },
    ]);
    expect((await store.notes('inc_old')).map((e) => e.id)).toEqual(['evt_ack', 'evt_chart', 'evt_resolve']);
  });
});
