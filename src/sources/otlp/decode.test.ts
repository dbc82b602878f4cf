import { describe, expect, it } from 'vitest';
import { gaugeRequest, kv, ProtoWriter } from '../../../test/support/protobuf-writer.ts';
import { decodeMetricsRequestJson } from './decode-json.ts';
import { decodeMetricsRequest, encodeMetricsResponse, encodeStatus } from './decode-protobuf.ts';
import { MalformedOtlpError, nanosPartsToMs } from './decoded.ts';
import { normalise } from './normalise.ts';

const NANOS = 1_772_416_800_123_456_789n; // 2026-03-02T02:00:00.123456789Z

describe('protobuf decoding', () => {
  it('decodes a gauge with resource and point attributes, exact to the millisecond', () => {
    const bytes = gaugeRequest(
      'system.memory.utilization',
      [{ nanos: NANOS, value: 0.42, attrs: { state: 'used' } }],
      {
        'service.name': 'spark-worker',
        'host.name': '10.0.3.17',
      },
    );
    const batch = normalise(decodeMetricsRequest(bytes));
    expect(batch.observations).toEqual([
      {
        type: 'metric',
        series:
          'metric:system.memory.utilization{host.name="10.0.3.17",service.name="spark-worker",state="used"}',
        name: 'system.memory.utilization',
        label: 'system.memory.utilization of spark-worker on used, 10.0.3.17',
        attributes: { 'service.name': 'spark-worker', 'host.name': '10.0.3.17', state: 'used' },
        time: Date.parse('2026-03-02T02:00:00.123Z'),
        value: 0.42,
        metricType: 'gauge',
        unit: '',
      },
    ]);
  });

  it('turns every AnyValue kind into a string attribute', () => {
    const bytes = new ProtoWriter()
      .message(1, (rm) =>
        rm.message(2, (sm) =>
          sm.message(2, (m) =>
            m.string(1, 'm').message(5, (g) =>
              g.message(1, (dp) =>
                dp
                  .message(7, (a) => a.string(1, 'b').message(2, (v) => v.varint(2, 1)))
                  .message(7, (a) => a.string(1, 'i').message(2, (v) => v.varint(3, -3n)))
                  .message(7, (a) => a.string(1, 'd').message(2, (v) => v.double(4, 1.5)))
                  .message(7, (a) =>
                    a
                      .string(1, 'arr')
                      .message(2, (v) => v.message(5, (arr) => arr.message(1, (x) => x.string(1, 'x')))),
                  )
                  .message(7, (a) =>
                    a.string(1, 'map').message(2, (v) => v.message(6, (l) => l.message(1, kv('k', 'v')))),
                  )
                  .message(7, (a) => a.string(1, 'by').message(2, (v) => v.bytes(7, Uint8Array.from([1, 2]))))
                  .message(7, (a) => a.string(1, 's').message(2, (v) => v.string(1, 'first').varint(2, 0)))
                  .fixed64(3, NANOS)
                  .double(4, 1),
              ),
            ),
          ),
        ),
      )
      .finish();
    const [obs] = normalise(decodeMetricsRequest(bytes)).observations;
    expect(obs!.attributes).toEqual({
      b: 'true',
      i: '-3',
      d: '1.5',
      arr: '["x"]',
      map: '{"k":"v"}',
      by: 'AQI=',
      s: 'false',
    });
  });

  it('converts uint64 nanoseconds to milliseconds exactly, far beyond 2^53', () => {
    for (const nanos of [0n, 999_999n, 1_000_000n, NANOS, 18_446_744_073_709_551_615n]) {
      const hi = Number(nanos >> 32n);
      const lo = Number(nanos & 0xffffffffn);
      expect(nanosPartsToMs(hi, lo)).toBe(Number(nanos / 1_000_000n));
    }
  });

  it('reads as_int (sfixed64), negative values, sums with temporality, and skips unknown fields', () => {
    const bytes = new ProtoWriter()
      .string(99, 'unknown top-level field')
      .message(1, (rm) =>
        rm.string(3, 'https://schema').message(2, (sm) =>
          sm
            .message(1, (scope) => scope.string(1, 'my.scope'))
            .message(2, (m) =>
              m
                .string(1, 'jobs.failed')
                .string(2, 'description')
                .string(3, '{job}')
                .varint(42, 7) // unknown varint field
                .message(7, (sum) =>
                  sum
                    .message(1, (dp) =>
                      dp
                        .fixed64(2, NANOS - 60_000_000_000n)
                        .fixed64(3, NANOS)
                        .fixed64(6, -5n)
                        .varint(50, 1),
                    )
                    .varint(2, 2)
                    .varint(3, 1),
                ),
            ),
        ),
      )
      .finish();
    const [obs] = normalise(decodeMetricsRequest(bytes)).observations;
    expect(obs).toMatchObject({
      name: 'jobs.failed',
      unit: '{job}',
      value: -5,
      metricType: 'sum',
      temporality: 'cumulative',
      monotonic: true,
      startTime: Date.parse('2026-03-02T01:59:00.123Z'),
    });
  });

  it('decodes histograms with packed and unpacked repeated fields alike', () => {
    const histogram = (packed: boolean) =>
      new ProtoWriter()
        .message(1, (rm) =>
          rm.message(2, (sm) =>
            sm.message(2, (m) =>
              m.string(1, 'latency').message(9, (h) =>
                h
                  .message(1, (dp) => {
                    dp.message(9, kv('route', '/a'))
                      .fixed64(3, NANOS)
                      .fixed64(4, 10n)
                      .double(5, 25)
                      .double(11, 1)
                      .double(12, 9);
                    if (packed) dp.packedFixed64(6, [3n, 5n, 2n]).packedDouble(7, [1, 5]);
                    else dp.fixed64(6, 3n).fixed64(6, 5n).fixed64(6, 2n).double(7, 1).double(7, 5);
                  })
                  .varint(2, 1),
              ),
            ),
          ),
        )
        .finish();
    for (const packed of [true, false]) {
      const [obs] = normalise(decodeMetricsRequest(histogram(packed))).observations;
      expect(obs).toMatchObject({
        metricType: 'histogram',
        value: 2.5,
        temporality: 'delta',
        histogram: { count: 10, sum: 25, min: 1, max: 9, bucketCounts: [3, 5, 2], explicitBounds: [1, 5] },
      });
    }
  });

  it('counts exponential histograms and summaries without making observations', () => {
    const bytes = new ProtoWriter()
      .message(1, (rm) =>
        rm.message(2, (sm) =>
          sm
            .message(2, (m) =>
              m
                .string(1, 'exp')
                .message(10, (e) => e.message(1, (dp) => dp.fixed64(3, NANOS)).message(1, () => {})),
            )
            .message(2, (m) =>
              m.string(1, 'sum').message(11, (s) => s.message(1, (dp) => dp.fixed64(3, NANOS))),
            ),
        ),
      )
      .finish();
    const batch = normalise(decodeMetricsRequest(bytes));
    expect(batch.observations).toEqual([]);
    expect(batch.rejected).toBe(0);
    expect(batch.skipped).toEqual({ exponential_histogram: 2, summary: 1 });
  });

  it('rejects unusable points one by one and keeps the rest', () => {
    const bytes = gaugeRequest('m', [
      { nanos: NANOS, value: 1 },
      { nanos: 0n, value: 2 },
      { nanos: NANOS },
      { nanos: NANOS, value: Number.NaN },
      { nanos: NANOS, value: 5 },
    ]);
    const batch = normalise(decodeMetricsRequest(bytes));
    expect(batch.observations.map((o) => o.value)).toEqual([1, 5]);
    expect(batch.rejected).toBe(3);
    expect(batch.errors).toEqual([
      'm: data point without time_unix_nano',
      'm: data point without a finite value',
    ]);
  });

  it.each([
    ['a truncated message', gaugeRequest('m', [{ nanos: NANOS, value: 1 }]).slice(0, 20)],
    ['a length past the end', Uint8Array.from([0x0a, 0x7f, 0x01])],
    ['an unterminated varint', Uint8Array.from([0x08, 0xff, 0xff])],
    ['a deprecated group wire type', Uint8Array.from([0x0b])],
  ])('throws MalformedOtlpError on %s', (_name, bytes) => {
    expect(() => decodeMetricsRequest(bytes)).toThrow(MalformedOtlpError);
  });

  it('encodes partial success and Status messages', () => {
    expect(encodeMetricsResponse(0, '')).toEqual(new Uint8Array(0));
    expect([...encodeMetricsResponse(3, 'no')]).toEqual([0x0a, 0x06, 0x08, 0x03, 0x12, 0x02, 0x6e, 0x6f]);
    expect([...encodeStatus(3, 'bad')]).toEqual([0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]);
  });
});

describe('JSON decoding', () => {
  const json = (points: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      resourceMetrics: [
        {
          resource: {
            attributes: [
              { key: 'host.name', value: { stringValue: 'h1' } },
              { key: 'n', value: { intValue: '7' } },
            ],
          },
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'm',
                  unit: '1',
                  sum: { dataPoints: points, aggregationTemporality: 2, isMonotonic: true },
                  ...extra,
                },
              ],
            },
          ],
        },
      ],
      somethingNew: true,
    });

  it('accepts 64-bit integers as strings or numbers and ignores unknown fields', () => {
    const batch = normalise(
      decodeMetricsRequestJson(
        json([
          { timeUnixNano: NANOS.toString(), asInt: '42', unknownField: 1 },
          { timeUnixNano: 1_772_416_800_000_000_000, asDouble: 1.5 },
        ]),
      ),
    );
    expect(batch.observations.map((o) => [o.time, o.value])).toEqual([
      [Date.parse('2026-03-02T02:00:00.123Z'), 42],
      [Date.parse('2026-03-02T02:00:00.000Z'), 1.5],
    ]);
    expect(batch.observations[0]!.attributes).toEqual({ 'host.name': 'h1', n: '7' });
    expect(batch.observations[0]).toMatchObject({ temporality: 'cumulative', monotonic: true });
  });

  it('rejects a point whose value is not a number', () => {
    const batch = normalise(
      decodeMetricsRequestJson(json([{ timeUnixNano: NANOS.toString(), asDouble: 'lots' }])),
    );
    expect(batch.rejected).toBe(1);
  });

  it.each([
    ['not JSON', '{'],
    ['resourceMetrics not a list', '{"resourceMetrics":{}}'],
    ['a metric that is not an object', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[1]}]}]}'],
  ])('throws MalformedOtlpError on %s', (_name, text) => {
    expect(() => decodeMetricsRequestJson(text)).toThrow(MalformedOtlpError);
  });
});
