import { describe, expect, it } from 'vitest';
import { bestThreshold, nabFile, normalised, outcomeAt, pooled } from '../bench/nab/rules.ts';

/**
 * NAB's scoring rules as the cross-validation bench runs them (test/nab.test.ts checks them
 * against the shared Python scorer on the whole corpus).
 */
describe('NAB scoring rules in process', () => {
  it('credits the earliest detection in a window and charges false positives by position', () => {
    const stamps = Array.from(
      { length: 100 },
      (_, i) =>
        `2020-01-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
    );
    // Rows 50..59 are the window; probation is the first 15 rows.
    const file = nabFile('cat/f.csv', stamps, [['2020-01-01 00:50:00.000000', '2020-01-01 00:59:00.000000']]);
    expect(file.windows).toEqual([[50, 59]]);
    expect(file.probation).toBe(15);
    const w = { tp: 1, fp: 0.11, fn: 1 };
    const at = (rows: number[]) => {
      const s = new Float64Array(100);
      for (const r of rows) s[r] = 1;
      return outcomeAt([file], [s], w, 0.5);
    };
    expect(at([]).raw).toBe(-1);
    expect(at([50]).raw).toBeCloseTo(1, 10); // the window's first row earns the full TP weight
    expect(at([55]).raw).toBeLessThan(1);
    expect(at([55, 50]).raw).toBeCloseTo(1, 10); // only the earliest counts
    expect(at([5]).raw).toBe(-1); // probation: not scored
    expect(at([20]).raw).toBeCloseTo(-1.11, 10); // before any window: the full FP cost
    const justAfter = at([60]).raw + 1;
    expect(justAfter).toBeLessThan(0);
    expect(justAfter).toBeGreaterThan(-0.11); // right after a window: a smaller cost
    expect(normalised(pooled([at([50]), at([])]))).toBeCloseTo(50, 10);
    // The optimum detects the window and leaves the false positive out.
    const s = new Float64Array(100);
    s[20] = 0.9;
    s[52] = 0.7;
    expect(bestThreshold([file], [s], w)).toBe(0.7);
    s[20] = 0.6;
    expect(bestThreshold([file], [s], w)).toBe(0.7);
  });
});
