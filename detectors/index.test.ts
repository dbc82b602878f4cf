import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load.ts';
import { createDetectors, DETECTORS } from './index.ts';

describe('detector registry', () => {
  it('creates every registered detector, each with the id it is registered under', () => {
    const detectors = createDetectors(parseConfig({}));
    expect(detectors.map((d) => d.id)).toEqual(DETECTORS.map((d) => d.id));
    expect(new Set(detectors.map((d) => d.id)).size).toBe(detectors.length);
    expect(detectors.map((d) => d.id)).toEqual(
      expect.arrayContaining([
        'metric-threshold',
        'metric-staleness',
        'source-down',
        'airflow-task-failure',
        'airflow-dagrun-failed',
        'airflow-health',
      ]),
    );
  });

  it('loads the example configuration in docker/, and hands each detector its rules from it', () => {
    const config = loadConfig({
      env: { GUARDIAN_CONFIG: path.join(import.meta.dirname, '../docker/guardian.yaml') },
    });
    expect(config.detection.anomalies.map((r) => r.id)).toEqual(['lambda-ingest-rows', 'jvm-gc-pauses']);
    const anomaly = createDetectors(config).find((d) => d.id === 'metric-anomaly')!;
    const emitted: unknown[] = [];
    const ctx = { now: () => 0, emit: (s: unknown) => emitted.push(s) };
    for (let i = 0; i < 5; i++)
      anomaly.observe(
        {
          type: 'metric',
          series: `jvm.gc.duration#${i}`,
          name: 'jvm.gc.duration',
          attributes: {},
          time: i * 60_000,
          value: i,
          metricType: 'gauge',
          unit: 'ms',
        },
        ctx,
      );
    // The rule says not to watch GC pauses: nothing of them is modelled or saved.
    expect(anomaly.snapshot?.()).toMatchObject({ series: [] });
  });
});
