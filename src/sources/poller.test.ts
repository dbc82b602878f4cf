import { describe, expect, it } from 'vitest';
import { ManualClock, type Observation } from '../core/index.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { Poller } from './poller.ts';
import type { PollSource } from './source.ts';

describe('Poller', () => {
  it('polls on the interval, backs off while a source fails, reports the outage once and the recovery', async () => {
    const clock = new ManualClock(0);
    const calls: number[] = [];
    let failing = false;
    const source: PollSource = {
      id: 'airflow',
      entity: 'source:airflow',
      intervalMs: 1000,
      async poll() {
        calls.push(clock.now());
        if (failing) throw new Error('connect ECONNREFUSED');
        return [
          { type: 'health', entity: 'airflow:scheduler', time: clock.now(), healthy: true, reason: 'ok' },
        ];
      },
    };
    const seen: Observation[] = [];
    const poller = new Poller({
      sources: [source],
      clock,
      logger: silentLogger(),
      sink: (o) => seen.push(...o),
      maxBackoffMs: 4000,
    });
    poller.start();
    await clock.advanceTo(2000);
    expect(calls).toEqual([0, 1000, 2000]);

    failing = true;
    await clock.advanceTo(20_000);
    // Failures at 3000; then backoff 1 s, 2 s, 4 s, 4 s (capped)…
    expect(calls.slice(3, 8)).toEqual([3000, 4000, 6000, 10_000, 14_000]);
    const health = seen.filter((o) => o.type === 'health' && o.entity === 'source:airflow');
    expect(health).toHaveLength(1);
    expect(health[0]).toMatchObject({ healthy: false, reason: 'connect ECONNREFUSED' });

    failing = false;
    await clock.advanceTo(30_000);
    const after = seen.filter((o) => o.type === 'health' && o.entity === 'source:airflow');
    expect(after.map((o) => (o.type === 'health' ? o.healthy : null))).toEqual([false, true]);
    await poller.stop();
    const n = calls.length;
    await clock.advanceTo(60_000);
    expect(calls.length).toBe(n);
  });
});
