import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/index.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createInProcessQueueBackend } from './in-process.ts';

describe('in-process queue, stepped (deterministic replay)', () => {
  it('runs jobs only when drained: every queue in the order it was made, jobs added on the way included', async () => {
    const clock = new ManualClock(0);
    const backend = createInProcessQueueBackend({ clock, logger: silentLogger(), stepped: true });
    const first = backend.queue<string>('first');
    const second = backend.queue<string>('second');
    const ran: string[] = [];
    first.process(async (job) => {
      ran.push(`first:${job.data}`);
      await second.add(`s-${job.data}`, job.data);
    });
    second.process(async (job) => {
      ran.push(`second:${job.data}`);
      if (job.data === 'a') await first.add('late', 'late');
    });
    await first.add('a', 'a');
    await first.add('b', 'b');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual([]); // nothing runs by itself
    expect(await first.depth()).toBe(2);

    await backend.drain!();
    expect(ran).toEqual(['first:a', 'first:b', 'second:a', 'second:b', 'first:late', 'second:late']);
    expect(await first.depth()).toBe(0);
    expect(await second.depth()).toBe(0);
    await backend.close();
  });

  it('has no drain when not stepped', () => {
    const backend = createInProcessQueueBackend({ clock: new ManualClock(0), logger: silentLogger() });
    expect(backend.drain).toBeUndefined();
  });
});
