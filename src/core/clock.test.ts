import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, systemClock } from './clock.ts';

const DAY = 86_400_000;

describe('system clock timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits a delay longer than Node timers take (a 30-day silence) in full, and fires once', async () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    systemClock.setTimer(30 * DAY, () => fired.push(Date.now()));
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(30 * DAY - MAX_TIMER_MS - 2000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(fired).toEqual([30 * DAY]);
    await vi.advanceTimersByTimeAsync(60 * DAY);
    expect(fired).toHaveLength(1);
  });

  it('cancels a long timer after it re-armed', async () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    const timer = systemClock.setTimer(40 * DAY, () => fired.push(Date.now()));
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1000);
    timer.cancel();
    await vi.advanceTimersByTimeAsync(40 * DAY);
    expect(fired).toEqual([]);
  });
});
