import { describe, expect, it, vi } from 'vitest';
import type { Incident, Signal, StateObservation } from '../../src/core/index.ts';
import {
  correlate,
  diskDeparted as diskDepartedOn,
  MIN,
  T0,
  tryState,
  useEmbeddedDynamo,
} from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * The machine that served what failures used, end to end: the Spark source's placement of the
 * Connect endpoint (its driver's host) and Airflow tries that used the endpoint → the real task
 * detector → the real correlator and store. The driver host's own evidence that began before the
 * failures ties them to it and names it; evidence that began after them, or a host that served
 * nothing, does not.
 */

const endpoint = useEmbeddedDynamo();

const CONNECT = 'sc://spark-connect.internal:15002';
const DRIVER = '10.0.1.12';

/** The Spark source saying where the Connect endpoint is served from (its driver's host). */
const placement = (host: string): StateObservation => ({
  type: 'state',
  entity: `spark:connect:${CONNECT}`,
  related: [`host:${host}`],
  from: null,
  to: `host:${host}`,
  time: T0,
  details: { servedFrom: host },
});

/** A statement sent to Spark Connect that failed while the driver stored a broadcast. */
const BROADCAST_FAILED = [
  `[2026-03-02T02:05:00.000+0000] {spark_sql.py:58} INFO - Connecting to Spark Connect at ${CONNECT} (user_id=airflow)`,
  '[2026-03-02T02:05:30.000+0000] {task_runner.py:1084} ERROR - Task failed with exception',
  'Traceback (most recent call last):',
  '  File "/opt/airflow/plugins/lakehouse/operators/spark_sql.py", line 117, in _run',
  '    spark.sql(statement).collect()',
  'pyspark.errors.exceptions.connect.SparkException: Failed to store broadcast_40421_piece0 of broadcast_40421 in local BlockManager',
].join('\n');

/** Failed tries of three DAGs that used the endpoint, at minutes 6 to 8, on different workers. */
const failures = () => [
  tryState('carriers', 'silver', 'up_for_retry', 6, 'airflow-worker-2', { log: [BROADCAST_FAILED] }),
  tryState('devices', 'silver', 'up_for_retry', 7, 'airflow-worker-4', { log: [BROADCAST_FAILED] }),
  tryState('refunds', 'gold', 'up_for_retry', 8, 'airflow-worker-1', { log: [BROADCAST_FAILED] }),
];

/** The filesystem series of `host` departing at `minute` (seen a point later). */
const diskDeparted = (host: string, minute: number): Signal =>
  diskDepartedOn(host, minute, 'mountpoint="/"', `fp-disk-${host}-${minute}`);

/** The driver's own error stream saying its disk is full (a machine-local class) at `minute`. */
function diskFullLine(host: string, minute: number): Signal {
  return {
    fingerprint: `fp-log-${host}-${minute}`,
    kind: 'log.burst',
    entity: `log:{host="${host}",level="error",service_name="spark-driver"}`,
    status: 'firing',
    related: [`host:${host}`],
    time: T0 + minute * MIN,
    severity: 'high',
    errorClass: 'disk_full',
    title: `spark-driver@${host}: java.io.IOException: No space left on device`,
    evidence: [],
    detector: 'test',
  };
}

const holding = (open: Incident[], entity: string) =>
  open.filter((i) => i.signals.some((s) => s.entity === entity));

describe('the machine that served what failures used', () => {
  it('ties failures to the driver host whose disk departed before them, and names it', async () => {
    const disk = diskDeparted(DRIVER, 4);
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [disk] });
    const withDisk = holding(open, disk.entity);
    expect(withDisk).toHaveLength(1);
    const incident = withDisk[0]!;
    expect(incident.signals.filter((s) => s.kind === 'airflow.task_retry')).toHaveLength(3);
    expect(incident.rootCause?.entity).toBe(`host:${DRIVER}`);
    expect((incident.rootCause?.chain ?? []).filter((l) => l.edge === 'served_from')).toHaveLength(3);
    expect(incident.quiet).toBe(false);
  });

  it('takes the host’s own line saying its disk is full for its evidence too', async () => {
    const line = diskFullLine(DRIVER, 5);
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [line] });
    const withLine = holding(open, line.entity);
    expect(withLine).toHaveLength(1);
    expect(withLine[0]!.signals.filter((s) => s.kind === 'airflow.task_retry')).toHaveLength(3);
    expect(withLine[0]!.rootCause?.entity).toBe(`host:${DRIVER}`);
  });

  it('leaves a departure that began after the failures apart: an effect, not their cause', async () => {
    const disk = diskDeparted(DRIVER, 20);
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [disk] });
    const withDisk = holding(open, disk.entity);
    expect(withDisk).toHaveLength(1);
    expect(withDisk[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
    const failed = open.filter((i) => i.signals.some((s) => s.kind === 'airflow.task_retry'));
    for (const i of failed) expect(i.rootCause?.entity).not.toBe(`host:${DRIVER}`);
  });

  it('does not take a series of the host that fell for its evidence (less getting through)', async () => {
    const fell: Signal = {
      ...diskDeparted(DRIVER, 4),
      entity: `metric:spark.executors.active{host.name="${DRIVER}"}`,
      title: `spark.executors.active of ${DRIVER} fell`,
      evidence: [
        { kind: 'text', label: 'departed at', text: new Date(T0 + 4 * MIN).toISOString() },
        { kind: 'text', label: 'departure', text: 'fall' },
      ],
    };
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [fell] });
    const withFall = holding(open, fell.entity);
    expect(withFall[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
  });

  it('does not take a line of the host relaying what happened on another machine for its evidence', async () => {
    const relayed: Signal = {
      ...diskFullLine(DRIVER, 5),
      related: [`host:${DRIVER}`, 'host:10.0.7.97'],
      title: `spark-driver@${DRIVER}: Lost executor 24 on 10.0.7.97: No space left on device`,
    };
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [relayed] });
    const withRelay = holding(open, relayed.entity);
    expect(withRelay[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
  });

  it('does not take a line of the host about the work it runs (a class not machine-local) for its evidence', async () => {
    const work: Signal = {
      ...diskFullLine(DRIVER, 5),
      errorClass: 'host_lost',
      title: `spark-driver@${DRIVER}: Removing executor 24 with no recent heartbeats`,
    };
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [work] });
    const withWork = holding(open, work.entity);
    expect(withWork[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
  });

  it('ties nothing without the placement: the host is then only a host', async () => {
    const disk = diskDeparted(DRIVER, 4);
    const open = await correlate(endpoint(), failures(), { extra: [disk] });
    const withDisk = holding(open, disk.entity);
    expect(withDisk[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
  });

  it('ties nothing to another host’s departure', async () => {
    const disk = diskDeparted('10.0.3.56', 4);
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [disk] });
    const withDisk = holding(open, disk.entity);
    expect(withDisk[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
  });

  it('does not take the host’s stream echoing the failures (no machine-local class) for its evidence', async () => {
    const { errorClass: _local, ...line } = diskFullLine(DRIVER, 5);
    const echo: Signal = { ...line, title: 'spark-driver: Failed to store broadcast_40421_piece0' };
    const open = await correlate(endpoint(), [placement(DRIVER), ...failures()], { extra: [echo] });
    const withEcho = holding(open, echo.entity);
    expect(withEcho[0]!.signals.some((s) => s.kind === 'airflow.task_retry')).toBe(false);
  });
});
