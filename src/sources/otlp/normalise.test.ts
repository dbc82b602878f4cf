import { describe, expect, it } from 'vitest';
import type { DecodedRequest } from './decoded.ts';
import { normalise, SeriesIdentity } from './normalise.ts';

const request = (resource: Record<string, string>, point: Record<string, string> = {}): DecodedRequest => ({
  resourceMetrics: [
    {
      attributes: resource,
      metrics: [
        {
          name: 'ingest.rows',
          unit: '{row}',
          kind: 'sum',
          temporality: 2,
          monotonic: true,
          numberPoints: [{ attributes: point, startMs: 1, timeMs: 1000, value: 5, flags: 0 }],
          histogramPoints: [],
          otherPoints: 0,
        },
      ],
    },
  ],
});

const lambda = (instance: string, pid: string) => ({
  'service.name': 'lambda-ingestion',
  'service.instance.id': instance,
  'telemetry.sdk.language': 'python',
  'telemetry.sdk.version': '1.45.2',
  'process.pid': pid,
  'cloud.region': 'eu-west-1',
});

describe('series identity', () => {
  it('keeps service.instance.id, telemetry.* and process.pid out of the key, and in the attributes', () => {
    const identity = new SeriesIdentity();
    const [a] = normalise(
      request(lambda('0b7c…-1', '101'), { source: 'web-vitals-crm' }),
      identity,
    ).observations;
    const [b] = normalise(
      request(lambda('9f2e…-2', '202'), { source: 'web-vitals-crm' }),
      identity,
    ).observations;
    expect(a!.series).toBe(
      'metric:ingest.rows{cloud.region="eu-west-1",service.name="lambda-ingestion",source="web-vitals-crm"}',
    );
    expect(b!.series).toBe(a!.series);
    expect(b!.attributes['service.instance.id']).toBe('9f2e…-2');
    expect(a!.label).toBe('ingest.rows of lambda-ingestion on web-vitals-crm');
  });

  it('keeps series of different hosts, functions and point attributes apart', () => {
    const identity = new SeriesIdentity();
    const keys = [
      request({ 'service.name': 's', 'host.name': 'a' }),
      request({ 'service.name': 's', 'host.name': 'b' }),
      request({ 'service.name': 's', 'faas.name': 'f' }),
      request({ 'service.name': 's', 'host.name': 'a' }, { source: 'x' }),
    ].map((r) => normalise(r, identity).observations[0]!.series);
    expect(new Set(keys).size).toBe(4);
  });

  it('uses the configured identifying attributes instead of the defaults', () => {
    const identity = new SeriesIdentity(['service.name', 'service.instance.id']);
    const [a] = normalise(request(lambda('i-1', '1')), identity).observations;
    expect(a!.series).toBe('metric:ingest.rows{service.instance.id="i-1",service.name="lambda-ingestion"}');
  });

  it('names a series in at most 72 characters', () => {
    const [a] = normalise(
      request({ 'service.name': 's'.repeat(40), 'host.name': 'h'.repeat(60) }),
      new SeriesIdentity(),
    ).observations;
    expect(a!.label!.length).toBeLessThanOrEqual(72);
    expect(a!.label!.endsWith('…')).toBe(true);
  });
});
