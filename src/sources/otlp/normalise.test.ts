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

  it('keeps apart the series of two resources named by a conventional id, name or identifier', () => {
    const identity = new SeriesIdentity();
    const nat = (id: string) => ({
      'service.name': 'aws-natgateway',
      'cloud.region': 'eu-west-1',
      'nat_gateway.id': id,
    });
    const [a] = normalise(request(nat('nat-0a1')), identity).observations;
    const [b] = normalise(request(nat('nat-0b2')), identity).observations;
    expect(a!.series).toBe(
      'metric:ingest.rows{cloud.region="eu-west-1",nat_gateway.id="nat-0a1",service.name="aws-natgateway"}',
    );
    expect(b!.series).not.toBe(a!.series);
    expect(a!.label).toBe('ingest.rows of aws-natgateway on nat-0a1');
    const [db] = normalise(
      request({ 'service.name': 'aws-rds', 'db.instance.identifier': 'orders-replica-1' }),
      identity,
    ).observations;
    expect(db!.series).toBe(
      'metric:ingest.rows{db.instance.identifier="orders-replica-1",service.name="aws-rds"}',
    );
  });

  it('leaves out what one instance of a process carries, so a restart continues its series', () => {
    const identity = new SeriesIdentity();
    const pod = (n: string) => ({
      'service.name': 'ingest',
      'k8s.deployment.name': 'ingest',
      'k8s.node.name': 'node-1',
      'k8s.pod.name': `ingest-7d9f-${n}`,
      'k8s.replicaset.name': `ingest-7d9f${n}`,
      'container.id': `c0ffee${n}`,
      'host.id': `i-0${n}`,
      'service.instance.id': n,
      'process.executable.name': 'python3',
      'telemetry.sdk.name': 'opentelemetry',
      'os.name': 'Linux',
      'aws.ecs.task.id': `t${n}`,
      'deployment.id': `d${n}`,
    });
    const [a] = normalise(request(pod('1')), identity).observations;
    const [b] = normalise(request(pod('2')), identity).observations;
    expect(a!.series).toBe(
      'metric:ingest.rows{k8s.deployment.name="ingest",k8s.node.name="node-1",service.name="ingest"}',
    );
    expect(b!.series).toBe(a!.series);
    expect(b!.attributes['k8s.pod.name']).toBe('ingest-7d9f-2');
  });

  it('keeps out of the key what otlp.contextAttributes names', () => {
    const identity = new SeriesIdentity(undefined, ['nat_gateway.id']);
    const [a] = normalise(
      request({ 'service.name': 'nat', 'nat_gateway.id': 'nat-1' }),
      identity,
    ).observations;
    expect(a!.series).toBe('metric:ingest.rows{service.name="nat"}');
    expect(a!.attributes['nat_gateway.id']).toBe('nat-1');
  });

  it('lets at most 8 attributes, of at most 128 characters, join a key by the convention', () => {
    const identity = new SeriesIdentity();
    const resource: Record<string, string> = { 'service.name': 's', 'long.name': 'x'.repeat(129) };
    for (let i = 0; i < 20; i++) resource[`r${String(i).padStart(2, '0')}.id`] = `v${i}`;
    const [a] = normalise(request(resource), identity).observations;
    expect(a!.series).toBe(
      `metric:ingest.rows{${['00', '01', '02', '03', '04', '05', '06', '07'].map((i) => `r${i}.id="v${Number(i)}"`).join(',')},service.name="s"}`,
    );
    expect(a!.attributes['long.name']).toHaveLength(129);
    expect(a!.attributes['r19.id']).toBe('v19');
  });
});
