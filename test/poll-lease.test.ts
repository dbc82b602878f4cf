import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createRedisPollLease } from '../src/sources/poll-lease.ts';
import { Poller } from '../src/sources/poller.ts';
import type { PollSource } from '../src/sources/source.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startRedis } from './support/redis.ts';

/** Several replicas, one Redis: exactly one replica polls, and another takes over when it goes. */
describe('poll lease on real Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('lets one replica poll, keeps it there while it renews, and hands over when it releases', async () => {
    const key = `lease-${Math.random()}`;
    const a = createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 400, logger: silentLogger() });
    const b = createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 400, logger: silentLogger() });
    try {
      expect(await a.hold()).toBe(true);
      expect(await b.hold()).toBe(false);
      // A keeps it by renewing, well past the TTL.
      await new Promise((r) => setTimeout(r, 900));
      expect(await b.hold()).toBe(false);
      expect(await a.hold()).toBe(true);
      await a.release();
      expect(await b.hold()).toBe(true);
      expect(await a.hold()).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two pollers sharing a lease: each poll runs once', async () => {
    const key = `lease-${Math.random()}`;
    const clock = new ManualClock(0);
    const polls: string[] = [];
    const source = (who: string): PollSource => ({
      id: 'airflow',
      entity: 'source:airflow',
      intervalMs: 1000,
      poll: async () => {
        polls.push(who);
        return [];
      },
    });
    const leases = ['a', 'b'].map(() =>
      createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 5000, logger: silentLogger() }),
    );
    const pollers = ['a', 'b'].map(
      (who, i) =>
        new Poller({
          sources: [source(who)],
          clock,
          logger: silentLogger(),
          sink: () => {},
          lease: leases[i]!,
        }),
    );
    for (const p of pollers) p.start();
    await clock.advanceTo(5000);
    expect(polls).toHaveLength(6); // t = 0…5000, once each
    expect(new Set(polls).size).toBe(1);
    for (const p of pollers) await p.stop();
    for (const l of leases) await l.close();
  });
});
