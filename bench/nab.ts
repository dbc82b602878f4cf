/**
 * Accuracy of the metric anomaly scorer on the Numenta Anomaly Benchmark: scores every corpus file
 * the way `guardian detect nab` does, then runs the NAB scorer (Python, read from where it lives,
 * by default `../shared/tools/nab_score.py`) and prints the three profiles' normalised scores.
 *
 * With `--perturb N` it also scores N configurations whose numeric parameters are each moved at
 * random by up to `--spread` (±10 %): how much of the figure is the model, and how much the luck
 * of one configuration. Deterministic for a given `--seed`.
 *
 *   node bench/nab.ts                 # the defaults' three scores
 *   node bench/nab.ts --perturb 8     # and eight perturbed configurations, their mean and worst
 *
 * Options: --data DIR, --labels FILE, --profiles FILE, --scorer FILE (defaults under ../shared),
 * --perturb N (0), --spread F (0.1), --seed N (7).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AnomalyScorerConfig } from '../detectors/anomaly/core.ts';
import { runNabCorpus } from './nab/corpus.ts';
import { perturbedConfig } from './nab/perturb.ts';
import { NAB_DIR, NAB_PROFILES, NAB_SCORER, scoreNabResults } from './nab/scorer.ts';
import { uniform } from './support/noise.ts';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.join(NAB_DIR, 'data') },
    labels: { type: 'string', default: path.join(NAB_DIR, 'labels/combined_windows.json') },
    profiles: { type: 'string', default: path.join(NAB_DIR, 'config/profiles.json') },
    scorer: { type: 'string', default: NAB_SCORER },
    perturb: { type: 'string', default: '0' },
    spread: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '7' },
  },
});

/** The three normalised scores of one configuration. */
function evaluate(config: Partial<AnomalyScorerConfig>): number[] {
  const out = mkdtempSync(path.join(tmpdir(), 'guardian-nab-'));
  try {
    runNabCorpus(args.data, path.join(out, 'guardian'), config);
    const scores = scoreNabResults(out, args);
    return NAB_PROFILES.map((p) => scores[p]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const fmt = (scores: readonly number[]) => scores.map((s) => s.toFixed(2).padStart(6)).join(' ');
console.log(`NAB corpus ${args.data}`);
console.log(`                               standard low-FP low-FN`);
const started = performance.now();
console.log(`defaults                       ${fmt(evaluate({}))}`);
const draws = Number(args.perturb);
if (draws > 0) {
  const next = uniform(Number(args.seed));
  const spread = Number(args.spread);
  const all: number[][] = [];
  for (let i = 0; i < draws; i++) {
    const scores = evaluate(perturbedConfig(next, spread));
    all.push(scores);
    console.log(`perturbed ±${(spread * 100).toFixed(0)} % #${String(i + 1).padEnd(13)} ${fmt(scores)}`);
  }
  const mean = NAB_PROFILES.map((_, k) => all.reduce((sum, s) => sum + s[k]!, 0) / all.length);
  const worst = NAB_PROFILES.map((_, k) => Math.min(...all.map((s) => s[k]!)));
  console.log(`perturbed mean                 ${fmt(mean)}`);
  console.log(`perturbed worst                ${fmt(worst)}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
