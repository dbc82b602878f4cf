import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { entityKey, type MetricObservation } from '../src/core/index.ts';
import { createFileStateStore, createRedisStateStore } from '../src/detection/state-store.ts';
import { createGuardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startRedis } from './support/redis.ts';

const MINUTE = 60_000;
const START = Date.parse('2026-03-02T00:00:00Z');

function point(i: number, host: string): MetricObservation {
  const attributes = { 'host.name': host };
  return {
    type: 'metric',
    series: entityKey.metricSeries('spark.stage.duration', attributes),
    name: 'spark.stage.duration',
    attributes,
    time: START + i * MINUTE,
    value: 200 + (i % 7),
    metricType: 'gauge',
    unit: 'ms',
  };
}

describe('detector state store', () => {
  let dir: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'guardian-state-'));
    redis = await startRedis();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis?.stop();
  });

  it('keeps the last save in a file, and says nothing was saved when there is no file', async () => {
    const store = createFileStateStore(path.join(dir, 'nested', 'state.json.gz'));
    expect(await store.load()).toBeUndefined();
    await store.save({ a: { n: 1 } });
    await store.save({ a: { n: 2 }, b: [1, 2] });
    expect(await store.load()).toEqual({ a: { n: 2 }, b: [1, 2] });
  });

  it('rejects a file it cannot read rather than restoring garbage', async () => {
    const file = path.join(dir, 'garbage.json.gz');
    writeFileSync(file, 'not gzip');
    await expect(createFileStateStore(file).load()).rejects.toThrow();
  });

  it('shares one Redis key between replicas: the last save wins', async () => {
    const key = `test:state:${Date.now()}`;
    const one = createRedisStateStore({ redisUrl: redis.url, key, logger: silentLogger() });
    const two = createRedisStateStore({ redisUrl: redis.url, key, logger: silentLogger() });
    try {
      expect(await two.load()).toBeUndefined();
      await one.save({ 'metric-anomaly': { from: 'one' } });
      await two.save({ 'metric-anomaly': { from: 'two' } });
      expect(await one.load()).toEqual({ 'metric-anomaly': { from: 'two' } });
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('Guardian restarts with what its detectors learnt', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function run(dataDir: string, stateInterval: string | number, feed: boolean, log: string[] = []) {
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      detection: { stateInterval },
    });
    const logger = pino({ level: 'info' }, { write: (line: string) => log.push(line) });
    const guardian = await createGuardian(config, { logger });
    try {
      const before = guardian.engine.sizes()['metric-anomaly'];
      if (feed) for (let i = 0; i < 150; i++) guardian.engine.ingest([point(i, 'a'), point(i, 'b')]);
      return { before, after: guardian.engine.sizes()['metric-anomaly'] };
    } finally {
      await guardian.stop();
    }
  }

  it('saves on shutdown and restores on start, from its data directory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-restart-'));
    dirs.push(dataDir);
    expect(await run(dataDir, '1h', true)).toEqual({ before: 0, after: 2 });
    const log: string[] = [];
    expect(await run(dataDir, '1h', false, log)).toEqual({ before: 2, after: 2 });
    expect(
      log.map((line) => JSON.parse(line)).find((l) => l.msg === 'detector state restored'),
    ).toMatchObject({
      restored: { 'metric-anomaly': 2 },
    });
  });

  it('starts afresh when saving is turned off', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-restart-'));
    dirs.push(dataDir);
    expect(await run(dataDir, 0, true)).toEqual({ before: 0, after: 2 });
    expect(await run(dataDir, 0, false)).toEqual({ before: 0, after: 0 });
  });

  it('starts afresh, and says why, when the saved state is damaged', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-restart-'));
    dirs.push(dataDir);
    writeFileSync(path.join(dataDir, 'detector-state.json.gz'), 'damaged');
    const log: string[] = [];
    expect(await run(dataDir, '1h', false, log)).toEqual({ before: 0, after: 0 });
    const warning = log.map((line) => JSON.parse(line)).find((l) => /could not be read/.test(l.msg));
    expect(warning).toMatchObject({ from: path.join(dataDir, 'detector-state.json.gz') });
    expect(warning.error).toMatch(/header|gzip|zlib/i);
  });
});
