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
    config: { type: 'string', default: '{}' },
  },
});

const standard = loadNabProfiles().standard;
/** Overrides of the scorer's defaults, for trying a configuration on the families. */
const config = JSON.parse(args.config) as Partial<AnomalyScorerConfig>;
let threshold = Number(args.threshold);
if (args.threshold === undefined) {
  const files = loadNabCorpus();
  const scores = loadNabSeries(files).map((s) => scoreSeries(s, config));
  threshold = bestThreshold(files, scores, standard);
}
const stamp = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
const all = syntheticFamilies(Number(args.seed), Number(args['per-family']));
console.log(`threshold ${threshold.toFixed(4)} (NAB standard optimum on the open corpus unless given)`);
console.log('family                   windows  found  recall  FP rows  precision  NAB standard');
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
  const windows = o.tp + o.fn;
  console.log(
    `${family.padEnd(24)} ${String(windows).padStart(7)} ${String(o.tp).padStart(6)} ${(o.tp / windows).toFixed(2).padStart(7)} ${String(o.fp).padStart(8)} ${(o.tp / Math.max(o.tp + o.fp, 1)).toFixed(2).padStart(10)} ${normalised(o).toFixed(1).padStart(13)}`,
  );
}
