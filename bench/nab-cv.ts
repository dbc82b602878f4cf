/**
 * Cross-validated accuracy of the metric anomaly scorer on the Numenta Anomaly Benchmark: leave
 * one category out. For each of the five categories in turn, the other four are the training
 * folds; there
 *
 * 1. the configuration is chosen among `CANDIDATES` by its mean normalised score over the three
 *    profiles on the training folds (each profile at its own optimised threshold), and
 * 2. each profile's threshold is NAB's optimum on the training folds (the raw score over the four
 *    categories maximised, exactly as NAB chooses it on a corpus);
 *
 * the held-out category is then scored with that configuration at that threshold. This is the
 * figure of record: nothing about the held-out category chose it. The held-out folds' raw
 * scores are pooled (summed, normalised by the pooled windows) into the CV total. For
 * comparison the bench also prints each fold scored at its own optimised threshold (what
 * `nab_score.py` reports for a folder: an optimistic figure, the threshold is fitted on the
 * files scored), and the full corpus at its own optimum.
 *
 * artificialNoAnomaly has no windows, so its normalised score is undefined; its false positives
 * still count in the pooled total.
 *
 * With `--perturb N` it repeats the CV total for N configurations with every free parameter of
 * the default moved at random by up to ±`--spread` (no selection: each draw is one fixed model).
 *
 *   node bench/nab-cv.ts
 *   node bench/nab-cv.ts --perturb 8
 *   node bench/nab-cv.ts --candidates '[{"name":"a","config":{"calibrationTail":0.02}}, …]'
 *
 * The scoring rules run in process (bench/nab/rules.ts, checked against nab_score.py by
 * test/nab-rules.test.ts). Caveat: the model's structure and the defaults predate this harness
 * and were chosen on all 34 files, so the CV figure only measures what is chosen here.
 */
import { parseArgs } from 'node:util';
import type { AnomalyScorerConfig } from '../detectors/anomaly/core.ts';
import { perturbedConfig } from './nab/perturb.ts';
import {
  bestThreshold,
  loadNabCorpus,
  loadNabProfiles,
  loadNabSeries,
  type NabFile,
  type NabOutcome,
  normalised,
  outcomeAt,
  pooled,
  scoreSeries,
} from './nab/rules.ts';
import { NAB_DIR, NAB_PROFILES } from './nab/scorer.ts';
import { uniform } from './support/noise.ts';

const { values: args } = parseArgs({
  options: {
    nab: { type: 'string', default: NAB_DIR },
    perturb: { type: 'string', default: '0' },
    spread: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '7' },
    candidates: { type: 'string' },
  },
});

/**
 * The configurations a training fold chooses among (overrides of the defaults). Few on purpose:
 * each one is a chance to fit the training folds.
 */
const CANDIDATES: readonly { readonly name: string; readonly config: Partial<AnomalyScorerConfig> }[] =
  args.candidates ? JSON.parse(args.candidates) : [{ name: 'defaults', config: {} }];

const files = loadNabCorpus(args.nab);
const weights = loadNabProfiles(args.nab);
const series = loadNabSeries(files, args.nab);
const categories = [...new Set(files.map((f) => f.category))];

/** Every file scored by one configuration, as `guardian detect nab` scores it. */
function scoreCorpus(config: Partial<AnomalyScorerConfig>): Float64Array[] {
  return series.map((s) => scoreSeries(s, config));
}

function subset(scores: readonly Float64Array[], keep: (f: NabFile) => boolean) {
  const idx = files.flatMap((f, i) => (keep(f) ? [i] : []));
  return { files: idx.map((i) => files[i]!), scores: idx.map((i) => scores[i]!) };
}

/** Mean over the profiles of the normalised score at each profile's own optimum. */
function fitted(part: ReturnType<typeof subset>): number[] {
  return NAB_PROFILES.map((p) => {
    const w = weights[p];
    return normalised(outcomeAt(part.files, part.scores, w, bestThreshold(part.files, part.scores, w)));
  });
}

interface Fold {
  readonly category: string;
  readonly chosen: string;
  /** Per profile: held out at the training threshold, and at its own optimum. */
  readonly record: NabOutcome[];
  readonly own: NabOutcome[];
  readonly thresholds: number[];
  readonly ownThresholds: number[];
}

/** Leave-one-category-out over `candidates` (each a corpus already scored). */
function crossValidate(candidates: readonly { name: string; scores: Float64Array[] }[]): Fold[] {
  return categories.map((category) => {
    let chosen = candidates[0]!;
    let best = Number.NEGATIVE_INFINITY;
    for (const c of candidates) {
      const train = fitted(subset(c.scores, (f) => f.category !== category));
      const mean = train.reduce((s, v) => s + v, 0) / train.length;
      if (mean > best) {
        best = mean;
        chosen = c;
      }
    }
    const train = subset(chosen.scores, (f) => f.category !== category);
    const test = subset(chosen.scores, (f) => f.category === category);
    const thresholds = NAB_PROFILES.map((p) => bestThreshold(train.files, train.scores, weights[p]));
    const record = NAB_PROFILES.map((p, k) => outcomeAt(test.files, test.scores, weights[p], thresholds[k]!));
    const ownThresholds = NAB_PROFILES.map((p) => bestThreshold(test.files, test.scores, weights[p]));
    const own = NAB_PROFILES.map((p, k) => outcomeAt(test.files, test.scores, weights[p], ownThresholds[k]!));
    return { category, chosen: chosen.name, record, own, thresholds, ownThresholds };
  });
}

const fmt = (v: readonly number[]) =>
  v.map((s) => (Number.isNaN(s) ? '     -' : s.toFixed(2).padStart(6))).join(' ');
const total = (folds: readonly Fold[], k: 'record' | 'own') =>
  NAB_PROFILES.map((_, p) => normalised(pooled(folds.map((f) => f[k][p]!))));

const started = performance.now();
const scored = CANDIDATES.map((c) => ({ name: c.name, scores: scoreCorpus(c.config) }));
console.log(`NAB ${args.nab}: leave one category out (standard / low-FP / low-FN)`);
console.log('candidate                full corpus, own threshold   CV total if fixed');
for (const c of scored)
  console.log(
    `  ${c.name.padEnd(22)} ${fmt(fitted(subset(c.scores, () => true)))}         ${fmt(total(crossValidate([c]), 'record'))}`,
  );
const folds = crossValidate(scored);
console.log(
  'held-out category        chosen       at training thresholds   at its own optimum     TP FN FP (standard)',
);
for (const f of folds) {
  const n = (k: 'record' | 'own') => f[k].map(normalised);
  const s = f.record[0]!;
  console.log(
    `  ${f.category.padEnd(22)} ${f.chosen.padEnd(12)} ${fmt(n('record'))}    ${fmt(n('own'))}   ${s.tp} ${s.fn} ${s.fp}`,
  );
}
console.log('thresholds (training folds / own), per profile');
for (const f of folds)
  console.log(
    `  ${f.category.padEnd(22)} ${f.thresholds.map((t, k) => `${t.toFixed(3)}/${f.ownThresholds[k]!.toFixed(3)}`).join('  ')}`,
  );
console.log(`CV total (of record)                  ${fmt(total(folds, 'record'))}`);
console.log(`CV total, per-fold optimum            ${fmt(total(folds, 'own'))}`);

const draws = Number(args.perturb);
if (draws > 0) {
  const next = uniform(Number(args.seed));
  const all: number[][] = [];
  for (let i = 0; i < draws; i++) {
    const config = perturbedConfig(next, Number(args.spread));
    const cv = total(crossValidate([{ name: 'perturbed', scores: scoreCorpus(config) }]), 'record');
    all.push(cv);
    console.log(`perturbed #${String(i + 1).padEnd(26)} ${fmt(cv)}`);
  }
  const mean = NAB_PROFILES.map((_, k) => all.reduce((s, v) => s + v[k]!, 0) / all.length);
  const worst = NAB_PROFILES.map((_, k) => Math.min(...all.map((v) => v[k]!)));
  console.log(`perturbed CV mean                     ${fmt(mean)}`);
  console.log(`perturbed CV worst                    ${fmt(worst)}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
