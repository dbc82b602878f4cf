import { describe, expect, it } from 'vitest';
import { silentLogger } from '../telemetry/logger.ts';
import { createRetryBuffer } from './retry-buffer.ts';

/** A queue stand-in that fails while `down` is set and records what it took, in order. */
function flakyQueue() {
  const taken: number[] = [];
  const state = { down: false };
  return {
    taken,
    state,
    add: async (n: number) => {
      await new Promise((r) => setTimeout(r, 1));
      if (state.down) throw new Error('connection refused');
      taken.push(n);
    },
  };
}

describe('retry buffer in front of a queue', () => {
  it('queues at once while the queue takes items', async () => {
    const q = flakyQueue();
    const buffer = createRetryBuffer({ add: q.add, what: 'signal', logger: silentLogger() });
    for (const n of [1, 2, 3]) buffer.offer(n);
    expect(await buffer.flush(1000)).toBe(0);
    expect(q.taken).toEqual([1, 2, 3]);
    expect(buffer.accepting()).toBe(true);
  });

  it('settles once what was offered is queued, or held when the queue refuses it, not later', async () => {
    const q = flakyQueue();
    const buffer = createRetryBuffer({ add: q.add, what: 'signal', logger: silentLogger(), retryMs: 60_000 });
    buffer.offer(1);
    buffer.offer(2);
    expect(q.taken).toEqual([]);
    await buffer.settled(1000);
    expect(q.taken).toEqual([1, 2]);

    q.state.down = true;
    buffer.offer(3);
    const started = Date.now();
    await buffer.settled(5000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(buffer.accepting()).toBe(false);
    expect(buffer.close()).toEqual([3]);
  });

  it('holds what the queue refused, refuses producers meanwhile, and queues it all in order later', async () => {
    const q = flakyQueue();
    const buffer = createRetryBuffer({ add: q.add, what: 'signal', logger: silentLogger(), retryMs: 10 });
    q.state.down = true;
    for (const n of [1, 2, 3]) buffer.offer(n);
    await new Promise((r) => setTimeout(r, 30));
    expect(buffer.accepting()).toBe(false);
    buffer.offer(4);
    expect(buffer.pending()).toBe(4);
    q.state.down = false;
    expect(await buffer.flush(2000)).toBe(0);
    expect(q.taken).toEqual([1, 2, 3, 4]);
    expect(buffer.accepting()).toBe(true);
  });

  it('drops past its capacity and says which', async () => {
    const q = flakyQueue();
    const dropped: number[] = [];
    const buffer = createRetryBuffer({
      add: q.add,
      what: 'signal',
      logger: silentLogger(),
      capacity: 2,
      retryMs: 10_000,
      onDrop: (n) => dropped.push(n),
    });
    q.state.down = true;
    for (const n of [1, 2, 3]) buffer.offer(n);
    await new Promise((r) => setTimeout(r, 30));
    expect(dropped).toEqual([3]);
    expect(buffer.close()).toEqual([1, 2]);
  });

  it('gives up on flush after its timeout and reports what is left', async () => {
    const q = flakyQueue();
    const buffer = createRetryBuffer({ add: q.add, what: 'signal', logger: silentLogger(), retryMs: 10 });
    q.state.down = true;
    buffer.offer(1);
    const started = Date.now();
    expect(await buffer.flush(200)).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(buffer.close()).toEqual([1]);
  });
});
