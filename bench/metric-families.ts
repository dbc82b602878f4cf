/**
 * The metric anomaly scorer on seeded synthetic families with labelled anomalies
 * (bench/support/metric-families.ts): per family, at the threshold NAB's standard profile chooses
 * on the open NAB corpus (the threshold a deployment would use; nothing about the families
 * chose it), the windows detected (recall), the false-positive rows, precision (windows detected
 * over windows detected plus false-positive rows, NAB's way of counting) and the NAB standard
 * score of the family at that threshold.
 *
 *   node bench/metric-families.ts [--seed 1] [--per-family 6] [--threshold T] [--config JSON]
 */
import { parseArgs } from 'node:util';
import type { AnomalyScorerConfig } from '../detectors/anomaly/core.ts';
import {
  bestThreshold,
  loadNabCorpus,
  loadNabProfiles,
  loadNabSeries,
  nabFile,
  normalised,
  outcomeAt,
  scoreSeries,
} from './nab/rules.ts';
import { FAMILY_NAMES, syntheticFamilies } from './support/metric-families.ts';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    'per-family': { type: 'string', default: '6' },
    threshold: { type: 'string' },
    'threshold-low-fp': { type: 'string' },
    config: { type: 'string', default: '{}' },
  },
});

const { standard, reward_low_FP_rate: lowFp } = loadNabProfiles();
/** Overrides of the scorer's defaults, for trying a configuration on the families. */
const config = JSON.parse(args.config) as Partial<AnomalyScorerConfig>;
let threshold = Number(args.threshold);
let thresholdLowFp = Number(args['threshold-low-fp']);
if (args.threshold === undefined || args['threshold-low-fp'] === undefined) {
  const files = loadNabCorpus();
  const scores = loadNabSeries(files).map((s) => scoreSeries(s, config));
  if (args.threshold === undefined) threshold = bestThreshold(files, scores, standard);
  if (args['threshold-low-fp'] === undefined) thresholdLowFp = bestThreshold(files, scores, lowFp);
}
const stamp = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
const all = syntheticFamilies(Number(args.seed), Number(args['per-family']));
console.log(
  `thresholds ${threshold.toFixed(4)} standard, ${thresholdLowFp.toFixed(4)} low FP (NAB optima on the open corpus unless given)`,
);
console.log('family                   windows  found  recall  FP rows  precision  NAB standard  NAB low FP');
const totals = { windows: 0, tp: 0, fp: 0, standard: 0, lowFp: 0 };
for (const family of FAMILY_NAMES) {
  const members = all.filter((s) => s.family === family);
  const frames = members.map((s) =>
    nabFile(
      `${family}/${s.name}.csv`,
      Array.from(s.times, stamp),
      s.windows.map(([a, b]) => [stamp(s.times[a]!), stamp(s.times[b]!)]),
    ),
  );
  const scores = members.map((s) => scoreSeries(s, config));
  const o = outcomeAt(frames, scores, standard, threshold);
  const low = normalised(outcomeAt(frames, scores, lowFp, thresholdLowFp));
  const windows = o.tp + o.fn;
  totals.windows += windows;
  totals.tp += o.tp;
  totals.fp += o.fp;
  totals.standard += normalised(o) / FAMILY_NAMES.length;
  totals.lowFp += low / FAMILY_NAMES.length;
  console.log(
    `${family.padEnd(24)} ${String(windows).padStart(7)} ${String(o.tp).padStart(6)} ${(o.tp / windows).toFixed(2).padStart(7)} ${String(o.fp).padStart(8)} ${(o.tp / Math.max(o.tp + o.fp, 1)).toFixed(2).padStart(10)} ${normalised(o).toFixed(1).padStart(13)} ${low.toFixed(1).padStart(11)}`,
  );
}
console.log(
  `${'all (mean of families)'.padEnd(24)} ${String(totals.windows).padStart(7)} ${String(totals.tp).padStart(6)} ${(totals.tp / totals.windows).toFixed(2).padStart(7)} ${String(totals.fp).padStart(8)} ${(totals.tp / Math.max(totals.tp + totals.fp, 1)).toFixed(2).padStart(10)} ${totals.standard.toFixed(1).padStart(13)} ${totals.lowFp.toFixed(1).padStart(11)}`,
);
