/**
 * Throughput and memory of the metric anomaly scorer: 100,000 synthetic series (daily cycles,
 * noise, occasional spikes and level shifts), their points interleaved the way a collector
 * delivers them (every series' point for minute m, then minute m+1, …), scored on one core.
 *
 * Each series first gets `--warmup` points untimed, so the timed `--points` are scored past the
 * scorer's warm-up (every channel scored) rather than in the cheaper first minutes. The tails are
 * still young then: about 2.4 channel values a point exceed their tracked quantile, against about
 * 0.2 (eight to ten channels, 2.5 % tails) once the quantiles have converged, and each excess costs two
 * tail fits. The default figure is therefore a conservative one; `--warmup 1000` shows a later
 * stage (and takes a minute or two).
 *
 *   node bench/metric-detector.ts                 # points/s, bytes/series from the slab layout
 *   node --expose-gc bench/metric-detector.ts     # also the measured heap growth
 *
 * Options: --series N (100000), --points N timed per series (60), --warmup N per series (120).
 */
import { parseArgs } from 'node:util';
import { AnomalyScorerPool, BYTES_PER_SERIES } from '../detectors/anomaly/core.ts';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    points: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '120' },
  },
});
const SERIES = Number(args.series);
const POINTS = Number(args.points);
const WARMUP = Number(args.warmup);
const STEP_MS = 60_000;
const START = Date.parse('2026-03-02T00:00:00Z');
const gc = (globalThis as { gc?: () => void }).gc;

/** Deterministic noise in [-1, 1) (xorshift32), so runs are comparable. */
let seed = 0x9e3779b9;
function noise(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return ((seed >>> 0) / 4294967296 - 0.5) * 2;
}

// Series shapes: level, amplitude and phase of a daily cycle, noise; one in ten shifts level.
const level = new Float64Array(SERIES);
const amplitude = new Float64Array(SERIES);
const phase = new Float64Array(SERIES);
const sigma = new Float64Array(SERIES);
const shiftAt = new Int32Array(SERIES);
for (let s = 0; s < SERIES; s++) {
  level[s] = 10 + 1000 * Math.abs(noise());
  amplitude[s] = level[s]! * 0.3 * Math.abs(noise());
  phase[s] = Math.PI * noise();
  sigma[s] = level[s]! * 0.05 * (0.2 + Math.abs(noise()));
  shiftAt[s] = s % 10 === 0 ? WARMUP + Math.floor(POINTS * 0.7) : -1;
}

gc?.();
const before = process.memoryUsage();
const pool = new AnomalyScorerPool(SERIES);
const slots = new Int32Array(SERIES);
for (let s = 0; s < SERIES; s++) slots[s] = pool.allocate();
// Twice: the buffers the pool outgrew are released by the first collection, counted by the second.
gc?.();
gc?.();
const after = process.memoryUsage();
const measuredBytes = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);

/** This minute's value of every series (generated outside the timed part). */
const minute = new Float64Array(SERIES);
function generate(p: number, time: number): void {
  const day = (2 * Math.PI * (time % 86_400_000)) / 86_400_000;
  for (let s = 0; s < SERIES; s++) {
    let v = level[s]! + amplitude[s]! * Math.sin(day + phase[s]!) + sigma[s]! * noise();
    if (shiftAt[s]! >= 0 && p >= shiftAt[s]!) v += 8 * sigma[s]!;
    if ((s * 31 + p) % 997 === 0) v += 12 * sigma[s]!;
    minute[s] = v;
  }
}

/** Scores one minute of every series; a function, so that its locals stay unboxed. */
function scoreMinute(time: number): number {
  let sum = 0;
  for (let s = 0; s < SERIES; s++) sum += pool.score(slots[s]!, time, minute[s]!);
  return sum;
}

for (let p = 0; p < WARMUP; p++) {
  const time = START + p * STEP_MS;
  generate(p, time);
  scoreMinute(time);
}

let scoreSum = 0;
let wallMs = 0;
let cpuMs = 0;
for (let p = WARMUP; p < WARMUP + POINTS; p++) {
  const time = START + p * STEP_MS;
  generate(p, time);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  scoreSum += scoreMinute(time);
  wallMs += performance.now() - t0;
  cpuMs += process.cpuUsage(cpu0).user / 1000;
}

const points = SERIES * POINTS;
const fmt = (n: number) => Math.round(n).toLocaleString('en');
process.stdout.write(
  `${[
    `series: ${fmt(SERIES)}, timed points: ${fmt(points)} (${POINTS} per series after ${WARMUP} untimed, interleaved)`,
    `throughput: ${fmt(points / (cpuMs / 1000))} points/s per CPU-second of the scoring thread (one core)`,
    `throughput: ${fmt(points / (wallMs / 1000))} points/s wall clock (lower when other processes share the cores)`,
    `state: ${BYTES_PER_SERIES} bytes/series (slab layout)`,
    gc
      ? `state: ${fmt(measuredBytes / SERIES)} bytes/series (measured: heap + array buffers after allocating the pool)`
      : 'state: run with node --expose-gc for the measured figure',
    `mean score: ${(scoreSum / points).toFixed(4)}`,
  ].join('\n')}\n`,
);
