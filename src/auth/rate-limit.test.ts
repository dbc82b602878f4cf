import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('grants a burst, then one token per 1/rate seconds, and says how long to wait', () => {
    const limiter = new RateLimiter({ rate: 2, burst: 3 });
    expect([0, 0, 0].map(() => limiter.take('k', 0))).toEqual([0, 0, 0]);
    expect(limiter.take('k', 0)).toBe(1);
    expect(limiter.take('k', 500)).toBe(0);
    expect(limiter.take('k', 500)).toBe(1);
    // Other keys have their own bucket.
    expect(limiter.take('other', 500)).toBe(0);
  });

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = new RateLimiter({ rate: 1, burst: 1, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`, 0);
    expect(limiter.size).toBe(100);
    // k9999 is still remembered (empty bucket); k0 was dropped and starts full again.
    expect(limiter.take('k9999', 0)).toBe(1);
    expect(limiter.take('k0', 0)).toBe(0);
  });
});
