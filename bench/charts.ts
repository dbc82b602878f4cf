/**
 * Charts benchmark: what keeping every series' recent points costs per observation, the memory of
 * a full history, and how long one chart takes to render to PNG (on the event loop, once per
 * metric incident).
 *
 *   node --expose-gc bench/charts.ts [--series 20000] [--points 5000000]
 */
import { parseArgs } from 'node:util';
import { chartPng } from '../src/charts/png.ts';
import { SeriesHistory } from '../src/charts/series-history.ts';

const { values } = parseArgs({
  options: { series: { type: 'string', default: '20000' }, points: { type: 'string', default: '5000000' } },
});
const SERIES = Number(values.series);
const POINTS = Number(values.points);
const gc = (globalThis as { gc?: () => void }).gc;

const names = Array.from(
  { length: SERIES * 2 },
  (_, i) => `metric:bench.value{host.name="h${i % 50}",i="${i}"}`,
);
gc?.();
const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
const history = new SeriesHistory({ maxSeries: SERIES });
const t0 = Date.parse('2026-03-02T00:00:00Z');
let start = performance.now();
// Steady state: SERIES series reporting in turn.
for (let i = 0; i < POINTS; i++) history.record(names[i % SERIES]!, t0 + Math.floor(i / SERIES) * 10_000, i);
const steady = POINTS / ((performance.now() - start) / 1000);
gc?.();
const bytes = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
// A flood: as many new one-point series again, each evicting one.
start = performance.now();
for (let i = SERIES; i < SERIES * 2; i++) history.record(names[i]!, t0 + 1e9, i);
const flood = SERIES / ((performance.now() - start) / 1000);

const spec = {
  title: 'bench.value of bench on h1',
  points: Array.from({ length: 120 }, (_, i) => ({
    t: t0 + i * 30_000,
    v: Math.sin(i / 7) + (i > 90 ? 3 : 0),
  })),
  threshold: { value: 2, op: '>' },
  firedAt: t0 + 91 * 30_000,
};
chartPng(spec);
start = performance.now();
const RENDERS = 20;
let png = 0;
for (let i = 0; i < RENDERS; i++) png = chartPng(spec).length;
const renderMs = (performance.now() - start) / RENDERS;

console.log(`series history, ${SERIES} series x 120 points:`);
console.log(`  steady state   ${(steady / 1e6).toFixed(2)} M points/s`);
console.log(`  new series     ${(flood / 1e6).toFixed(2)} M series/s (each evicts one)`);
console.log(
  `  memory         ${gc ? `${Math.round(bytes / SERIES)} bytes/series` : 'run with --expose-gc'} (${history.size} series)`,
);
console.log(`chart PNG        ${renderMs.toFixed(1)} ms each, ${png} bytes`);
