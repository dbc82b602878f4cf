import { describe, expect, it } from 'vitest';
import { entityKey, type LogObservation, type Signal } from '../src/core/index.ts';
import type { Detector } from '../src/detection/engine.ts';
import { detectorHarness } from '../test/support/detector-harness.ts';
import { createLogBurstDetector } from './log-burst.ts';
import { createLogNewTemplateDetector } from './log-new-template.ts';
import { createLogSignatureDetector } from './log-signature.ts';

const T0 = Date.parse('2026-03-02T02:00:00Z');
const MIN = 60_000;

const driver = { service_name: 'spark-driver', host: '10.0.0.16', level: 'error' };
const worker = { service_name: 'spark-worker', host: '10.0.3.17', level: 'warn' };
const task = {
  service_name: 'airflow-worker',
  host: '10.0.5.2',
  dag_id: 'silver_orders',
  run_id: 'scheduled__2026-03-02T02:00:00+00:00',
  task_id: 'transform_orders',
};

function entry(labels: Record<string, string>, line: string, time: number): LogObservation {
  return { type: 'log', stream: entityKey.logStream(labels), labels, time, line };
}

/** A harness whose `log` pushes one entry at the clock's current time. */
function harness(detector: Detector) {
  const h = detectorHarness([detector], T0);
  return {
    ...h,
    log(labels: Record<string, string>, line: string) {
      h.engine.ingest([entry(labels, line, h.clock.now())]);
    },
  };
}

const evidenceText = (s: Signal) => JSON.stringify(s.evidence);

describe('log-signature', () => {
  it('fires a known failure class about the stream, related to what its labels name', () => {
    const h = harness(createLogSignatureDetector());
    h.log(
      task,
      'pyspark.errors.exceptions.connect.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column with name `order_total` cannot be resolved. (conn password=hunter2)',
    );
    expect(h.signals).toHaveLength(1);
    const s = h.signals[0]!;
    expect(s).toMatchObject({
      kind: 'log.signature',
      status: 'firing',
      errorClass: 'sql_analysis_error',
      entity: entityKey.logStream(task),
      severity: 'high',
      time: T0,
      detector: 'log-signature',
    });
    expect(s.related).toEqual([
      'airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/transform_orders',
      'airflow:dagrun:silver_orders/scheduled__2026-03-02T02:00:00+00:00',
      'airflow:dag:silver_orders',
      'host:10.0.5.2',
    ]);
    expect(s.title).toContain('airflow-worker@10.0.5.2');
    expect(evidenceText(s)).toContain('password=[REDACTED]');
    expect(evidenceText(s)).not.toContain('hunter2');
    expect(evidenceText(s)).toContain('AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION]');
  });

  it('keeps one condition per class and stream, re-emits at 10 entries, resolves when quiet', async () => {
    const h = harness(createLogSignatureDetector({ quietMs: 15 * MIN }));
    for (let i = 0; i < 12; i++) {
      h.log(
        worker,
        `26/03/04 02:0${i % 10}:00 WARN TaskSetManager: Lost task ${i}.0 in stage 3.0 (TID ${i}) (10.0.3.9 executor 4): FetchFailed(BlockManagerId(4, 10.0.3.9, 7337, None), shuffleId=1)`,
      );
      await h.clock.advanceBy(10_000);
    }
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'firing']);
    expect(h.signals[1]!.evidence).toContainEqual({ kind: 'value', label: 'entries', value: 10 });
    expect(h.signals[1]!.time).toBe(T0);
    await h.clock.advanceBy(15 * MIN);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'firing', 'resolved']);
    const resolved = h.signals[2]!;
    expect(resolved.fingerprint).toBe(h.signals[0]!.fingerprint);
    expect(resolved.time).toBe(T0 + 110_000 + 15 * MIN);
  });

  it('names the host or endpoint the text is about instead of the host that logged it', () => {
    const h = harness(createLogSignatureDetector());
    h.log(
      driver,
      '26/01/12 02:04:26 ERROR TaskSchedulerImpl: Lost executor 59 on 10.0.3.196: Remote RPC client disassociated.',
    );
    h.log(
      worker,
      '26/03/04 02:00:41 WARN spot-interruption-handler: EC2 instance-action notice received: {"action": "terminate"}; instance i-0ad3 will be reclaimed',
    );
    h.log(
      task,
      'SparkConnectGrpcException: status = StatusCode.UNAVAILABLE details = "failed to connect to all addresses" target sc://spark-connect:15002',
    );
    const [lost, spot, connect] = h.signals;
    expect(lost).toMatchObject({ errorClass: 'host_lost', related: ['host:10.0.3.196'] });
    expect(spot).toMatchObject({ errorClass: 'spot_interruption', related: ['host:10.0.3.17'] });
    expect(connect!.errorClass).toBe('connect_unavailable');
    expect(connect!.related).toContain('spark:connect:sc://spark-connect:15002');
    expect(connect!.related).not.toContain('host:10.0.5.2');
  });

  it('names the worker of a task instance the scheduler gave up on, not the scheduler', () => {
    const h = harness(createLogSignatureDetector());
    const scheduler = { service_name: 'airflow-scheduler', host: 'airflow-scheduler-1', level: 'error' };
    for (const [dag, task] of [
      ['orders_daily', 'silver_orders'],
      ['payments_daily', 'gold_payments_daily'],
    ])
      h.log(
        scheduler,
        `[2026-05-19T02:26:51.000+0000] {scheduler_job_runner.py:2234} ERROR - Detected a task instance without a heartbeat: {'DAG Id': '${dag}', 'Task Id': '${task}', 'Run Id': 'scheduled__2026-05-19T02:00:00+00:00', 'Hostname': 'airflow-worker-3'} (See https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/tasks.html#task-instance-heartbeat-timeout)`,
      );
    // One condition for the worker, however many of its tasks the scheduler reports.
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]).toMatchObject({
      errorClass: 'airflow_task_killed',
      related: ['host:airflow-worker-3'],
    });
  });

  it('keeps one condition per process and subject, whatever level stream an entry came in', () => {
    const h = harness(createLogSignatureDetector());
    h.log(
      { ...driver, level: 'warn' },
      'WARN TaskSetManager: Lost task 1.0 in stage 2.0 (TID 7) (10.0.3.9 executor 4): ExecutorLostFailure (executor 4 exited)',
    );
    h.log(
      { ...driver, level: 'error' },
      'ERROR TaskSchedulerImpl: Lost executor 4 on 10.0.3.9: Remote RPC client disassociated.',
    );
    h.log(
      { ...driver, level: 'error' },
      'ERROR TaskSchedulerImpl: Lost executor 5 on 10.0.3.44: Remote RPC client disassociated.',
    );
    expect(h.signals.map((s) => s.related)).toEqual([['host:10.0.3.9'], ['host:10.0.3.44']]);
    expect(new Set(h.signals.map((s) => s.fingerprint)).size).toBe(2);
  });

  it('places an OOM without context by the stream that logged it', () => {
    const h = harness(createLogSignatureDetector());
    h.log(driver, 'java.lang.OutOfMemoryError: Java heap space');
    expect(h.signals[0]).toMatchObject({ errorClass: 'driver_oom', severity: 'critical' });
  });

  it('ignores entries without a signature, and bad input', () => {
    const h = harness(createLogSignatureDetector());
    h.log(
      driver,
      '26/03/04 02:01:11 ERROR TaskSetManager: Task 45 in stage 52732.0 failed 1 times; aborting job',
    );
    h.log(worker, 'Registered signal handlers for [TERM, HUP, INT]');
    h.engine.ingest([{ ...entry(worker, '', T0), line: undefined as unknown as string }]);
    expect(h.signals).toEqual([]);
  });

  it('gives the same fingerprints to the same input', () => {
    const run = () => {
      const h = harness(createLogSignatureDetector());
      h.log(driver, 'Container killed on request. Exit code is 137');
      return h.signals.map((s) => s.fingerprint);
    };
    expect(run()).toEqual(run());
    expect(run()[0]).toMatch(/^logsig_/);
  });

  it('keeps at most maxTracked conditions, resolving the least recently seen', () => {
    const detector = createLogSignatureDetector({ maxTracked: 2 });
    const h = harness(detector);
    for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      h.log({ ...driver, host }, 'Container killed on request. Exit code is 137');
    }
    expect(detector.size!()).toBe(2);
    expect(h.signals.map((s) => s.status)).toEqual(['firing', 'firing', 'resolved', 'firing']);
    expect(h.signals[2]!.fingerprint).toBe(h.signals[0]!.fingerprint);
  });
});

describe('log-new-template', () => {
  it('fires for an error template first seen after the warm-up, once, and resolves when quiet', async () => {
    const h = harness(createLogNewTemplateDetector({ warmupMs: 10 * MIN, quietMs: 30 * MIN, historyMs: 0 }));
    h.log(
      driver,
      '26/03/04 01:40:00 ERROR TaskSetManager: Task 45 in stage 52732.0 failed 1 times; aborting job',
    );
    await h.clock.advanceBy(11 * MIN);
    // Known statement with new values, and a new statement that is not an error: nothing.
    h.log(
      driver,
      '26/03/04 01:51:00 ERROR TaskSetManager: Task 7 in stage 61.0 failed 4 times; aborting job',
    );
    h.log({ ...driver, level: 'info' }, '26/03/04 01:51:00 INFO Exception handler installed for 3 threads');
    expect(h.signals).toEqual([]);

    h.log(
      driver,
      '26/03/04 01:51:05 ERROR Utils: Uncaught exception in thread spark-listener-group-shared\nat foo',
    );
    h.log(
      driver,
      '26/03/04 01:51:06 ERROR Utils: Uncaught exception in thread spark-listener-group-appStatus',
    );
    expect(h.signals).toHaveLength(1);
    const s = h.signals[0]!;
    expect(s).toMatchObject({
      kind: 'log.new_template',
      status: 'firing',
      severity: 'low',
      entity: entityKey.logStream(driver),
      related: ['host:10.0.0.16'],
      time: T0 + 11 * MIN,
    });
    // The template is the headline's; the example keeps the whole entry (its stack trace is evidence).
    expect(s.evidence[0]).toEqual({
      kind: 'text',
      label: 'template',
      text: '<*>/<*>/<*> <*>:<*>:<*> ERROR Utils: Uncaught exception in thread spark-listener-group-shared',
    });
    expect(s.evidence[1]).toMatchObject({ kind: 'log', lines: [expect.stringContaining('\nat foo')] });

    await h.clock.advanceBy(31 * MIN);
    expect(h.signals.map((x) => x.status)).toEqual(['firing', 'resolved']);
    expect(h.signals[1]!.time).toBe(T0 + 11 * MIN + 30 * MIN);
  });

  it('learns without firing during the warm-up', async () => {
    const h = harness(createLogNewTemplateDetector({ warmupMs: 10 * MIN, historyMs: 0 }));
    h.log(driver, 'ERROR Foo: first problem');
    await h.clock.advanceBy(5 * MIN);
    h.log(driver, 'ERROR Bar: second problem');
    await h.clock.advanceBy(6 * MIN);
    h.log(driver, 'ERROR Bar: second problem');
    expect(h.signals).toEqual([]);
  });

  it('counts the history read at start-up as learnt: the first error line after start is new at once', async () => {
    const h = harness(createLogNewTemplateDetector());
    // A quiet platform: no error line in the 15 min of history read at start, none for 9 minutes.
    await h.clock.advanceBy(9 * MIN);
    h.log(driver, 'ERROR Processor for dags/exports.py with PID 812 started 50 ago killing it.');
    expect(h.signals.map((s) => [s.kind, s.time])).toEqual([['log.new_template', T0 + 9 * MIN]]);
    // What the history held is learnt, not news.
    const r = harness(createLogNewTemplateDetector());
    r.engine.ingest([entry(driver, 'ERROR Foo: nightly cleanup skipped a locked file', T0 - 10 * MIN)]);
    await r.clock.advanceBy(MIN);
    r.log(driver, 'ERROR Foo: nightly cleanup skipped a locked file');
    expect(r.signals).toEqual([]);
  });

  it('without history, still waits out the warm-up from when it started, not from the first error', async () => {
    const h = harness(createLogNewTemplateDetector({ warmupMs: 10 * MIN, historyMs: 0 }));
    await h.clock.advanceBy(9 * MIN);
    h.log(driver, 'ERROR Foo: first problem');
    await h.clock.advanceBy(2 * MIN);
    h.log(driver, 'ERROR Bar: second problem');
    expect(h.signals.map((s) => s.time)).toEqual([T0 + 11 * MIN]);
  });

  it('decides error or not by the level label when there is one, else by the words', async () => {
    const h = harness(createLogNewTemplateDetector({ warmupMs: 0 }));
    const unlabelled = { service_name: 'airflow-scheduler' };
    h.log({ ...unlabelled, level: 'info' }, 'Traceback (most recent call last): handled');
    h.log(unlabelled, 'DagFileProcessor finished in 3.2 s');
    expect(h.signals).toEqual([]);
    h.log(unlabelled, 'Traceback (most recent call last):\n  File "x.py"');
    expect(h.signals).toHaveLength(1);
  });

  it('stops firing at maxFiring until some resolve', () => {
    const h = harness(createLogNewTemplateDetector({ warmupMs: 0, maxFiring: 2 }));
    for (const word of ['alpha', 'beta', 'gamma']) h.log(driver, `ERROR Job: ${word} stage collapsed`);
    expect(h.signals).toHaveLength(2);
  });
});

describe('log-new-template across a restart', () => {
  it('knows after a restart what it had learnt: no new warm-up, no old template called new', async () => {
    const first = harness(
      createLogNewTemplateDetector({ warmupMs: 10 * MIN, quietMs: 30 * MIN, historyMs: 0 }),
    );
    first.log(driver, 'ERROR Utils: Uncaught exception in thread spark-listener-group-shared');
    first.log(driver, 'ERROR Db: login failed for etl password=hunter2 on db-1');
    await first.clock.advanceBy(11 * MIN);
    first.log(driver, 'ERROR Shuffle: fetch failed from executor 7');
    expect(first.signals.map((s) => s.status)).toEqual(['firing']);
    const saved = JSON.parse(JSON.stringify(first.engine.snapshot()));
    // Nothing secret is kept: templates are stored redacted.
    expect(JSON.stringify(saved)).not.toContain('hunter2');

    const second = detectorHarness(
      [createLogNewTemplateDetector({ warmupMs: 10 * MIN, quietMs: 30 * MIN, historyMs: 0 })],
      first.clock.now(),
    );
    expect(second.engine.restore(saved)).toEqual({ 'log-new-template': 3 });
    const log = (line: string) => second.engine.ingest([entry(driver, line, second.clock.now())]);
    // Templates seen before the restart are not news, even with new values; a new one is, at once.
    log('ERROR Utils: Uncaught exception in thread spark-listener-group-shared');
    log('ERROR Db: login failed for etl password=s3cret on db-2');
    log('ERROR Shuffle: fetch failed from executor 12');
    expect(second.signals).toEqual([]);
    log('ERROR Catalog: table gold.orders not found');
    expect(second.signals.map((s) => [s.kind, s.status])).toEqual([['log.new_template', 'firing']]);
    // What was firing before the restart resolves when it goes quiet.
    await second.clock.advanceBy(31 * MIN);
    expect(second.signals.filter((s) => s.status === 'resolved').map((s) => s.fingerprint)).toContain(
      first.signals[0]!.fingerprint,
    );
  });

  it('drops a saved state it does not know', () => {
    const d = createLogNewTemplateDetector();
    expect(d.restore?.({ format: 0 })).toBe(0);
    expect(d.restore?.(null)).toBe(0);
    expect(d.restore?.({ format: 1, miner: { lines: 3, templates: [{ id: 'x', tokens: 'ERROR' }] } })).toBe(
      0,
    );
  });
});

describe('log-burst', () => {
  const config = { windowMs: MIN, minHistoryWindows: 5, factor: 4, minCount: 10, clearWindows: 3 };
  const line = (i: number) =>
    `26/03/04 02:00:00 ERROR Executor: Exception in task ${i}.0 in stage 4.0 (TID ${i})`;

  /** `perMinute` entries spread over each of `minutes` minutes. */
  async function errors(h: ReturnType<typeof harness>, perMinute: number, minutes: number) {
    for (let m = 0; m < minutes; m++) {
      for (let i = 0; i < perMinute; i++) {
        h.log(driver, line(i));
        await h.clock.advanceBy(MIN / perMinute);
      }
      if (perMinute === 0) await h.clock.advanceBy(MIN);
    }
  }

  it('fires when an error template bursts above its baseline and resolves with hysteresis', async () => {
    const h = harness(createLogBurstDetector(config));
    await errors(h, 2, 10);
    expect(h.signals).toEqual([]);

    await errors(h, 30, 3);
    expect(h.signals).toHaveLength(1);
    const s = h.signals[0]!;
    expect(s).toMatchObject({
      kind: 'log.error_burst',
      status: 'firing',
      severity: 'high',
      entity: entityKey.logStream(driver),
    });
    // Threshold max(10, 4 × 2) = 10: the 11th entry of minute 10 crosses it.
    expect(s.time).toBe(T0 + 10 * MIN + 10 * 2000);
    expect(s.related).toEqual(['host:10.0.0.16']);
    expect(s.evidence).toContainEqual({ kind: 'value', label: 'threshold', value: 10 });

    // Still above half the threshold: no flapping.
    await errors(h, 6, 3);
    expect(h.signals).toHaveLength(1);

    // Errors stop entirely; the clock closes the windows.
    await h.clock.advanceBy(4 * MIN);
    expect(h.signals.map((x) => x.status)).toEqual(['firing', 'resolved']);
    expect(h.signals[1]!.fingerprint).toBe(s.fingerprint);
    expect(h.signals[1]!.time).toBe(T0 + 19 * MIN);
  });

  it('does not judge a template without history', async () => {
    const h = harness(createLogBurstDetector(config));
    await errors(h, 50, 2);
    expect(h.signals).toEqual([]);
  });

  it('does not fire on a steady high rate', async () => {
    const h = harness(createLogBurstDetector(config));
    await errors(h, 40, 15);
    expect(h.signals).toEqual([]);
  });

  it('keeps state bounded', () => {
    const detector = createLogBurstDetector({ ...config, maxTracked: 3 });
    const h = harness(detector);
    for (let i = 0; i < 10; i++) h.log({ ...driver, host: `10.0.0.${i}` }, line(1));
    expect(detector.size!()).toBeLessThanOrEqual(3 + 1);
  });
});

describe('log detectors', () => {
  it('ignore malformed observations without throwing', () => {
    const bad = [
      { ...entry(driver, 'ERROR x java.lang.OutOfMemoryError', T0), line: undefined },
      { ...entry(driver, 'ERROR x java.lang.OutOfMemoryError', T0), labels: undefined },
      { ...entry(driver, 'ERROR x java.lang.OutOfMemoryError', T0), time: Number.NaN },
      { type: 'metric' },
    ] as unknown as LogObservation[];
    const emitted: Signal[] = [];
    const ctx = { now: () => T0, emit: (s: Signal) => emitted.push(s) };
    for (const detector of [
      createLogSignatureDetector(),
      createLogNewTemplateDetector({ warmupMs: 0 }),
      createLogBurstDetector(),
    ]) {
      for (const obs of bad) expect(() => detector.observe(obs, ctx)).not.toThrow();
      expect(() => detector.tick?.(ctx)).not.toThrow();
    }
    expect(emitted).toEqual([]);
  });
});
