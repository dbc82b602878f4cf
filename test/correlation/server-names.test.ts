import { describe, expect, it, vi } from 'vitest';
import type { EntityKey, Signal } from '../../src/core/index.ts';
import { DEPARTED_AT, DEPARTURE } from '../../src/correlation/resources.ts';
import { correlate, MIN, T0, tryState, useEmbeddedDynamo } from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * A server's own series carries its short name or its id (`cache_cluster.id="airflow-broker-002"`)
 * while the failures print its fully qualified name: the failures still meet the series, end to
 * end through the real task detector, correlator and store.
 */

const endpoint = useEmbeddedDynamo();

const FQDN = 'airflow-broker-002.1e07c5.0001.euw1.cache.amazonaws.com';

function memory(cluster: string): Signal {
  const departed = T0 + 2 * MIN;
  return {
    fingerprint: `anom-${cluster}`,
    kind: 'metric.anomaly',
    status: 'firing',
    entity:
      `metric:aws.elasticache.database_memory_usage_percentage{cache_cluster.id="${cluster}",service.name="aws-elasticache"}` as EntityKey,
    related: [],
    time: departed + MIN,
    severity: 'high',
    title: `memory used of ${cluster} rose to 100 %`,
    evidence: [
      { kind: 'value', label: 'observed', value: 100, unit: '%' },
      { kind: 'text', label: DEPARTED_AT, text: new Date(departed).toISOString() },
      { kind: 'text', label: DEPARTURE, text: 'rise' },
    ],
    detector: 'metric-anomaly',
  };
}

const log = [
  '[2026-03-02T02:05:00.000+0000] {task_runner.py:1084} ERROR - Task failed with exception',
  'Traceback (most recent call last):',
  '  File "/opt/airflow/plugins/lakehouse/operators/publish.py", line 31, in execute',
  `redis.exceptions.OutOfMemoryError: command not allowed when used memory > 'maxmemory'. (${FQDN}:6379)`,
].join('\n');

const failures = () => [
  tryState('orders_daily', 'publish', 'up_for_retry', 5, 'airflow-worker-1', { log: [log] }),
  tryState('claims_daily', 'publish', 'up_for_retry', 6, 'airflow-worker-2', { log: [log] }),
];

describe('failures naming a server by its fully qualified name', () => {
  it('meet the series that names it by its id, which is their root cause', async () => {
    const open = await correlate(endpoint(), failures(), { extra: [memory('airflow-broker-002')] });
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause?.entity).toBe(memory('airflow-broker-002').entity);
  });

  it('do not meet the series of another server', async () => {
    const open = await correlate(endpoint(), failures(), { extra: [memory('airflow-broker-005')] });
    const held = open.find((i) => i.signals.some((s) => s.kind === 'metric.anomaly'));
    expect(held?.signals.some((s) => s.kind !== 'metric.anomaly')).toBe(false);
  });
});
