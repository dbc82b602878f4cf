import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type AnomalyScorerConfig, AnomalyScorerPool } from '../../detectors/anomaly/core.ts';
import { parseTimestamp } from './corpus.ts';
import { NAB_DIR, NAB_PROFILES, type NabProfile } from './scorer.ts';

/**
 * NAB's scoring rules in process (Lavin & Ahmad 2015, and the NAB wiki's relative-position
 * convention), so that cross-validation can choose a threshold on some files and apply it to
 * others thousands of times without writing CSVs. `test/nab-rules.test.ts` checks it against
 * the shared Python scorer (`nab_score.py`), which stays the reference.
 */

/** One profile's weights. */
export interface NabWeights {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** One corpus file's rows, windows and (once scored) anomaly scores, independent of threshold. */
export interface NabFile {
  /** `<category>/<file>.csv`. */
  readonly name: string;
  readonly category: string;
  /** Rows before this one are not scored (the probationary period). */
  readonly probation: number;
  /** Inclusive row ranges of the anomaly windows, in order. */
  readonly windows: readonly (readonly [number, number])[];
  /** Per row: its window's index, or -1. */
  readonly windowOf: Int32Array;
  /** Per row outside windows: the index of the window before it, or -1. */
  readonly after: Int32Array;
  /** Per row: relative position y (in a window −1 … ~0; after one, window lengths past it). */
  readonly y: Float64Array;
}

/** NAB's scaled sigmoid: +1 long before a window's end, 0 at it, −1 long after. */
function sigma(y: number): number {
  const z = 5 * y;
  return z > 700 ? -1 : 2 / (1 + Math.exp(z)) - 1;
}
/** A detection on a window's first row earns exactly the TP weight. */
const TP_RESCALE = 1 / sigma(-1);

/** Lexically ordered timestamp (`2014-04-10 07:15:00`, no fraction, space not `T`). */
function normalStamp(s: string): string {
  const t = s.trim();
  const dot = t.indexOf('.');
  return (dot < 0 ? t : t.slice(0, dot)).replace('T', ' ');
}

/** Builds a file's scoring frame from its timestamps and labelled windows. */
export function nabFile(
  name: string,
  stamps: readonly string[],
  labelled: readonly (readonly string[])[],
): NabFile {
  const n = stamps.length;
  const norm = stamps.map(normalStamp);
  const windows: [number, number][] = [];
  for (const [start, end] of labelled) {
    const s = normalStamp(start!);
    const e = normalStamp(end!);
    let first = -1;
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (norm[i]! >= s && norm[i]! <= e) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first >= 0) windows.push([first, last]);
  }
  windows.sort((x, y) => x[0] - y[0]);
  const windowOf = new Int32Array(n).fill(-1);
  const after = new Int32Array(n).fill(-1);
  const y = new Float64Array(n);
  let w = -1;
  let next = 0;
  for (let i = 0; i < n; i++) {
    while (next < windows.length && windows[next]![0] <= i) w = next++;
    if (w < 0) continue;
    const [left, right] = windows[w]!;
    const width = right - left + 1;
    if (i <= right) {
      windowOf[i] = w;
      y[i] = -(right - i + 1) / width;
    } else {
      after[i] = w;
      y[i] = width > 1 ? (i - right) / (width - 1) : i - right;
    }
  }
  const probation = Math.floor(Math.min(Math.floor(0.15 * n), 0.15 * 5000));
  return { name, category: name.split('/')[0]!, probation, windows, windowOf, after, y };
}

/** Every corpus file with its windows (timestamps read from the data), in name order. */
export function loadNabCorpus(dir = NAB_DIR): NabFile[] {
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels/combined_windows.json'), 'utf8')) as Record<
    string,
    string[][]
  >;
  return Object.keys(labels)
    .sort()
    .map((name) => {
      const lines = readFileSync(path.join(dir, 'data', name), 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1);
      return nabFile(
        name,
        lines.map((l) => l.slice(0, l.indexOf(','))),
        labels[name]!,
      );
    });
}

/** The three profiles' weights, from NAB's `config/profiles.json`. */
export function loadNabProfiles(dir = NAB_DIR): Record<NabProfile, NabWeights> {
  const raw = JSON.parse(readFileSync(path.join(dir, 'config/profiles.json'), 'utf8')) as Record<
    string,
    { CostMatrix: { tpWeight: number; fpWeight: number; fnWeight: number } }
  >;
  const out = {} as Record<NabProfile, NabWeights>;
  for (const p of NAB_PROFILES) {
    const c = raw[p]!.CostMatrix;
    out[p] = { tp: c.tpWeight, fp: c.fpWeight, fn: c.fnWeight };
  }
  return out;
}

/** A set of files' outcome at one threshold. */
export interface NabOutcome {
  /** Raw score (sum over files). */
  readonly raw: number;
  /** Raw score of detecting nothing, and of detecting every window at its first row. */
  readonly none: number;
  readonly perfect: number;
  /** Windows detected, windows missed, detections outside every window. */
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
}

/** 100 (raw − none) / (perfect − none): 0 detects nothing, 100 is perfect; NaN without windows. */
export function normalised(o: NabOutcome): number {
  return o.perfect === o.none ? Number.NaN : (100 * (o.raw - o.none)) / (o.perfect - o.none);
}

/** Adds outcomes (the pooled figure over folds). */
export function pooled(outcomes: readonly NabOutcome[]): NabOutcome {
  const sum = (k: keyof NabOutcome) => outcomes.reduce((s, o) => s + o[k], 0);
  return {
    raw: sum('raw'),
    none: sum('none'),
    perfect: sum('perfect'),
    tp: sum('tp'),
    fn: sum('fn'),
    fp: sum('fp'),
  };
}

/** Detections are rows with a score at or above `threshold`. */
export function outcomeAt(
  files: readonly NabFile[],
  scores: readonly Float64Array[],
  w: NabWeights,
  threshold: number,
): NabOutcome {
  let raw = 0;
  let tp = 0;
  let fn = 0;
  let fp = 0;
  let windows = 0;
  files.forEach((f, k) => {
    const s = scores[k]!;
    const first = new Int32Array(f.windows.length).fill(-1);
    windows += f.windows.length;
    for (let i = f.probation; i < s.length; i++) {
      if (s[i]! < threshold) continue;
      const wi = f.windowOf[i]!;
      if (wi >= 0) {
        if (first[wi] === -1) first[wi] = i;
      } else {
        fp++;
        raw += f.after[i]! >= 0 ? w.fp * sigma(f.y[i]!) : -w.fp;
      }
    }
    for (const i of first) {
      if (i < 0) {
        fn++;
        raw -= w.fn;
      } else {
        tp++;
        raw += w.tp * sigma(f.y[i]!) * TP_RESCALE;
      }
    }
  });
  return { raw, none: -w.fn * windows, perfect: w.tp * windows, tp, fn, fp };
}

/**
 * NAB's threshold: the one that maximises the raw score over `files`, found by lowering it
 * through every distinct score (nothing detected above the highest).
 */
export function bestThreshold(
  files: readonly NabFile[],
  scores: readonly Float64Array[],
  w: NabWeights,
): number {
  const rows: number[] = [];
  const owner: number[] = [];
  let windows = 0;
  files.forEach((f, k) => {
    windows += f.windows.length;
    for (let i = f.probation; i < scores[k]!.length; i++) {
      rows.push(i);
      owner.push(k);
    }
  });
  const order = Array.from(rows.keys()).sort(
    (a, b) => scores[owner[b]!]![rows[b]!]! - scores[owner[a]!]![rows[a]!]!,
  );
  const first = files.map((f) => new Int32Array(f.windows.length).fill(-1));
  let total = -w.fn * windows;
  let best = total;
  let threshold = order.length > 0 ? scores[owner[order[0]!]!]![rows[order[0]!]!]! + 1 : 1;
  for (let j = 0; j < order.length; ) {
    const v = scores[owner[order[j]!]!]![rows[order[j]!]!]!;
    for (; j < order.length && scores[owner[order[j]!]!]![rows[order[j]!]!]! === v; j++) {
      const k = owner[order[j]!]!;
      const i = rows[order[j]!]!;
      const f = files[k]!;
      const wi = f.windowOf[i]!;
      if (wi >= 0) {
        const old = first[k]![wi]!;
        if (old === -1 || i < old) {
          const oldValue = old === -1 ? -w.fn : w.tp * sigma(f.y[old]!) * TP_RESCALE;
          first[k]![wi] = i;
          total += w.tp * sigma(f.y[i]!) * TP_RESCALE - oldValue;
        }
      } else total += f.after[i]! >= 0 ? w.fp * sigma(f.y[i]!) : -w.fp;
    }
    if (total > best + 1e-12) {
      best = total;
      threshold = v;
    }
  }
  return threshold;
}

/** A series as the scorer sees it. */
export interface NabSeries {
  readonly times: Float64Array;
  readonly values: Float64Array;
}

/** Each corpus file's points. */
export function loadNabSeries(files: readonly NabFile[], dir = NAB_DIR): NabSeries[] {
  return files.map((f) => {
    const lines = readFileSync(path.join(dir, 'data', f.name), 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(1);
    const times = new Float64Array(lines.length);
    const values = new Float64Array(lines.length);
    lines.forEach((l, i) => {
      const comma = l.indexOf(',');
      times[i] = parseTimestamp(l.slice(0, comma));
      values[i] = Number(l.slice(comma + 1));
    });
    return { times, values };
  });
}

/** A series scored by a fresh scorer, point by point, as `guardian detect nab` scores a file. */
export function scoreSeries(
  { times, values }: NabSeries,
  config: Partial<AnomalyScorerConfig> = {},
): Float64Array {
  const pool = new AnomalyScorerPool(1, config);
  const slot = pool.allocate();
  const out = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) out[i] = pool.score(slot, times[i]!, values[i]!);
  return out;
}
