import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardianProcess, startGuardianProcess } from '../support/guardian-process.ts';
import { type GaugePoint, gaugeRequest, pushJson } from '../support/otlp-json.ts';

/**
 * `GUARDIAN_ABUSE_SCALE=10` pushes ten million series instead of one (a local run, minutes).
 */
const SCALE = Number(process.env.GUARDIAN_ABUSE_SCALE ?? 1);
const FLOOD_SERIES = 1_000_000 * SCALE;
const PER_REQUEST = 10_000;
/** Distinct `service.name` values of the flood: each stays under its own budget, the total does not. */
const FLOOD_SOURCES = 1000;
/**
 * The budgets this suite holds Guardian to. Peak RSS over the whole run (the process with its
 * embedded store starts at about 210 MiB; one million series peaked at 650-830 MiB here, most of
 * it garbage of the requests that V8 keeps reserved, more on a loaded machine), and the heap still in use after a full
 * garbage collection: the state that stays (10,000 admitted series, their models, the OTLP
 * normaliser's series cache), 136-144 MiB whether 200,000 or 1,000,000 series were pushed.
 */
const RSS_BUDGET = 1024 * 1024 * 1024;
const HEAP_BUDGET = 200 * 1024 * 1024;
const ESTABLISHED = 50;
const T0 = Date.parse('2026-03-02T00:00:00Z');

/**
 * A flood of distinct series through the real OTLP receiver into a Guardian in its own process:
 * memory stays bounded, established series keep their anomaly models (none is evicted for a
 * newcomer), and the refusals are reported.
 */
describe('a flood of distinct series', () => {
  let guardian: GuardianProcess;
  const established = Array.from(
    { length: ESTABLISHED },
    (_, i) => `metric:etl.rows{service.name="etl",table="t${i}"}`,
  );

  beforeAll(async () => {
    guardian = await startGuardianProcess({
      logLevel: 'warn',
      detection: { tick: 200, stateInterval: 0 },
    });
  });

  afterAll(async () => {
    await guardian?.stop();
  });

  it(`keeps peak RSS under ${RSS_BUDGET / 2 ** 20} MiB, the heap under ${HEAP_BUDGET / 2 ** 20} MiB and every established model through ${FLOOD_SERIES} new series`, async () => {
    // Established series: a day of points every 15 minutes each.
    for (let step = 0; step < 96; step += 24) {
      const points: GaugePoint[] = [];
      for (let k = step; k < step + 24; k++)
        for (let i = 0; i < ESTABLISHED; i++)
          points.push({
            name: 'etl.rows',
            attributes: { table: `t${i}` },
            timeMs: T0 + k * 900_000,
            value: 100 + (k % 7) + i,
          });
      expect(
        await pushJson(guardian.url, gaugeRequest([{ resource: { 'service.name': 'etl' }, points }])),
      ).toBe(200);
    }
    const before = await guardian.stats(established);
    expect(Object.keys(before.models)).toHaveLength(ESTABLISHED);

    const started = performance.now();
    const floodTime = T0 + 96 * 900_000;
    for (let sent = 0; sent < FLOOD_SERIES; sent += PER_REQUEST) {
      const bySource = new Map<string, GaugePoint[]>();
      for (let n = sent; n < sent + PER_REQUEST; n++) {
        const source = `flood-${n % FLOOD_SOURCES}`;
        const list = bySource.get(source) ?? [];
        list.push({ name: 'flood.gauge', attributes: { id: String(n) }, timeMs: floodTime, value: n });
        bySource.set(source, list);
      }
      const body = gaugeRequest(
        [...bySource].map(([s, points]) => ({ resource: { 'service.name': s }, points })),
      );
      expect(await pushJson(guardian.url, body)).toBe(200);
    }
    const seconds = (performance.now() - started) / 1000;

    const after = await guardian.stats(established);
    console.log(
      `series flood: ${FLOOD_SERIES} series in ${seconds.toFixed(1)} s; RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB (peak ${(after.maxRss / 2 ** 20).toFixed(0)} MiB, before the flood ${(before.rss / 2 ** 20).toFixed(0)} MiB); heap used ${(after.heapUsed / 2 ** 20).toFixed(0)} MiB (before ${(before.heapUsed / 2 ** 20).toFixed(0)} MiB); anomaly series ${after.sizes['metric-anomaly']}`,
    );
    expect(after.maxRss).toBeLessThan(RSS_BUDGET);
    expect(after.heapUsed).toBeLessThan(HEAP_BUDGET);
    // Not one established model was evicted or touched by the flood.
    expect(after.models).toEqual(before.models);
    // Detection state is held to the budget.
    expect(after.sizes['metric-anomaly']).toBeLessThanOrEqual(10_000);
    // The refusals are reported (rate-limited: the first tick logs them).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refusals = guardian
      .logs()
      .split('\n')
      .filter((l) => l.includes('over budget'));
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThanOrEqual(1 + Math.ceil(seconds / 60));
    expect(JSON.parse(refusals[0]!).refusedPoints).toBeGreaterThan(0);
  }, 300_000);
});
