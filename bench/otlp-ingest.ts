/**
 * OTLP ingest benchmark: the raw protobuf decode rate of Guardian's decoder, and Guardian's
 * end-to-end ingest rate (HTTP over loopback + decode + normalise + detection), in data points
 * per second, measured in one run, with their ratio. The load comes from a worker thread so it
 * does not share the server's event loop.
 *
 *   node bench/otlp-ingest.ts [--seconds 10] [--concurrency 4]
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { createStalenessDetector } from '../detectors/metric-staleness.ts';
import { createThresholdDetector } from '../detectors/metric-threshold.ts';
import { stalenessRuleSchema, thresholdRuleSchema } from '../src/config/schema.ts';
import { systemClock } from '../src/core/index.ts';
import { DetectionEngine } from '../src/detection/engine.ts';
import { decodeMetricsRequest } from '../src/sources/otlp/decode-protobuf.ts';
import { otlpReceiver } from '../src/sources/otlp/receiver.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../src/telemetry/metrics.ts';
import { collectorPayload } from './otlp-payload.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '4' } },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const { bytes, points } = collectorPayload({
  hosts: 100,
  pointsPerSeries: 5,
  startNanos: 1_772_416_800_000_000_000n,
});
console.log(`payload: ${points} data points, ${(bytes.length / 1024).toFixed(0)} KiB of protobuf`);

// 1. Raw decode: the median of one-second rounds (GC pauses make single rounds noisy).
for (let i = 0; i < 100; i++) decodeMetricsRequest(bytes); // warm-up
const rounds: number[] = [];
for (let round = 0; round < Math.max(3, Math.min(7, seconds)); round++) {
  let decoded = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) {
    decodeMetricsRequest(bytes);
    decoded += points;
  }
  rounds.push(decoded / ((performance.now() - start) / 1000));
}
rounds.sort((a, b) => a - b);
const decodeRate = rounds[Math.floor(rounds.length / 2)]!;

// 2. End to end: the receiver feeding a real detection engine with rules that match some series.
const signals: unknown[] = [];
const engine = new DetectionEngine({
  detectors: [
    createThresholdDetector([
      thresholdRuleSchema.parse({
        id: 'memory',
        metric: 'system.memory.utilization',
        match: { state: 'used' },
        op: '>',
        value: 0.99,
      }),
      thresholdRuleSchema.parse({
        id: 'cpu',
        metric: 'system.cpu.utilization',
        match: { state: { regex: 'user|system' } },
        op: '>',
        value: 0.995,
      }),
    ]),
    createStalenessDetector([stalenessRuleSchema.parse({ id: 'net', metric: 'system.network.io' })]),
  ],
  clock: systemClock,
  logger: silentLogger(),
  onSignal: (s) => signals.push(s),
});
const app = Fastify();
let ingested = 0;
await app.register(otlpReceiver, {
  sink: (obs) => {
    ingested += obs.length;
    engine.ingest(obs);
  },
  isSaturated: () => ({ saturated: false, retryAfterSeconds: 1 }),
  metrics: createGuardianMetrics(),
  logger: silentLogger(),
});
const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/metrics`;

const result = await new Promise<{ requests: number; failures: number; elapsedMs: number }>(
  (resolve, reject) => {
    const worker = new Worker(new URL('./otlp-load-worker.ts', import.meta.url), {
      workerData: { url, payload: bytes, seconds, concurrency },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
  },
);
await app.close();
const endToEndRate = ingested / (result.elapsedMs / 1000);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`raw protobuf decode:  ${fmt(decodeRate)} points/s`);
console.log(
  `end-to-end ingest:    ${fmt(endToEndRate)} points/s (${result.requests} requests, ${result.failures} failed, ${concurrency} concurrent, HTTP + decode + normalise + detection)`,
);
console.log(`ratio end-to-end / raw decode: ${(endToEndRate / decodeRate).toFixed(2)} (goal ≥ 0.30)`);
console.log(`detector state: ${JSON.stringify(engine.sizes())}, signals: ${signals.length}`);
