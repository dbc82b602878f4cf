import { describe, expect, it } from 'vitest';
import { noise } from '../bench/support/noise.ts';
import { entityKey, type MetricObservation, type Signal, stableId } from '../src/core/index.ts';
import type { DetectorContext } from '../src/detection/engine.ts';
import { createMetricAnomalyDetector, type MetricAnomalyOptions } from './metric-anomaly.ts';

const MINUTE = 60_000;
const START = Date.parse('2026-03-02T00:00:00Z');
const HOST = { 'host.name': 'spark-worker-3' };

function gauge(
  name: string,
  time: number,
  value: number,
  attributes: Readonly<Record<string, string>> = HOST,
): MetricObservation {
  return {
    type: 'metric',
    series: entityKey.metricSeries(name, attributes),
    name,
    attributes,
    time,
    value,
    metricType: 'gauge',
    unit: 'ms',
  };
}

/** Drives a detector directly, with a hand-set clock. */
function drive(options: MetricAnomalyOptions = {}) {
  const detector = createMetricAnomalyDetector(options);
  const signals: Signal[] = [];
  let now = START;
  const ctx: DetectorContext = { now: () => now, emit: (s) => signals.push(s) };
  return {
    detector,
    signals,
    observe(obs: MetricObservation) {
      now = Math.max(now, obs.time);
      detector.observe(obs, ctx);
    },
    tickAt(time: number) {
      now = time;
      detector.tick?.(ctx);
    },
  };
}

const of = (signals: readonly Signal[], kind: string, status?: Signal['status']) =>
  signals.filter((s) => s.kind === kind && (!status || s.status === status));

describe('metric-anomaly', () => {
  it('fires once on a spike with the expected range and the recent points, and resolves after calm points', () => {
    const d = drive();
    const e = noise(1);
    const name = 'spark.stage.duration';
    for (let i = 0; i < 2000; i++) d.observe(gauge(name, START + i * MINUTE, 200 + 5 * e()));
    expect(d.signals).toEqual([]);
    d.observe(gauge(name, START + 2000 * MINUTE, 400));
    const [firing] = of(d.signals, 'metric.anomaly', 'firing');
    const series = entityKey.metricSeries(name, HOST);
    expect(firing).toMatchObject({
      kind: 'metric.anomaly',
      status: 'firing',
      entity: series,
      related: ['host:spark-worker-3'],
      time: START + 2000 * MINUTE,
      detector: 'metric-anomaly',
      fingerprint: stableId('anom_', series, ''),
    });
    expect(firing!.title).toContain('spike');
    const value = (label: string) =>
      firing!.evidence.find((x) => x.kind === 'value' && x.label === label) as { value: number } | undefined;
    expect(value('observed')?.value).toBe(400);
    expect(value('expected')!.value).toBeGreaterThan(190);
    expect(value('expected')!.value).toBeLessThan(210);
    expect(value('expected low')!.value).toBeLessThan(200);
    expect(value('expected high')!.value).toBeGreaterThan(200);
    expect(value('expected high')!.value).toBeLessThan(400);
    const recent = firing!.evidence.find((x) => x.kind === 'text' && x.label === 'recent points') as {
      text: string;
    };
    const chart = JSON.parse(recent.text) as { t: number[]; v: number[] };
    expect(chart.t).toHaveLength(32);
    expect(chart.v).toHaveLength(32);
    expect(chart.t.at(-1)).toBe(START + 2000 * MINUTE);
    expect(chart.v.at(-1)).toBe(400);

    for (let i = 2001; i < 2005; i++) d.observe(gauge(name, START + i * MINUTE, 200 + 5 * e()));
    expect(of(d.signals, 'metric.anomaly', 'resolved')).toEqual([]); // four calm points are not enough
    for (let i = 2005; i < 2020; i++) d.observe(gauge(name, START + i * MINUTE, 200 + 5 * e()));
    const resolved = of(d.signals, 'metric.anomaly', 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.fingerprint).toBe(firing!.fingerprint);
    expect(resolved[0]!.time).toBeLessThanOrEqual(START + 2012 * MINUTE);
    expect(of(d.signals, 'metric.anomaly', 'firing')).toHaveLength(1);
  });

  it('does not flap: a rough patch of repeated spikes is one incident, resolved once after a calm run', () => {
    const d = drive({ calmPoints: 6 });
    const e = noise(2);
    const name = 'airflow.pool.queued_slots';
    for (let i = 0; i < 2000; i++) d.observe(gauge(name, START + i * MINUTE, 50 + e()));
    // A rough patch: a spike every third point for an hour.
    for (let i = 2000; i < 2060; i++)
      d.observe(gauge(name, START + i * MINUTE, 50 + e() + ((i - 2000) % 3 === 0 ? 40 : 0)));
    for (let i = 2060; i < 2100; i++) d.observe(gauge(name, START + i * MINUTE, 50 + e()));
    const anomaly = of(d.signals, 'metric.anomaly');
    expect(anomaly.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(anomaly[0]!.time).toBe(START + 2000 * MINUTE);
    expect(anomaly[1]!.time).toBeGreaterThanOrEqual(START + 2006 * MINUTE);
  });

  it('reports a series stuck at one value, where it usually changes, until it moves again', () => {
    const d = drive();
    const e = noise(4);
    const name = 'lambda.rows_ingested';
    for (let i = 0; i < 1000; i++) d.observe(gauge(name, START + i * MINUTE, Math.round(500 + 20 * e())));
    expect(d.signals).toEqual([]);
    // The exporter keeps re-sending its last value: nothing about it is out of range.
    const last = Math.round(500 + 20 * e());
    for (let i = 1000; i < 1030; i++) d.observe(gauge(name, START + i * MINUTE, last));
    const firing = of(d.signals, 'metric.anomaly', 'firing');
    expect(firing).toHaveLength(1);
    expect(firing[0]!.time).toBeLessThanOrEqual(START + 1006 * MINUTE);
    expect(firing[0]!.title).toContain(`stuck at ${last}`);
    expect(firing[0]!.title.length).toBeLessThanOrEqual(100);
    expect(firing[0]!.evidence).toContainEqual({
      kind: 'text',
      label: 'unchanged since',
      text: new Date(START + 1000 * MINUTE).toISOString(),
    });
    const pattern = firing[0]!.evidence.find((x) => x.kind === 'text' && x.label === 'pattern') as {
      text: string;
    };
    expect(pattern.text).toContain('same value');
    // Still stuck half an hour on: still one incident, not resolved.
    expect(of(d.signals, 'metric.anomaly', 'resolved')).toEqual([]);
    for (let i = 1030; i < 1045; i++) d.observe(gauge(name, START + i * MINUTE, Math.round(500 + 20 * e())));
    expect(of(d.signals, 'metric.anomaly').map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('reports a lull: a series whose noise falls far below its habit, though no value is out of range', () => {
    const d = drive();
    const e = noise(7);
    const name = 'ingest.rows';
    for (let i = 0; i < 1000; i++) d.observe(gauge(name, START + i * MINUTE, 500 + 20 * e()));
    expect(d.signals).toEqual([]);
    // The feed starts re-sending near-copies of one value.
    for (let i = 1000; i < 1060; i++) d.observe(gauge(name, START + i * MINUTE, 500 + 2 * e()));
    const firing = of(d.signals, 'metric.anomaly', 'firing');
    expect(firing).toHaveLength(1);
    expect(firing[0]!.time).toBeLessThanOrEqual(START + 1040 * MINUTE);
    expect(firing[0]!.title).toContain('far steadier than usual');
    expect(firing[0]!.evidence).toContainEqual(expect.objectContaining({ label: 'steady points' }));
    // The noise comes back: resolved, once.
    for (let i = 1060; i < 1100; i++) d.observe(gauge(name, START + i * MINUTE, 500 + 20 * e()));
    expect(of(d.signals, 'metric.anomaly').map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('does not call a series stuck for repeats that are its nature: a gauge updated every fourth scrape, small counts', () => {
    const d = drive();
    const e = noise(5);
    let held = 0;
    for (let i = 0; i < 3000; i++) {
      if (i % 4 === 0) held = 80 + 3 * e();
      d.observe(gauge('spark.executor.memory_used', START + i * MINUTE, held));
      d.observe(gauge('airflow.dag.failed_tasks', START + i * MINUTE, Math.max(0, Math.round(1 + e()))));
    }
    expect(d.signals).toEqual([]);
  });

  it('applies the first anomaly rule that matches a series: its severity, direction and stuck setting, or not watching it', () => {
    const d = drive({
      rules: [
        {
          id: 'orders-rows',
          metric: 'ingest.rows',
          match: { 'service.name': 'ingest-orders' },
          severity: 'high',
          direction: 'down',
        },
        { id: 'rows-unwatched', metric: 'ingest.rows', watch: false },
        { id: 'lag-not-stuck', metric: 'ingest.lag', stuck: false },
      ],
    });
    const e = noise(6);
    const orders = { 'service.name': 'ingest-orders' };
    const clicks = { 'service.name': 'ingest-clicks' };
    const at = (i: number) => START + i * MINUTE;
    let lag = 0;
    for (let i = 0; i < 1500; i++) {
      d.observe(gauge('ingest.rows', at(i), 1000 + 20 * e(), orders));
      d.observe(gauge('ingest.rows', at(i), 1000 + 20 * e(), clicks));
      d.observe(gauge('spark.stage.duration', at(i), 200 + 5 * e()));
      lag = Math.round(300 + 10 * e());
      d.observe(gauge('ingest.lag', at(i), lag));
    }
    expect(d.signals).toEqual([]);
    // A burst of orders is not what the rule watches for; the same burst of clicks is not
    // modelled at all; the lag freezes, which its rule says not to report.
    d.observe(gauge('ingest.rows', at(1500), 3000, orders));
    d.observe(gauge('ingest.rows', at(1500), 3000, clicks));
    for (let i = 1500; i < 1560; i++) d.observe(gauge('ingest.lag', at(i), lag));
    for (let i = 1501; i < 1560; i++) d.observe(gauge('ingest.rows', at(i), 1000 + 20 * e(), orders));
    expect(d.signals).toEqual([]);
    // A drop of orders pages, named by its rule; an unruled series keeps the default severity.
    d.observe(gauge('ingest.rows', at(1560), 100, orders));
    d.observe(gauge('spark.stage.duration', at(1560), 400));
    const firing = of(d.signals, 'metric.anomaly', 'firing');
    expect(firing.map((s) => [s.entity, s.severity])).toEqual([
      [entityKey.metricSeries('ingest.rows', orders), 'high'],
      [entityKey.metricSeries('spark.stage.duration', HOST), 'low'],
    ]);
    expect(firing[0]!.title).toContain('dip');
    expect(firing[0]!.evidence).toContainEqual({ kind: 'text', label: 'anomaly rule', text: 'orders-rows' });
    expect(firing[1]!.evidence.some((x) => x.label === 'anomaly rule')).toBe(false);
    const saved = d.detector.snapshot?.() as { series: { series: string }[] };
    expect(saved.series.map((x) => x.series).sort()).toEqual(
      [
        entityKey.metricSeries('ingest.lag', HOST),
        entityKey.metricSeries('ingest.rows', orders),
        entityKey.metricSeries('spark.stage.duration', HOST),
      ].sort(),
    );
  });

  it('judges a cumulative counter by its rate, across resets', () => {
    const d = drive();
    const e = noise(3);
    const name = 'spark.executor.failed_tasks';
    const series = entityKey.metricSeries(name, HOST);
    let total = 0;
    let start = START;
    for (let i = 0; i < 2600; i++) {
      const time = START + i * MINUTE;
      if (i === 900 || i === 1700) {
        total = 0; // process restart: the counter starts again
        start = time - 1000;
      }
      const rate = i >= 2500 ? 40 : 10; // per second
      total += Math.max(0, (rate + e()) * 60);
      d.observe({
        type: 'metric',
        series,
        name,
        attributes: HOST,
        time,
        value: total,
        metricType: 'sum',
        unit: '1',
        temporality: 'cumulative',
        monotonic: true,
        startTime: start,
      });
      if (i === 2499) expect(d.signals).toEqual([]); // resets are not anomalies
    }
    const [firing] = of(d.signals, 'metric.anomaly', 'firing');
    expect(firing!.time).toBe(START + 2500 * MINUTE);
    expect(firing!.title).toContain('rate of spark.executor.failed_tasks');
    const observed = firing!.evidence.find((x) => x.kind === 'value' && x.label === 'observed') as {
      value: number;
    };
    expect(observed.value).toBeGreaterThan(35);
    expect(observed.value).toBeLessThan(45);
  });

  it("watches a histogram's p95 as its own series", () => {
    const d = drive();
    const e = noise(4);
    const name = 'http.server.duration';
    const series = entityKey.metricSeries(name, HOST);
    const bounds = [50, 100, 200, 400, 800, 1600];
    for (let i = 0; i < 2100; i++) {
      const slow = i >= 2000 ? 60 : 0; // a regression: many requests now take 800–1600 ms
      const counts = [
        400 + Math.round(10 * e()),
        300 + Math.round(10 * e()),
        200,
        80 + Math.round(5 * e()),
        20,
        slow,
        0,
      ];
      d.observe({
        type: 'metric',
        series,
        name,
        attributes: HOST,
        time: START + i * MINUTE,
        value: 0,
        metricType: 'histogram',
        unit: 'ms',
        temporality: 'delta',
        histogram: { count: counts.reduce((x, y) => x + y, 0), explicitBounds: bounds, bucketCounts: counts },
      });
    }
    const [firing] = of(d.signals, 'metric.anomaly', 'firing');
    expect(firing!.time).toBe(START + 2000 * MINUTE);
    expect(firing!.title).toContain('p95 of http.server.duration');
    expect(firing!.fingerprint).toBe(stableId('anom_', series, 'p95'));
  });

  it('reports a series that stops reporting, and its return', () => {
    const d = drive({ minSilenceMs: 60_000, silentIntervals: 5 });
    const name = 'iceberg.commit.lag';
    const last = START + 29 * MINUTE;
    for (let i = 0; i < 30; i++) d.observe(gauge(name, START + i * MINUTE, 3 + (i % 2)));
    d.tickAt(last + 4 * MINUTE);
    expect(d.signals).toEqual([]);
    d.tickAt(last + 6 * MINUTE);
    d.tickAt(last + 7 * MINUTE);
    const silent = of(d.signals, 'metric.silent');
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatchObject({
      status: 'firing',
      entity: entityKey.metricSeries(name, HOST),
      time: last + 5 * MINUTE,
      fingerprint: stableId('silent_', entityKey.metricSeries(name, HOST)),
    });
    // it began with the first point that did not come, not when it was judged
    expect(silent[0]!.evidence).toContainEqual({
      kind: 'text',
      label: 'departed at',
      text: new Date(last + MINUTE).toISOString(),
    });
    d.observe(gauge(name, last + 20 * MINUTE, 3));
    expect(of(d.signals, 'metric.silent').map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('does not call an irregular series silent', () => {
    const d = drive();
    const gaps = [1, 9, 2, 14, 1, 1, 20, 3, 1, 11, 2, 7, 1, 16];
    let time = START;
    for (const g of gaps) {
      time += g * MINUTE;
      d.observe(gauge('airflow.dag.import_errors', time, 0));
    }
    d.tickAt(time + 60 * MINUTE);
    expect(d.signals).toEqual([]);
  });

  it('bounds its state: past maxSeries the least recently seen series is forgotten, its incident resolved', () => {
    const d = drive({ maxSeries: 3 });
    const e = noise(5);
    for (let i = 0; i < 1500; i++)
      d.observe(gauge('queue.depth', START + i * MINUTE, 10 + e(), { 'host.name': 'a' }));
    d.observe(gauge('queue.depth', START + 1500 * MINUTE, 90, { 'host.name': 'a' }));
    expect(of(d.signals, 'metric.anomaly', 'firing')).toHaveLength(1);
    for (const host of ['b', 'c', 'd'])
      d.observe(gauge('queue.depth', START + 1501 * MINUTE, 10, { 'host.name': host }));
    expect(d.detector.size?.()).toBe(3);
    const resolved = of(d.signals, 'metric.anomaly', 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.entity).toBe(entityKey.metricSeries('queue.depth', { 'host.name': 'a' }));
    expect(resolved[0]!.title).toContain('no longer tracked');
  });

  it('ignores what it cannot use', () => {
    const d = drive();
    d.observe(gauge('x', START, Number.NaN));
    d.observe({ ...gauge('h', START, 0), metricType: 'histogram', histogram: undefined });
    d.detector.observe(
      { type: 'log', stream: 'log:{}', labels: {}, time: START, line: 'hello' },
      { now: () => START, emit: () => {} },
    );
    expect(d.signals).toEqual([]);
  });

  it('carries what it learnt over a restart: the restored detector goes on as the original would', () => {
    const e = noise(7);
    const counterSeries = entityKey.metricSeries('lambda.rows_ingested', HOST);
    let total = 0;
    const points = (i: number): MetricObservation[] => {
      total += 60 * (50 + 10 * Math.sin((2 * Math.PI * i) / 1440) + e());
      return [
        gauge('spark.stage.duration', START + i * MINUTE, i === 1700 ? 500 : 200 + 5 * e()),
        {
          type: 'metric',
          series: counterSeries,
          name: 'lambda.rows_ingested',
          attributes: HOST,
          time: START + i * MINUTE,
          value: total,
          metricType: 'sum',
          unit: '1',
          temporality: 'cumulative',
          monotonic: true,
          startTime: START,
        },
      ];
    };
    const original = drive();
    const upToRestart: MetricObservation[][] = [];
    for (let i = 0; i < 1702; i++) upToRestart.push(points(i));
    for (const batch of upToRestart) for (const obs of batch) original.observe(obs);
    // The spike at 1700 is firing when the process stops.
    expect(of(original.signals, 'metric.anomaly', 'firing')).toHaveLength(1);
    const saved = JSON.parse(JSON.stringify(original.detector.snapshot?.()));

    const restarted = drive();
    expect(restarted.detector.restore?.(saved)).toBe(2);
    expect(restarted.detector.size?.()).toBe(2);
    const after: MetricObservation[][] = [];
    for (let i = 1702; i < 1900; i++) after.push(points(i));
    // The counter's rate goes on from the saved baseline, and a rise to four times its rate is
    // news at once: no warm-up after the restart.
    total += 60 * 150 * 30;
    after.push(points(1900));
    const before = original.signals.length;
    for (const batch of after)
      for (const obs of batch) {
        original.observe(obs);
        restarted.observe(obs);
      }
    const continued = original.signals.slice(before);
    expect(restarted.signals).toEqual(continued);
    // The spike that was firing resolves, and the jump of the counter fires, in both.
    expect(of(continued, 'metric.anomaly', 'resolved').map((s) => s.entity)).toContain(
      entityKey.metricSeries('spark.stage.duration', HOST),
    );
    expect(of(continued, 'metric.anomaly', 'firing').map((s) => s.entity)).toEqual([counterSeries]);
  });

  it('drops a saved state it cannot use, and takes no more series than it may hold', () => {
    const d = drive({ maxSeries: 2 });
    const e = noise(8);
    for (let i = 0; i < 200; i++)
      for (const host of ['a', 'b', 'c'])
        d.observe(gauge('queue.depth', START + i * MINUTE, 10 + e(), { 'host.name': host }));
    const saved = JSON.parse(JSON.stringify(d.detector.snapshot?.()));
    expect(drive().detector.restore?.({ ...saved, format: 0 })).toBe(0);
    expect(drive().detector.restore?.({ ...saved, modelBytes: 1 })).toBe(0);
    expect(drive().detector.restore?.('not a snapshot')).toBe(0);
    // A series whose model is damaged is dropped; the others are restored.
    const damaged = structuredClone(saved);
    damaged.series[0].tracks[0].model = 'AAAA';
    const one = drive();
    expect(one.detector.restore?.(damaged)).toBe(1);
    const untyped = structuredClone(saved);
    untyped.series[0].related = 'host:a';
    untyped.series[1].seen = null;
    expect(drive().detector.restore?.(untyped)).toBe(0);
    // A detector that holds one series keeps the most recently seen one.
    const small = drive({ maxSeries: 1 });
    expect(small.detector.restore?.(saved)).toBe(1);
    expect(small.detector.snapshot?.()).toMatchObject({ series: [{ series: saved.series[1].series }] });
  });

  it('on its first night, says when a departure began: the first of the two points that show it, kept when it resolves', () => {
    const d = drive();
    const name = 'aws.lambda.duration';
    for (let i = 0; i < 7; i++) d.observe(gauge(name, START + i * MINUTE, 1000 + 100 * (i % 3)));
    d.observe(gauge(name, START + 7 * MINUTE, 60_000));
    expect(of(d.signals, 'metric.anomaly')).toEqual([]);
    d.observe(gauge(name, START + 8 * MINUTE, 60_000));
    const [firing] = of(d.signals, 'metric.anomaly', 'firing');
    const departed = (s: Signal | undefined) =>
      s?.evidence.find((e) => e.label === 'departed at' && e.kind === 'text');
    expect(firing?.time).toBe(START + 8 * MINUTE);
    expect(departed(firing)).toMatchObject({ text: new Date(START + 7 * MINUTE).toISOString() });
    for (let i = 9; i < 30; i++) d.observe(gauge(name, START + i * MINUTE, 1000 + 100 * (i % 3)));
    const [resolved] = of(d.signals, 'metric.anomaly', 'resolved');
    expect(resolved).toBeDefined();
    expect(departed(resolved)).toMatchObject({ text: new Date(START + 7 * MINUTE).toISOString() });
  });

  it('says which way a series departed: rows falling to nothing fell, a duration pinned at its timeout rose', () => {
    const d = drive();
    for (let i = 0; i < 9; i++) {
      const rows = i < 7 ? 2000 + 300 * (i % 3) : 0;
      const duration = i < 7 ? 1000 + 100 * (i % 3) : 60_000;
      d.observe(gauge('ingest.rows', START + i * MINUTE, rows));
      d.observe(gauge('aws.lambda.duration', START + i * MINUTE, duration));
    }
    const way = (name: string) =>
      of(d.signals, 'metric.anomaly', 'firing')
        .find((s) => s.entity.startsWith(`metric:${name}`))
        ?.evidence.find((e) => e.label === 'departure');
    expect(way('ingest.rows')).toMatchObject({ text: 'fall' });
    expect(way('aws.lambda.duration')).toMatchObject({ text: 'rise' });
  });

  it('on its first night, keeps a departure open while the series stays past the line it crossed, across a restart', () => {
    const name = 'airflow.pool.open_slots';
    const d = drive();
    for (let i = 0; i < 7; i++) d.observe(gauge(name, START + i * MINUTE, 16 - (i % 2)));
    d.observe(gauge(name, START + 7 * MINUTE, 0));
    d.observe(gauge(name, START + 8 * MINUTE, 0));
    expect(of(d.signals, 'metric.anomaly', 'firing')).toHaveLength(1);
    // Free slots stay at 0 for half an hour: the series no longer moves, yet nothing is back to normal.
    for (let i = 9; i < 40; i++) d.observe(gauge(name, START + i * MINUTE, 0));
    expect(of(d.signals, 'metric.anomaly', 'resolved')).toEqual([]);
    // A restart in the middle keeps what the signal stands for.
    const again = drive();
    expect(again.detector.restore?.(JSON.parse(JSON.stringify(d.detector.snapshot?.())))).toBe(1);
    for (let i = 40; i < 60; i++) again.observe(gauge(name, START + i * MINUTE, 0));
    expect(of(again.signals, 'metric.anomaly', 'resolved')).toEqual([]);
    // Slots free again: it resolves.
    for (let i = 60; i < 80; i++) again.observe(gauge(name, START + i * MINUTE, 16 - (i % 2)));
    expect(of(again.signals, 'metric.anomaly', 'resolved')).toHaveLength(1);
  });
});
