import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createLokiSource } from '../src/sources/loki/source.ts';
import { type LokiStream, startLokiStandIn } from '../src/stand-ins/loki.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const t0 = Date.parse('2026-03-02T02:00:00Z');
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

/** The Loki source against the Loki stand-in, which answers as Loki's HTTP API does. */
describe('Loki source', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function setUp(
    streams: LokiStream[],
    over: { pageLimit?: number; maxEntriesPerPoll?: number; tenant?: string | null; query?: string } = {},
  ) {
    const clock = new ManualClock(t0);
    const loki = await startLokiStandIn({ streams, clock });
    close = loki.close;
    const source = createLokiSource({
      baseUrl: loki.url,
      queries: [over.query ?? '{service_name=~"spark.*"} |~ "(?i)error"'],
      ...(over.tenant === null ? {} : { tenant: over.tenant ?? 'platform' }),
      auth: { bearer: 'loki-token' },
      clock,
      logger: silentLogger(),
      ...(over.pageLimit ? { pageLimit: over.pageLimit } : {}),
      ...(over.maxEntriesPerPoll ? { maxEntriesPerPoll: over.maxEntriesPerPoll } : {}),
    });
    return { clock, loki, source };
  }

  const worker = { service_name: 'spark-worker', host: '10.0.3.17' };

  it('reports matching lines once, across overlapping polls, and picks up lines ingested late', async () => {
    const entries: [bigint, string][] = [
      [ns(t0 - 60_000), 'ERROR Executor lost'],
      [ns(t0 - 30_000), 'INFO all good'],
    ];
    const { clock, source } = await setUp([
      { labels: worker, entries },
      { labels: { service_name: 'airflow' }, entries: [[ns(t0 - 1), 'ERROR not spark']] },
    ]);
    const first = await source.poll();
    expect(first.map((o) => o.type === 'log' && [o.stream, o.line, o.time])).toEqual([
      ['log:{host="10.0.3.17",service_name="spark-worker"}', 'ERROR Executor lost', t0 - 60_000],
    ]);
    // A line stamped before the last poll but ingested after it, within the overlap.
    entries.push([ns(t0 - 10_000), 'error: FetchFailed']);
    // Distinct lines at the same instant are distinct entries: both are kept.
    entries.push(
      [ns(t0 + 5_000), 'ERROR spot interruption notice'],
      [ns(t0 + 5_000), 'ERROR spot interruption notice (2)'],
    );
    await clock.advanceBy(30_000);
    const second = await source.poll();
    expect(second.map((o) => o.type === 'log' && o.line)).toEqual([
      'error: FetchFailed',
      'ERROR spot interruption notice',
      'ERROR spot interruption notice (2)',
    ]);
    await clock.advanceBy(30_000);
    expect(await source.poll()).toEqual([]);
  });

  it('pages past the entry limit without losing or repeating lines', async () => {
    const entries: [bigint, string][] = Array.from({ length: 11 }, (_, i) => [
      ns(t0 - 100_000 + Math.floor(i / 2) * 1000),
      `ERROR line ${i}`,
    ]);
    const { source, loki } = await setUp([{ labels: worker, entries }], { pageLimit: 3 });
    const lines = (await source.poll()).map((o) => (o.type === 'log' ? o.line : ''));
    expect(lines.sort()).toEqual(entries.map(([, l]) => l).sort());
    expect(loki.requests.length).toBeGreaterThan(3);
  });

  it('takes a burst denser than a poll per overlap in steps, every line once', async () => {
    // 3,000 lines in the last 5 minutes: the 60 s overlap alone holds 600, more than one poll takes.
    const entries: [bigint, string][] = Array.from({ length: 3000 }, (_, i) => [
      ns(t0 - 300_000 + i * 100),
      `ERROR burst line ${i}`,
    ]);
    const { clock, source } = await setUp([{ labels: worker, entries }], {
      pageLimit: 100,
      maxEntriesPerPoll: 400,
    });
    const lines: string[] = [];
    for (let poll = 0; poll < 12; poll++) {
      for (const o of await source.poll()) if (o.type === 'log') lines.push(o.line);
      await clock.advanceBy(1000);
    }
    expect(lines).toHaveLength(3000);
    expect(new Set(lines).size).toBe(3000);
  });

  it('matches labels by RE2 regex as Loki does: anchored, (?i) case-insensitive', async () => {
    const { source } = await setUp(
      [
        { labels: { service_name: 'Spark-Driver' }, entries: [[ns(t0 - 2_000), 'ERROR driver']] },
        { labels: { service_name: 'pyspark-app' }, entries: [[ns(t0 - 1_000), 'ERROR not anchored']] },
      ],
      { query: '{service_name=~"(?i)spark.*"} |= "ERROR"' },
    );
    expect((await source.poll()).map((o) => o.type === 'log' && o.line)).toEqual(['ERROR driver']);
  });

  it('never sees the future', async () => {
    const { source } = await setUp([{ labels: worker, entries: [[ns(t0 + 60_000), 'ERROR tomorrow']] }]);
    expect(await source.poll()).toEqual([]);
  });

  it('passes on Loki’s text errors: no tenant, bad LogQL, limit too high', async () => {
    let s = await setUp([], { tenant: null });
    await expect(s.source.poll()).rejects.toThrow(/HTTP 401: no org id/);
    await close?.();
    s = await setUp([], { query: 'service_name="x"' });
    await expect(s.source.poll()).rejects.toThrow(/HTTP 400: parse error/);
    await close?.();
    s = await setUp([], { query: '{service_name=~"spark["}' });
    await expect(s.source.poll()).rejects.toThrow(/HTTP 400: parse error : error parsing regexp/);
    await close?.();
    s = await setUp([], { pageLimit: 10_000 });
    await expect(s.source.poll()).rejects.toThrow(
      /max entries limit per query exceeded, limit > max_entries_limit_per_query \(10000 > 5000\)/,
    );
  });

  it('fails cleanly when Loki is unreachable', async () => {
    const source = createLokiSource({
      baseUrl: 'http://127.0.0.1:9',
      queries: ['{a="b"}'],
      clock: new ManualClock(t0),
      logger: silentLogger(),
      timeoutMs: 1000,
    });
    await expect(source.poll()).rejects.toThrow(/loki: query_range: cannot connect/);
  });
});

describe('Loki stand-in', () => {
  it('answers with Loki’s defaults: backward, limit 100, the last hour, RFC 3339 and float-second times', async () => {
    const clock = new ManualClock(t0);
    const entries: [bigint, string][] = Array.from({ length: 150 }, (_, i) => [
      ns(t0 - 150_000 + i * 1000),
      `line ${i}`,
    ]);
    const loki = await startLokiStandIn({
      streams: [{ labels: { app: 'x' }, entries }],
      clock,
      requireTenant: false,
    });
    try {
      const get = async (q: string) =>
        (await fetch(`${loki.url}/loki/api/v1/query_range?${q}`)).json() as Promise<{
          data: { result: { values: [string, string][] }[] };
        }>;
      const d = await get(`query=${encodeURIComponent('{app="x"}')}`);
      const values = d.data.result[0]!.values;
      expect(values).toHaveLength(100);
      expect(values[0]![1]).toBe('line 149');
      const r = await get(
        `query=${encodeURIComponent('{app="x"} |= "line 1"')}&start=${encodeURIComponent(new Date(t0 - 150_000).toISOString())}&end=${(t0 - 140_000) / 1000}.0&direction=forward`,
      );
      expect(r.data.result[0]!.values.map((v) => v[1])).toEqual(['line 1']);
      const labels = (await (await fetch(`${loki.url}/loki/api/v1/label/app/values`)).json()) as {
        data: string[];
      };
      expect(labels.data).toEqual(['x']);
    } finally {
      await loki.close();
    }
  });
});

describe('Loki source, budgeted queries', () => {
  it('reads at most its budget a poll, skips the rest up to now and counts the log time skipped', async () => {
    const clock = new ManualClock(t0);
    // 1,000 info lines in the 5 minutes before now and one error line among them.
    const info: [bigint, string][] = Array.from({ length: 1000 }, (_, i) => [
      ns(t0 - 300_000 + i * 300),
      `INFO heartbeat ${i}`,
    ]);
    const loki = await startLokiStandIn({
      streams: [
        { labels: { service_name: 'svc', level: 'info' }, entries: info },
        { labels: { service_name: 'svc', level: 'error' }, entries: [[ns(t0 - 100_000), 'ERROR disk full']] },
      ],
      clock,
      requireTenant: false,
    });
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      const source = createLokiSource({
        baseUrl: loki.url,
        queries: ['{service_name=~".+"} |~ "(?i)error"'],
        budgetQueries: ['{service_name=~".+"} !~ "(?i)error"'],
        linesPerPoll: 100,
        pageLimit: 40,
        clock,
        logger: silentLogger(),
        meter: provider.getMeter('guardian'),
      });
      const first = (await source.poll()).map((o) => (o.type === 'log' ? o.line : ''));
      // The error query is read in full; the budgeted one stops at its budget, earliest first.
      expect(first.filter((l) => l.startsWith('ERROR'))).toEqual(['ERROR disk full']);
      // (A page goes on from the last one's final instant, read twice: the budget counts entries
      // fetched, so a few fewer distinct lines than the budget.)
      const read = first.filter((l) => l.startsWith('INFO'));
      expect(read.length).toBeGreaterThan(95);
      expect(read.length).toBeLessThanOrEqual(100);
      expect(read).toEqual(info.slice(0, read.length).map(([, l]) => l));
      // What it skipped is counted: from the last line read to now, in seconds of log time.
      const { resourceMetrics } = await reader.collect();
      const skipped = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'guardian.loki.skipped');
      expect(skipped?.dataPoints[0]?.value).toBeCloseTo((300_000 - (read.length - 1) * 300) / 1000, 0);
      // The next poll goes on from the previous poll's now: the skipped lines are never read.
      info.push([ns(t0 + 10_000), 'INFO after the poll']);
      await clock.advanceBy(30_000);
      const second = (await source.poll()).map((o) => (o.type === 'log' ? o.line : ''));
      expect(second).toEqual(['INFO after the poll']);
    } finally {
      await provider.shutdown();
      await loki.close();
    }
  });
});
