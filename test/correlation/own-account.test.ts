import { describe, expect, it } from 'vitest';
import type { IncidentSignal } from '../../src/core/index.ts';
import { rankRootCause } from '../../src/correlation/causality.ts';
import { MIN, RUN, T0, task } from './support.ts';

/*
 * A resource's own account of an outage (`src/correlation/own-account.ts`): a database's log says
 * it refuses connections minutes before tasks of several DAGs fail with that class, relayed
 * through Spark Connect, their texts naming no host. The database is where the class came from;
 * the first failing task only failed first.
 */

const DAGS = ['ledger', 'assets', 'inventory', 'policies'];
const WORKER = 'airflow-worker-1';

/** A try of `dag` failing at `minute` with `errorClass`, on WORKER, naming no resource. */
const failing = (
  dag: string,
  minute: number,
  errorClass: string,
): IncidentSignal & { errorClass: string } => ({
  fingerprint: `fp-${dag}`,
  kind: 'airflow.task_retry',
  entity: task(dag, 'bronze'),
  status: 'firing',
  related: [`airflow:dagrun:${dag}/${RUN}`, `airflow:dag:${dag}`, `host:${WORKER}`],
  names: [],
  errorClass,
  firstSeen: T0 + minute * MIN,
  lastSeen: T0 + minute * MIN,
  count: 1,
  severity: 'low',
  title: `Airflow task ${dag}.bronze failed try 1 and will retry`,
  evidence: [{ kind: 'text', label: 'worker', text: WORKER }],
  detector: 'test',
});

/** A stream of `host` reading as `errorClass` from `minute`. */
const stream = (
  host: string,
  service: string,
  minute: number,
  errorClass: string,
): IncidentSignal & { errorClass: string } => ({
  fingerprint: `fp-${host}`,
  kind: 'log.signature',
  entity: `log:{host="${host}",level="fatal",service_name="${service}"}`,
  status: 'firing',
  related: [`host:${host}`],
  errorClass,
  firstSeen: T0 + minute * MIN,
  lastSeen: T0 + minute * MIN,
  count: 1,
  severity: 'high',
  title: `${errorClass} in ${service}@${host}`,
  evidence: [],
  detector: 'test',
});

const DB = 'log:{host="erp-db",level="fatal",service_name="postgresql"}';

describe("a resource's own account of an outage's class", () => {
  const failures = DAGS.map((d, i) => failing(d, 6 + i * 0.1, 'database_unavailable'));

  it('is the root of failures with its class that began after it, though they name nothing', () => {
    const rc = rankRootCause([stream('erp-db', 'postgresql', 0, 'database_unavailable'), ...failures]);
    expect(rc?.entity).toBe(DB);
    expect(rc?.chain?.filter((l) => l.edge === 'same_class').map((l) => l.to)).toEqual(
      failures.map((f) => f.entity),
    );
  });

  it('without it, the first failing task stays the root, at a low confidence', () => {
    const rc = rankRootCause(failures);
    expect(rc?.entity).toBe(failures[0]!.entity);
    expect(rc!.confidence).toBeLessThan(0.5);
  });

  it('explains nothing that failed before it began', () => {
    const rc = rankRootCause([stream('erp-db', 'postgresql', 7, 'database_unavailable'), ...failures]);
    expect(rc?.entity).not.toBe(DB);
  });

  it('is read as an echo, not a cause, when it began with the first failure (within the precedence window)', () => {
    const rc = rankRootCause([stream('erp-db', 'postgresql', 5, 'database_unavailable'), ...failures]);
    expect(rc?.entity).not.toBe(DB);
  });

  it('is not the echo of the work: a stream of the machine the failures ran on explains none', () => {
    const echo = stream(WORKER, 'airflow-worker', 0, 'database_unavailable');
    const rc = rankRootCause([echo, ...failures]);
    expect(rc?.entity).not.toBe(echo.entity);
  });

  it('ties only an outage class: timeouts after a stream of timeouts are not its failures', () => {
    const timeouts = DAGS.map((d, i) => failing(d, 6 + i * 0.1, 'task_timeout'));
    const rc = rankRootCause([stream('erp-db', 'postgresql', 0, 'task_timeout'), ...timeouts]);
    expect(rc?.entity).not.toBe(DB);
  });
});
