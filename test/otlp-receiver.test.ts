import { gzipSync } from 'node:zlib';
import { OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MetricObservation } from '../src/core/index.ts';
import { otlpReceiver } from '../src/sources/otlp/receiver.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../src/telemetry/metrics.ts';
import { gaugeRequest } from './support/protobuf-writer.ts';

const NANOS = 1_772_416_800_000_000_000n;

/** Decodes a google.rpc.Status protobuf (code = 1, message = 2) to check error bodies. */
function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  let i = 0;
  let code = 0;
  let message = '';
  while (i < bytes.length) {
    const tag = bytes[i++]!;
    if (tag === 0x08) code = bytes[i++]!;
    else if (tag === 0x12) {
      const len = bytes[i++]!;
      message = Buffer.from(bytes.subarray(i, i + len)).toString('utf8');
      i += len;
    } else throw new Error(`unexpected tag ${tag}`);
  }
  return { code, message };
}

/**
 * The receiver on a real loopback port, driven by the real OpenTelemetry JS exporters (protobuf
 * and JSON, plain and gzip) and by hand-made bad requests.
 */
describe('OTLP/HTTP metrics receiver', () => {
  let app: FastifyInstance;
  let url: string;
  let received: MetricObservation[] = [];
  let saturated = false;
  let unavailable = false;

  beforeAll(async () => {
    app = Fastify();
    await app.register(otlpReceiver, {
      sink: (obs) => received.push(...obs),
      isSaturated: () => ({ saturated, unavailable, retryAfterSeconds: 7 }),
      maxBodyBytes: 64 * 1024,
      metrics: createGuardianMetrics(),
      logger: silentLogger(),
    });
    // The rest of the app keeps its JSON parser: the receiver's raw parsers are encapsulated.
    app.post('/echo', async (req) => req.body);
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app?.close());
  beforeEach(() => {
    received = [];
    saturated = false;
    unavailable = false;
  });

  async function exportWith(exporter: PushMetricExporter) {
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      readers: [reader],
      resource: resourceFromAttributes({ 'service.name': 'spark-worker', 'host.name': '10.0.3.17' }),
    });
    const meter = provider.getMeter('test');
    meter
      .createObservableGauge('system.memory.utilization', { unit: '1' })
      .addCallback((r) => r.observe(0.75, { state: 'used' }));
    meter.createCounter('jobs.failed').add(3, { app: 'a1' });
    meter.createUpDownCounter('executors.active').add(-2);
    const h = meter.createHistogram('task.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [1, 10] },
    });
    h.record(0.5);
    h.record(4);
    h.record(30);
    await reader.forceFlush();
    await provider.shutdown();
  }

  const exporters = {
    'protobuf exporter': () => new ProtoExporter({ url: `${url}/v1/metrics` }),
    'protobuf exporter with gzip': () =>
      new ProtoExporter({ url: `${url}/v1/metrics`, compression: 'gzip' as never }),
    'JSON exporter': () => new HttpJsonExporter({ url: `${url}/v1/metrics` }),
    'JSON exporter with gzip': () =>
      new HttpJsonExporter({ url: `${url}/v1/metrics`, compression: 'gzip' as never }),
  };

  it.each(Object.keys(exporters))('takes what the %s sends', async (name) => {
    await exportWith(exporters[name as keyof typeof exporters]());
    const byName = Object.fromEntries(received.map((o) => [o.name, o]));
    expect(Object.keys(byName).sort()).toEqual([
      'executors.active',
      'jobs.failed',
      'system.memory.utilization',
      'task.duration',
    ]);
    expect(byName['system.memory.utilization']).toMatchObject({
      series:
        'metric:system.memory.utilization{host.name="10.0.3.17",service.name="spark-worker",state="used"}',
      value: 0.75,
      metricType: 'gauge',
      unit: '1',
    });
    expect(byName['jobs.failed']).toMatchObject({
      value: 3,
      metricType: 'sum',
      monotonic: true,
      temporality: 'cumulative',
    });
    expect(byName['jobs.failed']!.attributes).toMatchObject({ app: 'a1', 'host.name': '10.0.3.17' });
    expect(byName['executors.active']).toMatchObject({ value: -2, metricType: 'sum', monotonic: false });
    expect(byName['task.duration']).toMatchObject({
      metricType: 'histogram',
      histogram: { count: 3, sum: 34.5, min: 0.5, max: 30, explicitBounds: [1, 10], bucketCounts: [1, 1, 1] },
    });
    expect(Math.abs(byName['task.duration']!.time - Date.now())).toBeLessThan(60_000);
  });

  const post = (body: Uint8Array | string, headers: Record<string, string>) =>
    fetch(`${url}/v1/metrics`, { method: 'POST', headers, body: body as RequestInit['body'] });

  it('answers a partly bad protobuf request with partial_success and keeps the valid points', async () => {
    const res = await post(
      gaugeRequest('m', [
        { nanos: NANOS, value: 1 },
        { nanos: 0n, value: 2 },
        { nanos: NANOS, value: 3 },
      ]),
      { 'content-type': 'application/x-protobuf' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-protobuf/);
    const body = new Uint8Array(await res.arrayBuffer());
    // partial_success { rejected_data_points: 1, error_message: … }
    expect(body[0]).toBe(0x0a);
    expect(body[2]).toBe(0x08);
    expect(body[3]).toBe(1);
    expect(Buffer.from(body).toString('utf8')).toContain('without time_unix_nano');
    expect(received.map((o) => o.value)).toEqual([1, 3]);
  });

  it('answers a partly bad JSON request with partialSuccess in JSON', async () => {
    const res = await post(
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'm',
                    gauge: { dataPoints: [{ timeUnixNano: String(NANOS), asDouble: 1 }, { asDouble: 2 }] },
                  },
                ],
              },
            ],
          },
        ],
      }),
      { 'content-type': 'application/json' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({
      partialSuccess: { rejectedDataPoints: '1', errorMessage: 'm: data point without time_unix_nano' },
    });
    expect(received).toHaveLength(1);
  });

  it('answers an empty success for a fully valid request', async () => {
    const res = await post(gaugeRequest('m', [{ nanos: NANOS, value: 1 }]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 400 with a protobuf Status for a malformed protobuf body', async () => {
    const res = await post(Uint8Array.from([0x0a, 0x7f, 0x01, 0x02]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(400);
    const status = decodeStatus(new Uint8Array(await res.arrayBuffer()));
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/runs past the end/);
  });

  it('answers 400 with a JSON Status for bad JSON', async () => {
    const res = await post('{"resourceMetrics": [', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 3, message: expect.stringMatching(/not JSON/) });
  });

  it('answers 400 for a corrupt gzip body', async () => {
    const gz = gzipSync(Buffer.from(gaugeRequest('m', [{ nanos: NANOS, value: 1 }])));
    gz[gz.length - 6] = gz[gz.length - 6]! ^ 0xff; // break the CRC
    const res = await post(gz.subarray(0, gz.length), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(400);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(/gzip/);
  });

  it('answers 413 for a body over the limit, raw or after decompression', async () => {
    const big = new Uint8Array(100 * 1024);
    const raw = await post(big, { 'content-type': 'application/x-protobuf' });
    expect(raw.status).toBe(413);
    expect(decodeStatus(new Uint8Array(await raw.arrayBuffer())).code).toBe(8);
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024)); // ~10 KB that inflates to 10 MB
    expect(bomb.length).toBeLessThan(64 * 1024);
    const inflated = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(inflated.status).toBe(413);
    expect(await inflated.json()).toMatchObject({ message: expect.stringMatching(/after decompression/) });
  });

  it('answers 415 for other content types and encodings', async () => {
    const res = await post('hello', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ message: expect.stringMatching(/content-type/) });
    const br = await post('x', { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(br.status).toBe(415);
  });

  it('answers 429 with Retry-After when the pipeline is saturated, and takes nothing', async () => {
    saturated = true;
    const res = await post(gaugeRequest('m', [{ nanos: NANOS, value: 1 }]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).code).toBe(14);
    expect(received).toEqual([]);
  });

  it('answers 503 with Retry-After when signals cannot be queued, and takes nothing', async () => {
    unavailable = true;
    const res = await post(gaugeRequest('m', [{ nanos: NANOS, value: 1 }]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).code).toBe(14);
    expect(received).toEqual([]);
  });

  it('leaves the rest of the app its normal JSON parsing', async () => {
    const res = await fetch(`${url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await res.json()).toEqual({ a: 1 });
  });
});
