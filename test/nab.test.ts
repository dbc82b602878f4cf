import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCommand } from '../bench/nab/cli.ts';
import { runNabCorpus } from '../bench/nab/corpus.ts';
import { readScoredCorpus } from '../bench/nab/read.ts';
import { bestThreshold, loadNabCorpus, loadNabProfiles, normalised, outcomeAt } from '../bench/nab/rules.ts';
import { NAB_DIR as NAB, NAB_PROFILES, NAB_SCORER as SCORER, scoreNabResults } from '../bench/nab/scorer.ts';

/**
 * The metric anomaly scorer on the Numenta Anomaly Benchmark, scored by the shared scorer with
 * NAB's own threshold optimisation. The floor is what the committed scorer reaches, rounded
 * down: a change that loses benchmark score fails here.
 */
const BASELINE = { standard: 76.8, reward_low_FP_rate: 67.5, reward_low_FN_rate: 82.2 };

describe('NAB benchmark', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'guardian-nab-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes one scored CSV per corpus file and scores at least the committed baseline', async () => {
    for (const needed of [path.join(NAB, 'data'), path.join(NAB, 'labels/combined_windows.json'), SCORER]) {
      if (!existsSync(needed)) throw new Error(`NAB benchmark input missing: ${needed}`);
    }
    expect(await detectCommand(['nab', '--data', path.join(NAB, 'data'), '--out', out])).toBe(0);

    // Same files, same rows, same order, a score in [0, 1] for each.
    const input = path.join(NAB, 'data/realKnownCause/nyc_taxi.csv');
    const source = readFileSync(input, 'utf8').trim().split('\n');
    const scored = readFileSync(path.join(out, 'realKnownCause/nyc_taxi.csv'), 'utf8').trim().split('\n');
    expect(scored[0]).toBe('timestamp,value,anomaly_score');
    expect(scored.length).toBe(source.length);
    for (let i = 1; i < source.length; i++) {
      const [stamp, value, score] = scored[i]!.split(',');
      expect(`${stamp},${value}`).toBe(source[i]);
      expect(Number(score)).toBeGreaterThanOrEqual(0);
      expect(Number(score)).toBeLessThanOrEqual(1);
    }
    expect(readdirSync(out).sort()).toEqual(readdirSync(path.join(NAB, 'data')).sort());

    const scores = scoreNabResults(out);
    for (const [profile, floor] of Object.entries(BASELINE) as [keyof typeof BASELINE, number][]) {
      expect(
        scores[profile],
        `${profile}: ${scores[profile].toFixed(3)} < baseline ${floor}`,
      ).toBeGreaterThanOrEqual(floor);
    }
  }, 120_000);

  it('rejects usage errors with exit code 2', async () => {
    expect(await detectCommand([])).toBe(2);
    expect(await detectCommand(['nab', '--out', out])).toBe(2);
    expect(await detectCommand(['nab', '--data', path.join(NAB, 'data')])).toBe(2);
    expect(await detectCommand(['nab', '--data', path.join(out, 'missing'), '--out', out])).toBe(2);
    expect(await detectCommand(['yahoo', '--data', out, '--out', out])).toBe(2);
    expect(await detectCommand(['nab', '--bogus'])).toBe(2);
    expect(
      await detectCommand(['nab', '--data', path.join(NAB, 'data'), '--out', out, '--workers', '0']),
    ).toBe(2);
  });
});

describe('NAB scoring rules in process (bench/nab-cv)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'guardian-nab-rules-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('scores the corpus as nab_score.py does, to three decimals', () => {
    runNabCorpus(path.join(NAB, 'data'), path.join(out, 'guardian'));
    const reference = scoreNabResults(out);
    const files = loadNabCorpus();
    const scores = readScoredCorpus(path.join(out, 'guardian'), files);
    const weights = loadNabProfiles();
    for (const p of NAB_PROFILES) {
      const t = bestThreshold(files, scores, weights[p]);
      expect(normalised(outcomeAt(files, scores, weights[p], t))).toBeCloseTo(reference[p], 3);
    }
  }, 120_000);
});
