import { describe, expect, it } from 'vitest';
import { dagsWaitedFor } from '../src/sources/airflow/sensor-waits.ts';

describe('what a sensor says it waited for', () => {
  it('reads the DAG of each form ExternalTaskSensor pokes in, each once', () => {
    const log = [
      "[2026-03-02T02:00:04.000+0000] {external_task.py:251} INFO - Poking for tasks ['gold_orders'] in dag orders_daily on 2026-03-02T02:00:00+00:00 ... ",
      "[2026-03-02T02:05:04.000+0000] {external_task.py:251} INFO - Poking for tasks ['gold_orders'] in dag orders_daily on 2026-03-02T02:00:00+00:00 ... ",
      "[2026-03-02T02:05:05.000+0000] {external_task.py:260} INFO - Poking for task_group 'publish' in dag 'finance.v2' on 2026-03-02T02:00:00+00:00 ... ",
      "[2026-03-02T02:05:06.000+0000] {external_task.py:270} INFO - Poking for DAG 'carriers-daily' on 2026-03-02T02:00:00+00:00 ... ",
    ].join('\n');
    expect(dagsWaitedFor(log)).toEqual(['orders_daily', 'finance.v2', 'carriers-daily']);
  });

  it('reads nothing from a log that pokes for no DAG', () => {
    expect(
      dagsWaitedFor('INFO - Poking for file s3://landing/orders/_SUCCESS\nERROR - Sensor has timed out'),
    ).toEqual([]);
  });
});
