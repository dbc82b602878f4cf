import { describe, expect, it } from 'vitest';
import { entityKey, type LogObservation } from '../src/core/index.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createLogNewLineDetector, type LogNewLineConfig } from './log-new-line.ts';

const T0 = Date.parse('2026-09-09T01:50:00Z');
const MIN = 60_000;

const worker = { service_name: 'airflow-worker', host: 'airflow-worker-1', level: 'info' };
const db = { service_name: 'postgresql', host: 'crm-db', level: 'info' };

function harness(config: LogNewLineConfig = {}) {
  const h = detectorHarness([createLogNewLineDetector(config)], T0);
  return {
    ...h,
    log(labels: Record<string, string>, line: string, time = h.clock.now()) {
      const obs: LogObservation = { type: 'log', stream: entityKey.logStream(labels), labels, time, line };
      h.engine.ingest([obs]);
    },
  };
}

describe('log-new-line', () => {
  it('learns what streams say from the start, then fires once for a line no stream said before', async () => {
    const h = harness();
    await h.clock.advanceBy(0);
    for (let i = 0; i < 20; i++) {
      h.log(
        worker,
        `[2026-09-09T01:5${i % 10}:01] {dagbag.py:588} INFO - Filling up the DagBag from /opt/dags/d${i}.py`,
      );
      await h.clock.advanceBy(MIN);
    }
    // 20 min in: the worker's stream has its history; a new kind of line on it is new.
    expect(h.signals).toEqual([]);
    h.log(worker, 'Warm shutdown (MainProcess) password=hunter2');
    h.log(worker, 'Warm shutdown (MainProcess) password=hunter2');
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]).toMatchObject({
      kind: 'log.new_line',
      status: 'firing',
      severity: 'info',
      entity: entityKey.logStream(worker),
      related: ['host:airflow-worker-1'],
      detector: 'log-new-line',
    });
    expect(JSON.stringify(h.signals[0]!.evidence)).not.toContain('hunter2');
    expect(h.signals[0]!.title).toContain('New in airflow-worker@airflow-worker-1: Warm shutdown');
    expect(h.signals[0]!.title).not.toContain('hunter2');
    // A known line with a new value is not new: the miner generalises it.
    h.log(
      worker,
      '[2026-09-09T02:11:01] {dagbag.py:588} INFO - Filling up the DagBag from /opt/dags/other.py',
    );
    expect(h.signals).toHaveLength(1);
    await h.clock.advanceBy(31 * MIN);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'resolved']);
  });

  it('takes the first lines of a stream that appears after its history as new, whatever their level', async () => {
    const h = harness();
    await h.clock.advanceBy(16 * MIN);
    h.log(
      db,
      '2026-09-09 02:06:16 UTC:10.0.2.78(59197):app@crm:[17817]:LOG:  process 17817 still waiting for AccessExclusiveLock on relation 58769 after 1000.51 ms',
    );
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]!.entity).toBe(entityKey.logStream(db));
    expect(h.signals[0]!.title).toContain('postgresql@crm-db');
  });

  it('learns a stream that appears within its history of Guardian starting, as every stream does then', async () => {
    const h = harness({ historyMs: 15 * MIN });
    await h.clock.advanceBy(5 * MIN);
    h.log(db, 'LOG:  checkpoint starting: time');
    await h.clock.advanceBy(5 * MIN);
    h.log(db, 'LOG:  checkpoint complete: wrote 3 buffers');
    expect(h.signals).toEqual([]);
  });

  it('leaves error lines to log-new-template, by the level label or, without one, the words', async () => {
    const h = harness();
    await h.clock.advanceBy(16 * MIN);
    h.log({ ...db, level: 'error' }, 'FATAL:  password authentication failed for user "etl"');
    h.log({ service_name: 'x' }, 'java.lang.IllegalStateException: boom');
    expect(h.signals).toEqual([]);
    h.log({ service_name: 'x' }, 'rebalancing partitions');
    expect(h.signals).toHaveLength(1);
  });

  it('stays bounded: at most maxFiring at once and maxStreams remembered', async () => {
    const h = harness({ maxFiring: 3, maxStreams: 5 });
    await h.clock.advanceBy(16 * MIN);
    for (let i = 0; i < 10; i++) h.log({ service_name: `svc-${i}` }, `${'abcdefghij'[i]} happened to ${i}`);
    expect(h.signals).toHaveLength(3);
    expect(h.engine.sizes()['log-new-line']).toBeLessThanOrEqual(10 + 5 + 3);
  });

  it('ignores malformed observations', () => {
    const h = harness();
    h.engine.ingest([
      { type: 'log', stream: 'log:{}', labels: {}, time: Number.NaN, line: 'x' } as LogObservation,
    ]);
    h.engine.ingest([{ type: 'log', stream: 'log:{}', labels: null, time: T0, line: 'x' } as never]);
    expect(h.signals).toEqual([]);
  });
});
