import { describe, expect, it, vi } from 'vitest';
import type { Signal } from '../../src/core/index.ts';
import {
  correlate as correlateOn,
  diskDeparted as diskDepartedOn,
  successes,
  task,
  tryState,
  useEmbeddedDynamo,
} from './support.ts';

vi.setConfig({ testTimeout: 60_000 });

/*
 * Paging early on one cause's evidence, end to end (real task detector, correlator and store): a
 * resource's own series that departed, then one failure naming that resource, is enough to page;
 * the same two in the other order, or naming different things, are not.
 */

const endpoint = useEmbeddedDynamo();

const DISK =
  '[2026-03-02T02:05:00.000+0000] {taskinstance.py:3311} ERROR - OSError: [Errno 28] No space left on device';

/** The filesystem series of `host` departing at `minute` (seen a point later). */
const diskDeparted = (host: string, minute: number): Signal =>
  diskDepartedOn(host, minute, 'service.name="airflow-worker"', `fp-disk-${host}`);

/** One retry on airflow-worker-3 failing for a full disk at minute 4, and `series`. */
const oneRetryAnd = (series: Signal) =>
  correlateOn(
    endpoint(),
    [
      ...successes(1, ['airflow-worker-1', 'airflow-worker-2']),
      tryState('assets', 'silver', 'up_for_retry', 4, 'airflow-worker-3', { log: [DISK] }),
    ],
    { extra: [series] },
  );

describe('a resource that departed, then one failure naming it', () => {
  it('pages at the first retry, before a second DAG or a final failure', async () => {
    const open = await oneRetryAnd(diskDeparted('airflow-worker-3', 2));
    expect(open).toHaveLength(1);
    expect(open[0]!.rootCause?.entity).toBe('host:airflow-worker-3');
    expect(open[0]!.signals.map((s) => s.entity)).toContain(task('assets', 'silver'));
    expect(open[0]!.quiet).toBe(false);
  });

  it.each([
    ['the series departed after the failure (a consequence, or chance)', diskDeparted('airflow-worker-3', 6)],
    [
      'the series is about another machine than the one the failure names',
      diskDeparted('airflow-worker-1', 2),
    ],
  ])('does not page when %s', async (_, series) => {
    const open = await oneRetryAnd(series);
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((i) => i.quiet)).toBe(true);
  });

  it('does not page when what came first is only a hint (a new line that is no error)', async () => {
    const hint: Signal = {
      ...diskDeparted('airflow-worker-3', 2),
      kind: 'log.new_line',
      entity: 'log:{host="airflow-worker-3",service_name="airflow-worker"}',
      severity: 'info',
      title: 'New line in airflow-worker on airflow-worker-3: cleaning up old task logs',
      evidence: [],
    };
    // Two tasks of one DAG name the machine: the stream the hint is about explains both, more
    // than either explains of itself, so it is the root; a departure there would page.
    const open = await correlateOn(
      endpoint(),
      [
        ...successes(1, ['airflow-worker-1', 'airflow-worker-2']),
        tryState('assets', 'silver', 'up_for_retry', 4, 'airflow-worker-3', { log: [DISK] }),
        tryState('assets', 'gold', 'up_for_retry', 4, 'airflow-worker-3', { log: [DISK] }),
      ],
      { extra: [hint] },
    );
    const holding = open.filter((i) => i.signals.some((s) => s.entity === hint.entity));
    expect(holding).toHaveLength(1);
    expect(holding[0]!.rootCause?.entity).toBe(hint.entity);
    expect(holding[0]!.quiet).toBe(true);
  });
});
