import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { summariseConfig } from '../src/config/summary.ts';
import { createGuardian, type Guardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

/**
 * A first run without a config file: Guardian says what it runs with, lists the series it sees
 * (`GET /api/v1/series`, a page at a time) and watches every one of them for anomalies.
 */
describe('a first run without a config file', () => {
  let guardian: Guardian;
  let url: string;
  let dataDir: string;
  const now = Date.now();

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-series-'));
    const config = loadConfig({ env: {}, overrides: { port: 0, host: '127.0.0.1', dataDir } });
    guardian = await createGuardian(config, { logger: silentLogger() });
    url = await guardian.listen();
  });

  afterAll(async () => {
    await guardian?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const push = async (host: string, value: number, time: number) => {
    const body = {
      resourceMetrics: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'spark-worker' } },
              { key: 'host.name', value: { stringValue: host } },
              { key: 'service.instance.id', value: { stringValue: `${host}-${time}` } },
            ],
          },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'system.cpu.utilization',
                  unit: '1',
                  gauge: { dataPoints: [{ timeUnixNano: `${time}000000`, asDouble: value }] },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  it('says which config it loaded and what is active', () => {
    const summary = summariseConfig(loadConfig({ env: {} }), undefined);
    expect(summary).toMatchObject({ file: null, thresholdRules: 0, anomalyRules: 0, sources: ['otlp'] });
    expect(summary.message).toBe(
      'no config file (defaults and environment): 0 threshold rules, 0 staleness rules, 0 anomaly rules; anomaly detection watches every metric series; sources: otlp; messages to the log and GET /api/v1/messages',
    );
  });

  it('lists every series it watches with its last value and time, a page at a time', async () => {
    for (const host of ['10.0.0.3', '10.0.0.1', '10.0.0.2']) {
      await push(host, 0.25, now - 15_000);
      await push(host, 0.5, now);
    }
    await guardian.idle();
    const first = (await (await fetch(`${url}/api/v1/series?limit=2`)).json()) as {
      series: { series: string; label: string; lastValue: number; lastSeen: string }[];
      next?: string;
    };
    expect(first.series.map((s) => s.label)).toEqual([
      'system.cpu.utilization of spark-worker on 10.0.0.1',
      'system.cpu.utilization of spark-worker on 10.0.0.2',
    ]);
    expect(first.series[0]).toMatchObject({ lastValue: 0.5, lastSeen: new Date(now).toISOString() });
    const second = (await (
      await fetch(`${url}/api/v1/series?limit=2&after=${encodeURIComponent(first.next!)}`)
    ).json()) as { series: { label: string }[]; next?: string };
    expect(second.series.map((s) => s.label)).toEqual(['system.cpu.utilization of spark-worker on 10.0.0.3']);
    expect(second.next).toBeUndefined();
    expect((await fetch(`${url}/api/v1/series?limit=5000`)).status).toBe(400);
  });
});
