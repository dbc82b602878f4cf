import { describe, expect, it } from 'vitest';
import { FAILURE_CLASSES } from './failure-text.ts';
import { classify, ERROR_CLASSES, errorClass, placeByProcess } from './signatures.ts';

const examples = ERROR_CLASSES.flatMap((c) => c.examples.map((e) => [c.id, e] as const));

describe('error signatures', () => {
  it.each(examples)('%s: recognises its example %#', (id, example) => {
    expect(classify(example)?.id).toBe(id);
  });

  it.each([
    'INFO DAGScheduler: Job 57812 finished: Spark Connect - session_id: "78a95dac"',
    'Registered signal handlers for [TERM, HUP, INT]',
    'MemoryStore started with capacity 17.7 GB',
    'REPORT RequestId: 82a4184f Duration: 1008.61 ms Billed Duration: 1009 ms Max Memory Used: 126 MB',
    'Fetched 26023 records; wrote s3://hooli-landing-prod/invoices_api/dt=2026-03-04/part-3eb063c8.json.gz',
    'INFO Executor: Finished task 1.0 in stage 2.0 (TID 5). 2703 bytes result sent to driver',
    'Reading broadcast variable 9 took 401 ms',
    'Successfully started service on port 4030 with status 200',
    'spark.decommission.enabled is false',
    'HeartbeatReceiver: received heartbeat from executor 3',
    'Imported 12 rows from the partner API (HTTP 200)',
    'WARN DAGScheduler: Broadcasting large task binary with size 11.9 MiB',
    'Executing with tokens: 1 tokens and 0 secret keys',
    '',
  ])('ignores a benign entry: %s', (line) => {
    expect(classify(line)).toBeNull();
  });

  it('places an OOM by its context: executor, driver, or neither', () => {
    expect(
      classify('Lost task 1.0 in stage 2.0 (TID 9) (10.0.3.1 executor 4): java.lang.OutOfMemoryError')?.id,
    ).toBe('executor_oom');
    expect(
      classify('ERROR SparkContext: Error initializing SparkContext.\njava.lang.OutOfMemoryError')?.id,
    ).toBe('driver_oom');
    expect(classify('java.lang.OutOfMemoryError: Metaspace')?.id).toBe('jvm_oom');
  });

  it('places an OOM without context by the process that logged it', () => {
    const oom = classify('java.lang.OutOfMemoryError: Java heap space')!;
    expect(placeByProcess(oom, 'spark-driver').id).toBe('driver_oom');
    expect(placeByProcess(oom, 'spark-executor exec-3').id).toBe('executor_oom');
    expect(placeByProcess(oom, 'airflow-scheduler').id).toBe('jvm_oom');
    const other = errorClass('s3_throttling')!;
    expect(placeByProcess(other, 'spark-driver')).toBe(other);
  });

  it('prefers the specific class where patterns overlap', () => {
    // A spot interruption causes decommissions and SIGTERMs; the notice names the cause.
    expect(classify('Executor 3 decommissioned: spot interruption notice received')?.id).toBe(
      'spot_interruption',
    );
    // An executor loss that says why is that why.
    expect(classify('Lost executor 2 on 10.0.1.7: Executor heartbeat timed out after 125000 ms')?.id).toBe(
      'executor_heartbeat_timeout',
    );
    expect(classify('Airflow task exited with return code -9 after SIGKILL')?.id).toBe('airflow_task_killed');
  });

  it('looks at every line of a multi-line entry', () => {
    const entry =
      'ERROR DAGSchedulerEventProcessLoop: DAGSchedulerEventProcessLoop failed; shutting down SparkContext\njava.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)';
    expect(classify(entry)?.id).toBe('driver_oom');
  });

  it('has unique ids, two or more examples and a meaning per class', () => {
    const ids = ERROR_CLASSES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of ERROR_CLASSES) {
      expect(c.examples.length, c.id).toBeGreaterThanOrEqual(2);
      expect(c.meaning.length, c.id).toBeGreaterThan(40);
      expect(c.patterns.length, c.id).toBeGreaterThan(0);
    }
  });

  it('gives every class the correlation traits the correlator reasons with', () => {
    const known = new Set(FAILURE_CLASSES.map((c) => c.id));
    for (const c of ERROR_CLASSES) expect(known.has(c.id), c.id).toBe(true);
    for (const id of known)
      expect(
        ERROR_CLASSES.some((c) => c.id === id),
        id,
      ).toBe(true);
  });

  it('classifies a long entry quickly', () => {
    const noise =
      'INFO BlockManagerInfo: Added rdd_2_1 in memory on 10.0.3.17:7337 (size: 5.2 KB, free: 17.7 GB)\n';
    const entry = noise.repeat(200);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) classify(entry);
    expect(classify(entry)).toBeNull();
    // 200 × 16 KB scanned; generous bound for a loaded CI machine.
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
