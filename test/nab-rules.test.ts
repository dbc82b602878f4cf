import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNabCorpus } from '../src/anomaly/nab.ts';
import { readScoredCorpus } from './support/nab-read.ts';
import {
  bestThreshold,
  loadNabCorpus,
  loadNabProfiles,
  nabFile,
  normalised,
  outcomeAt,
  pooled,
} from './support/nab-rules.ts';
import { NAB_DIR, NAB_PROFILES, scoreNabResults } from './support/nab-scorer.ts';

/**
 * The in-process NAB scoring rules used by the cross-validation bench agree with the shared
 * Python scorer, which reproduces NAB's published scoreboard: same normalised scores on the
 * whole corpus, and the threshold they choose is the Python scorer's optimum.
 */
describe('NAB scoring rules in process', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'guardian-nab-rules-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('scores the corpus as nab_score.py does, to three decimals', () => {
    runNabCorpus(path.join(NAB_DIR, 'data'), path.join(out, 'guardian'));
    const reference = scoreNabResults(out);
    const files = loadNabCorpus();
    const scores = readScoredCorpus(path.join(out, 'guardian'), files);
    const weights = loadNabProfiles();
    for (const p of NAB_PROFILES) {
      const t = bestThreshold(files, scores, weights[p]);
      expect(normalised(outcomeAt(files, scores, weights[p], t))).toBeCloseTo(reference[p], 3);
    }
  }, 120_000);

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
