import { describe, expect, it } from 'vitest';
import { FAMILY_NAMES, syntheticFamilies } from '../bench/support/metric-families.ts';

/**
 * The synthetic families stand in for NAB's held-out cloud files (bench/metric-families.ts), so
 * their labels must be where their anomalies are and nowhere else.
 */
describe('synthetic metric families', () => {
  const all = syntheticFamilies(3, 2);

  it('gives every family, the same series for the same seed and others for another', () => {
    expect(new Set(all.map((s) => s.family))).toEqual(new Set(FAMILY_NAMES));
    expect(all).toHaveLength(2 * FAMILY_NAMES.length);
    const again = syntheticFamilies(3, 2);
    expect(again.map((s) => Array.from(s.values))).toEqual(all.map((s) => Array.from(s.values)));
    const other = syntheticFamilies(4, 2);
    expect(other[0]!.values).not.toEqual(all[0]!.values);
  });

  it('labels windows inside the series, after the probation, in time order', () => {
    for (const s of all) {
      expect(s.windows.length).toBeGreaterThan(0);
      expect(s.values.every(Number.isFinite)).toBe(true);
      for (const [a, b] of s.windows) {
        expect(a).toBeGreaterThan(0.15 * s.values.length);
        expect(b).toBeGreaterThanOrEqual(a);
        expect(b).toBeLessThan(s.values.length);
      }
      for (let i = 1; i < s.times.length; i++) expect(s.times[i]!).toBeGreaterThan(s.times[i - 1]!);
    }
  });

  /** Median of the values in rows [from, to). */
  const median = (v: Float64Array, from: number, to: number) => {
    const part = Array.from(v.subarray(from, to)).sort((x, y) => x - y);
    return part[Math.floor(part.length / 2)]!;
  };

  it('puts each cloud family’s sustained anomaly at the start of its window', () => {
    for (const s of all) {
      const [a, b] = s.windows[0]!;
      // The onset is a quarter of the window in; the anomaly lasts two hours or more (24 rows).
      const onset = a + Math.floor((b - a + 1) / 4);
      const during = median(s.values, onset, onset + 24);
      const before = median(s.values, onset - 288, onset - 24);
      if (s.family === 'ec2-cpu-bursts' || s.family === 'rds-cpu-backup-window')
        expect(during - before).toBeGreaterThan(20); // a pinned core, a runaway query
      if (s.family === 'request-counts-weekly') expect(during).toBeLessThan(0.5 * before); // outage
      if (s.family === 'disk-write-nightly') expect(during).toBeGreaterThan(10 * before); // write storm
      if (s.family === 'network-in-heavy-tail') {
        const ratio = during / before;
        expect(ratio < 0.2 || ratio > 3).toBe(true); // outage or flood
      }
    }
  });

  it('gives the EC2 CPU series a benign restart: a half-hour gap, unlabelled', () => {
    for (const s of all.filter((x) => x.family === 'ec2-cpu-bursts')) {
      const gaps: number[] = [];
      for (let i = 1; i < s.times.length; i++) if (s.times[i]! - s.times[i - 1]! > 300_000) gaps.push(i);
      expect(gaps).toHaveLength(1);
      expect(s.times[gaps[0]!]! - s.times[gaps[0]! - 1]!).toBe(7 * 300_000);
      expect(s.windows.some(([a, b]) => gaps[0]! >= a && gaps[0]! <= b)).toBe(false);
    }
  });
});
