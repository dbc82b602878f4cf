import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
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
});
