/**
 * How long the scorer's excursions last at its alarms: true onsets against false alarms, on
 * NAB's open corpus and on the synthetic families. An excursion is a run of points whose raw
 * surprise (`explain().surprise`, before the refractory envelope) is at least `--level`. For
 * every false-positive row and every window's first detection at the standard profile's
 * threshold (NAB's optimum on the open corpus), it reports the run's length, and where the
 * series' own earlier excursions put it: the share of them at least as long.
 *
 *   node bench/metric-excursions.ts [--level 2] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { AnomalyScorerPool } from '../detectors/anomaly/core.ts';
import { bestThreshold, loadNabCorpus, loadNabProfiles, loadNabSeries } from './nab/rules.ts';
import { syntheticFamilies } from './support/metric-families.ts';

const { values: args } = parseArgs({
  options: {
    level: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});
const level = Number(args.level);

interface Scored {
  readonly score: Float64Array;
  readonly raw: Float64Array;
}

function scoreWithRaw(times: Float64Array, values: Float64Array): Scored {
  const pool = new AnomalyScorerPool(1);
  const slot = pool.allocate();
  const score = new Float64Array(times.length);
  const raw = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    score[i] = pool.score(slot, times[i]!, values[i]!);
    raw[i] = pool.explain(slot).surprise;
  }
  return { score, raw };
}

interface Alarm {
  readonly kind: 'tp' | 'fp';
  /** Position of the alarm in its run (1 = the run's first point), and the run's length. */
  readonly at: number;
  readonly length: number;
  /** Earlier runs in the series, and the share of them at least `length` long. */
  readonly history: number;
  readonly longerShare: number;
  /** Share of earlier runs at least `at + 2` long (the run would have to last two more points). */
  readonly laterShare: number;
}

/** Alarms of one series at `threshold`; windows as inclusive row ranges; rows before `from` unscored. */
function alarms(
  s: Scored,
  windows: readonly (readonly [number, number])[],
  from: number,
  threshold: number,
): Alarm[] {
  const n = s.raw.length;
  // Runs: start and length per row.
  const runStart = new Int32Array(n).fill(-1);
  const runLength = new Int32Array(n);
  const ends: { start: number; length: number }[] = [];
  for (let i = 0; i < n; ) {
    if (s.raw[i]! < level) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && s.raw[j]! >= level) j++;
    for (let k = i; k < j; k++) {
      runStart[k] = i;
      runLength[k] = j - i;
    }
    ends.push({ start: i, length: j - i });
    i = j;
  }
  const windowOf = new Int32Array(n).fill(-1);
  windows.forEach(([a, b], w) => {
    for (let i = a; i <= b; i++) windowOf[i] = w;
  });
  const found = new Set<number>();
  const out: Alarm[] = [];
  for (let i = from; i < n; i++) {
    if (s.score[i]! < threshold) continue;
    const w = windowOf[i]!;
    if (w >= 0 && found.has(w)) continue;
    if (w >= 0) found.add(w);
    const start = runStart[i]!;
    const at = start < 0 ? 0 : i - start + 1;
    const length = start < 0 ? 0 : runLength[i]!;
    // Runs that had ended before this run began.
    const past = ends.filter((e) => e.start + e.length <= (start < 0 ? i : start));
    const share = (d: number) =>
      past.length === 0 ? Number.NaN : past.filter((e) => e.length >= d).length / past.length;
    out.push({
      kind: w >= 0 ? 'tp' : 'fp',
      at,
      length,
      history: past.length,
      longerShare: share(length),
      laterShare: share(at + 2),
    });
  }
  return out;
}

const LENGTH_BINS = [1, 2, 3, 5, 9, 17, 33] as const;
const binOf = (v: number) => LENGTH_BINS.reduce((k, b, i) => (v >= b ? i : k), -1);
const SHARE_BINS = [0, 0.01, 0.05, 0.1, 0.2, 0.5] as const;

function report(title: string, all: readonly Alarm[]): void {
  console.log(`\n${title}: level ${level}`);
  for (const kind of ['tp', 'fp'] as const) {
    const a = all.filter((x) => x.kind === kind);
    const lengths = LENGTH_BINS.map((_, k) => a.filter((x) => binOf(x.length) === k).length);
    const ats = LENGTH_BINS.map((_, k) => a.filter((x) => binOf(x.at) === k).length);
    const known = a.filter((x) => x.history > 0);
    const shares = SHARE_BINS.map(
      (lo, k) =>
        known.filter((x) => x.longerShare >= lo && x.longerShare < (SHARE_BINS[k + 1] ?? 1.01)).length,
    );
    const later = SHARE_BINS.map(
      (lo, k) => known.filter((x) => x.laterShare >= lo && x.laterShare < (SHARE_BINS[k + 1] ?? 1.01)).length,
    );
    const median = (v: number[]) => {
      const s = [...v].sort((x, y) => x - y);
      return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
    };
    console.log(
      `  ${kind} ${String(a.length).padStart(4)}  run length [1,2,3-4,5-8,9-16,17-32,33+]: ${lengths.join(' ')}` +
        `   alarm at [same bins]: ${ats.join(' ')}`,
    );
    console.log(
      `        with earlier runs ${known.length} (median ${median(known.map((x) => x.history))} runs); share of earlier runs ≥ this run's length [0,.01,.05,.1,.2,.5,1]: ${shares.join(' ')}` +
        `; ≥ alarm position + 2: ${later.join(' ')}`,
    );
  }
}

const weights = loadNabProfiles();
const files = loadNabCorpus();
const series = loadNabSeries(files);
const scored = series.map((s) => scoreWithRaw(s.times, s.values));
const threshold = bestThreshold(
  files,
  scored.map((s) => s.score),
  weights.standard,
);
console.log(`threshold ${threshold.toFixed(4)} (standard, NAB optimum on the open corpus)`);
const nab = files.flatMap((f, k) => alarms(scored[k]!, f.windows, f.probation, threshold));
report('NAB, 34 files', nab);
for (const c of [...new Set(files.map((f) => f.category))])
  report(
    `  ${c}`,
    files.flatMap((f, k) => (f.category === c ? alarms(scored[k]!, f.windows, f.probation, threshold) : [])),
  );

const families = syntheticFamilies(Number(args.seed));
const byFamily = new Map<string, Alarm[]>();
for (const s of families) {
  const a = alarms(
    scoreWithRaw(s.times, s.values),
    s.windows,
    Math.floor(Math.min(Math.floor(0.15 * s.times.length), 750)),
    threshold,
  );
  byFamily.set(s.family, [...(byFamily.get(s.family) ?? []), ...a]);
}
report(`families, seed ${args.seed}`, [...byFamily.values()].flat());
for (const f of ['ec2-cpu-bursts', 'network-in-heavy-tail', 'request-counts-weekly'])
  report(`  ${f}`, byFamily.get(f) ?? []);
