/**
 * Every log line read: lines/s through Guardian's four log detectors (signatures, new error
 * templates, error bursts, new lines of any level) in one detection engine on one core, and the
 * heap they hold, for the budgeted Loki query that reads every stream's lines, not only errors.
 *
 *   node bench/log-lines.ts [--lines 1000000] [--streams 2000]
 *
 * The lines are synthetic, over an hour of log time: `--streams` streams (services on hosts, at
 * info level), each line a template of its service with fresh ids, numbers and hosts, one in fifty
 * an error line, and a trickle of never-seen templates (one in a thousand) so that the miners
 * create and evict and new lines fire once streams have their history. At the
 * default budget (`sources.loki.linesPerPoll` 20,000 a poll, a poll every 30 s) one poll is 667
 * lines/s; the figure printed says how many times that rate one core takes.
 */
import { parseArgs } from 'node:util';
import { createLogBurstDetector } from '../detectors/log-burst.ts';
import { createLogNewLineDetector } from '../detectors/log-new-line.ts';
import { createLogNewTemplateDetector } from '../detectors/log-new-template.ts';
import { createLogSignatureDetector } from '../detectors/log-signature.ts';
import { entityKey, type LogObservation, ManualClock } from '../src/core/index.ts';
import { DetectionEngine } from '../src/detection/engine.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const { values } = parseArgs({
  options: { lines: { type: 'string', default: '1000000' }, streams: { type: 'string', default: '2000' } },
});
const N = Number(values.lines);
const STREAMS = Number(values.streams);
for (const [name, v] of [
  ['--lines', N],
  ['--streams', STREAMS],
] as const) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} must be a whole number of 1 or more`);
    process.exit(2);
  }
}

const T0 = Date.parse('2026-03-02T00:00:00Z');
/** The lines span an hour of log time, so that streams have history and new lines fire. */
const MS_PER_LINE = 3_600_000 / N;
const SERVICES = ['airflow-worker', 'spark-worker', 'postgresql', 'kubernetes-events', 'lambda'];
const TEMPLATES = [
  (i: number) =>
    `[2026-03-02T01:00:${i % 60}] {dagbag.py:588} INFO - Filling up the DagBag from /opt/dags/d${i}.py`,
  (i: number) => `INFO Worker: Asked to launch executor app-2026${i}/${i % 40} for job ${i}`,
  (i: number) => `LOG:  checkpoint complete: wrote ${i} buffers (0.${i % 9}%); 0 WAL file(s) added`,
  (i: number) => `Pod airflow/airflow-worker-${i % 9}: Started: Started container worker`,
  (i: number) => `START RequestId: ${i.toString(16)}-4b1c Version: $LATEST`,
];
const ERRORS = [
  (i: number) => `ERROR Executor: Exception in task ${i}.0 in stage 3.0 (TID ${i})`,
  (i: number) => `ERROR:  canceling statement due to lock timeout (pid ${i})`,
];
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima'.split(' ');

const labels = Array.from({ length: STREAMS }, (_, s) => {
  const l = { service_name: SERVICES[s % SERVICES.length]!, host: `host-${s}`, level: 'info' };
  return { labels: l, stream: entityKey.logStream(l), errors: { ...l, level: 'error' } };
});

function line(i: number): LogObservation {
  const s = labels[i % STREAMS]!;
  const time = T0 + Math.floor(i * MS_PER_LINE);
  if (i % 50 === 7) {
    const l = s.errors;
    return { type: 'log', stream: entityKey.logStream(l), labels: l, time, line: ERRORS[i % 2]!(i) };
  }
  const text =
    i % 1000 === 3
      ? `${WORDS[i % 12]} ${WORDS[(i >> 4) % 12]} ${WORDS[(i >> 8) % 12]} rebalanced ${WORDS[(i >> 12) % 12]}`
      : TEMPLATES[((i / STREAMS) % TEMPLATES.length) | 0]!(i);
  return { type: 'log', stream: s.stream, labels: s.labels, time, line: text };
}

const clock = new ManualClock(T0);
let signals = 0;
const engine = new DetectionEngine({
  detectors: [
    createLogSignatureDetector(),
    createLogNewTemplateDetector(),
    createLogBurstDetector(),
    createLogNewLineDetector(),
  ],
  clock,
  onSignal: () => signals++,
  logger: silentLogger(),
  tickMs: 5000,
});
engine.start();

const BATCH = 1000;
const batch: LogObservation[] = new Array(BATCH);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < N; i += BATCH) {
  const n = Math.min(BATCH, N - i);
  for (let j = 0; j < n; j++) batch[j] = line(i + j);
  engine.ingest(n === BATCH ? batch : batch.slice(0, n));
  if (i % 10_000 === 0) await clock.advanceTo(T0 + Math.floor(i * MS_PER_LINE));
}
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
const rate = (ms: number) => Math.round(N / (ms / 1000)).toLocaleString('en-US');
console.log(
  `${N.toLocaleString('en-US')} lines over ${STREAMS.toLocaleString('en-US')} streams (1 in 50 an error line)`,
);
console.log(`  ${rate(cpuMs)} lines/s on one core (CPU time), ${rate(wallMs)} lines/s wall`);
console.log(
  `  ${(N / (cpuMs / 1000) / (20_000 / 30)).toFixed(0)} × the rate of the default budget (20,000 lines a 30 s poll: 667 lines/s)`,
);
console.log(`  signals ${signals}, detector state ${JSON.stringify(engine.sizes())}`);
console.log(`  heap used ${mb(process.memoryUsage().heapUsed)}, RSS ${mb(process.memoryUsage().rss)}`);
engine.stop();
