import { describe, expect, it } from 'vitest';
import { noise } from '../../bench/support/noise.ts';
import { AnomalyScorerPool, BYTES_PER_SERIES } from './core.ts';

/** Five-minute points from a Monday 00:00 UTC. */
const STEP = 5 * 60_000;
const START = Date.parse('2026-01-05T00:00:00Z');
const PER_DAY = 288;
/** Where the synthetic anomalies start: ten days in, long past the warm-up. */
const AT = 3000;
/** A score this high is an anomaly for these tests; clean noise stays below it. */
const ALARM = 0.55;

/** Scores `n` points of `value(i, e)` (e: fresh standard normal noise) on one slot. */
function scores(n: number, value: (i: number, e: number) => number, seed = 3): number[] {
  const pool = new AnomalyScorerPool(1);
  const slot = pool.allocate();
  const e = noise(seed);
  return Array.from({ length: n }, (_, i) => pool.score(slot, START + i * STEP, value(i, e())));
}

const max = (xs: readonly number[], from = 0, to = xs.length) => Math.max(...xs.slice(from, to));
/** Points after `AT` until the score first reaches `ALARM`, or -1. */
function delay(xs: readonly number[]): number {
  for (let i = AT; i < xs.length; i++) if (xs[i]! >= ALARM) return i - AT;
  return -1;
}

/**
 * Runs `value(i, e, last)` on one slot and follows `measure` (a surprise the pool keeps apart from
 * the score): its largest value before `AT`, and the points after `AT` until it reaches 6, or -1.
 */
function episode(
  measure: (pool: AnomalyScorerPool, slot: number) => number,
  value: (i: number, e: number, last: number) => number,
  n = AT + 300,
): [number, number] {
  const pool = new AnomalyScorerPool(1);
  const slot = pool.allocate();
  const e = noise(3);
  let last = 100;
  let before = 0;
  for (let i = 0; i < n; i++) {
    last = value(i, e(), last);
    pool.score(slot, START + i * STEP, last);
    const surprise = measure(pool, slot);
    if (i < AT) before = Math.max(before, surprise);
    else if (surprise >= 6) return [before, i - AT];
  }
  return [before, -1];
}

describe('AnomalyScorerPool', () => {
  const clean = scores(4000, (_, e) => 100 + e);

  it('keeps clean noise below the alarm level, and scores the warm-up 0', () => {
    expect(clean.slice(0, 99).every((s) => s === 0)).toBe(true);
    expect(max(clean)).toBeLessThan(ALARM);
    expect(clean.every((s) => s >= 0 && s < 1)).toBe(true);
  });

  it('flags a spike at the spike, and nowhere else', () => {
    const s = scores(4000, (i, e) => 100 + e + (i === AT ? 12 : 0));
    expect(s[AT]).toBeGreaterThanOrEqual(ALARM);
    expect(Math.max(max(s, 0, AT), max(s, AT + 1))).toBeLessThan(ALARM);
  });

  it('flags a dip', () => {
    const s = scores(4000, (i, e) => 100 + e - (i === AT ? 12 : 0));
    expect(s[AT]).toBeGreaterThanOrEqual(ALARM);
  });

  it('flags a level shift at its onset, once', () => {
    const s = scores(4000, (i, e) => 100 + e + (i >= AT ? 8 : 0));
    expect(delay(s)).toBeGreaterThanOrEqual(0);
    expect(delay(s)).toBeLessThanOrEqual(2);
    // The new level becomes normal: no alarms a while after the shift.
    expect(max(s, AT + 100)).toBeLessThan(ALARM);
  });

  it('flags a change of trend', () => {
    const s = scores(4000, (i, e) => 100 + e + (i >= AT ? 0.5 * (i - AT) : 0));
    expect(delay(s)).toBeGreaterThanOrEqual(0);
    expect(delay(s)).toBeLessThanOrEqual(30);
  });

  it('flags a change of variance', () => {
    const s = scores(4000, (i, e) => 100 + e * (i >= AT ? 6 : 1));
    expect(delay(s)).toBeGreaterThanOrEqual(0);
    expect(delay(s)).toBeLessThanOrEqual(30);
  });

  it('explains a drop of variance by the variance-down channel', () => {
    // The noise falls to a tenth: no single point is unusual, only their calm.
    const pool = new AnomalyScorerPool(1);
    const slot = pool.allocate();
    const e = noise(3);
    const lull: string[] = [];
    for (let i = 0; i < AT + 60; i++) {
      pool.score(slot, START + i * STEP, 100 + e() * (i >= AT ? 0.1 : 1));
      if (i >= AT + 10) lull.push(pool.explain(slot).channel);
    }
    expect(lull.every((channel) => channel === 'variance-down')).toBe(true);
  });

  it('tells a lull in the noise from calm that is usual for the series', () => {
    const lull = (value: (i: number, e: number, last: number) => number, n?: number) =>
      episode((pool, slot) => pool.calmness(slot).surprise, value, n);
    // The noise falls to a tenth: no point is out of range, the run of them is.
    const [clean, quiet] = lull((i, e) => 100 + e * (i >= AT ? 0.1 : 1));
    expect(clean).toBeLessThan(4.5);
    expect(quiet).toBeGreaterThanOrEqual(0);
    expect(quiet).toBeLessThanOrEqual(60);
    // Not calm: the ordinary noise after a burst (the usual residual is inflated for a while),
    // a random walk, a gauge held for four samples, small counts, and nights that are always
    // quieter than days.
    expect(lull((i, e) => 100 + e * (i >= AT && i < AT + 60 ? 6 : 1))[1]).toBe(-1);
    expect(lull((_, e, last) => last + e)[1]).toBe(-1);
    expect(lull((i, e, last) => (i % 4 === 0 ? 100 + e : last))[1]).toBe(-1);
    expect(lull((_, e) => Math.max(0, Math.round(3 + 1.7 * e)))[1]).toBe(-1);
    const night = (i: number) => i % PER_DAY < PER_DAY / 3;
    const [nights, nightsLater] = lull(
      (i, e) => 100 + 20 * Math.sin((2 * Math.PI * i) / PER_DAY) + e * (night(i) ? 0.2 : 1),
      AT + 3 * PER_DAY,
    );
    expect(nights).toBeLessThan(4.5);
    expect(nightsLater).toBe(-1);
  });

  it('tells a stuck series from one that repeats itself by nature or by chance', () => {
    const stuckness = (value: (i: number, e: number, last: number) => number) =>
      episode((pool, slot) => pool.repeats(slot).surprise, value, AT + 200);
    // A noisy gauge that freezes at its last value: a one-in-a-million run within a few points.
    const [calm, frozen] = stuckness((i, e, last) => (i >= AT ? last : 100 + e));
    expect(calm).toBe(0);
    expect(frozen).toBeGreaterThanOrEqual(0);
    expect(frozen).toBeLessThanOrEqual(4);
    // A gauge sampled four times per update repeats itself by nature: only a long freeze counts.
    const [held, heldFrozen] = stuckness((i, e, last) => (i < AT && i % 4 === 0 ? 100 + e : last));
    expect(held).toBeLessThan(3);
    expect(heldFrozen).toBeGreaterThan(10);
    expect(heldFrozen).toBeLessThanOrEqual(60);
    // Small counts repeat by chance (a resolution of 1 against a spread of about 1.7).
    const [counts, countsFrozen] = stuckness((_, e) => Math.max(0, Math.round(3 + 1.7 * e)));
    expect(counts).toBeLessThan(5);
    expect(countsFrozen).toBe(-1);
    // A series that has never changed is not stuck: it is constant.
    expect(stuckness(() => 7)).toEqual([0, -1]);
  });

  it('learns a nightly batch spike as normal, but not the same spike at noon', () => {
    const noon = 13 * PER_DAY + PER_DAY / 2;
    const batch = (i: number) => i % PER_DAY >= 24 && i % PER_DAY < 27; // 02:00–02:15 every night
    const s = scores(
      14 * PER_DAY,
      (i, e) =>
        100 +
        5 * Math.sin((2 * Math.PI * (i % PER_DAY)) / PER_DAY) +
        e +
        (batch(i) || (i >= noon && i < noon + 3) ? 15 : 0),
    );
    const nightly = (day: number) => max(s, day * PER_DAY + 24, day * PER_DAY + 33);
    // The first night is news; from the fifth on, the batch is just what happens at 02:00.
    expect(nightly(1)).toBeGreaterThan(nightly(12));
    for (let day = 5; day < 14; day++) expect(nightly(day)).toBeLessThan(0.5);
    expect(max(s, noon, noon + 3)).toBeGreaterThanOrEqual(ALARM);
  });

  it('judges a weekday at weekend volume by the hour of the week, and weekends as usual', () => {
    const WEEK = 7 * PER_DAY;
    const wednesday = 4 * WEEK + 2 * PER_DAY;
    const quiet = (i: number) =>
      Math.floor(i / PER_DAY) % 7 >= 5 || (i >= wednesday && i < wednesday + PER_DAY);
    const pool = new AnomalyScorerPool(1);
    const slot = pool.allocate();
    const e = noise(3);
    // The weekly channels' largest surprise over the fourth weekend and over the quiet Wednesday,
    // and how many of the Wednesday's points they explain.
    let weekend = 0;
    let weekday = 0;
    let explained = 0;
    for (let i = 0; i < wednesday + PER_DAY; i++) {
      const value = (100 + 20 * Math.sin((2 * Math.PI * i) / PER_DAY)) * (quiet(i) ? 0.6 : 1) + 2 * e();
      pool.score(slot, START + i * STEP, value);
      const { channel, surprise } = pool.explain(slot);
      const weekly = channel.startsWith('weekly-') ? surprise : 0;
      if (i >= 3 * WEEK + 5 * PER_DAY && i < 4 * WEEK) weekend = Math.max(weekend, weekly);
      if (i >= wednesday) {
        weekday = Math.max(weekday, weekly);
        if (channel === 'weekly-low') explained++;
      }
    }
    expect(explained).toBeGreaterThan(0.7 * PER_DAY);
    expect(weekday).toBeGreaterThan(1.5 * weekend);
  });

  // Known gap: the weekly-low channel names the quiet Wednesday but scores it about 0.51: the
  // context's scale carries the weekday/weekend mismatch of the time-of-day profile (shrinkage
  // towards the series-wide deviation), and the weekly tails learnt the second and third weeks'
  // still unsettled profile (README, "What it can't do yet").
  it.fails('learns quiet weekends as normal, but not a quiet Wednesday', () => {
    const WEEK = 7 * PER_DAY;
    const wednesday = 4 * WEEK + 2 * PER_DAY;
    const quiet = (i: number) =>
      Math.floor(i / PER_DAY) % 7 >= 5 || (i >= wednesday && i < wednesday + PER_DAY);
    const s = scores(
      5 * WEEK,
      (i, e) => (100 + 20 * Math.sin((2 * Math.PI * i) / PER_DAY)) * (quiet(i) ? 0.6 : 1) + 2 * e,
    );
    // The fourth weekend is what weekends do; the fifth week's Wednesday is not.
    expect(max(s, 3 * WEEK + 5 * PER_DAY, 4 * WEEK)).toBeLessThan(ALARM);
    expect(max(s, wednesday, wednesday + PER_DAY)).toBeGreaterThanOrEqual(ALARM);
  });

  it('tells how long a series has been silent, in its own intervals', () => {
    const pool = new AnomalyScorerPool(1);
    const slot = pool.allocate();
    expect(pool.silence(slot, START)).toBe(0); // no cadence yet
    for (let i = 0; i < 50; i++) pool.score(slot, START + i * STEP, 100 + (i % 3));
    const last = START + 49 * STEP;
    expect(pool.interval(slot)).toBeCloseTo(STEP, 6);
    expect(pool.silence(slot, last + STEP)).toBeCloseTo(1, 6);
    expect(pool.silence(slot, last + 30 * STEP)).toBeCloseTo(30, 6);
    // After the gap the series is scored again, finitely.
    const after = pool.score(slot, last + 30 * STEP, 101);
    expect(Number.isFinite(after)).toBe(true);
    expect(pool.silence(slot, last + 31 * STEP)).toBeLessThan(2);
  });

  it('explains the expected range behind an alarm', () => {
    const pool = new AnomalyScorerPool(1);
    const slot = pool.allocate();
    const e = noise(5);
    for (let i = 0; i < AT; i++) pool.score(slot, START + i * STEP, 100 + e());
    const score = pool.score(slot, START + AT * STEP, 130);
    const why = pool.explain(slot);
    expect(score).toBeGreaterThanOrEqual(ALARM);
    expect(why.channel).toBe('spike');
    expect(why.expected).toBeGreaterThan(98);
    expect(why.expected).toBeLessThan(102);
    expect(why.low).toBeLessThan(why.expected);
    expect(why.high).toBeLessThan(130);
    expect(why.surprise).toBeGreaterThan(4);
  });

  it('ignores non-finite values and keeps slots independent and bounded', () => {
    const pool = new AnomalyScorerPool(2);
    const a = pool.allocate();
    const b = pool.allocate();
    expect(pool.allocate()).toBe(-1);
    expect(pool.size).toBe(2);
    pool.score(a, START, 1);
    expect(pool.score(a, START + STEP, Number.NaN)).toBe(0);
    expect(pool.points(a)).toBe(1);
    expect(pool.points(b)).toBe(0);
    pool.release(b);
    expect(pool.allocate()).toBe(b);
    expect(BYTES_PER_SERIES).toBeLessThanOrEqual(2048);
  });

  it('keeps what a series learnt while the pool grows, and forgets it when its slot is reused', () => {
    // A daily cycle with noise, so that the profiles (stored bucket by bucket) carry state.
    const value = (i: number, e: number) => 100 + 20 * Math.sin((2 * Math.PI * i) / PER_DAY) + e;
    const alone = scores(2000, value);
    const pool = new AnomalyScorerPool(1000);
    const slot = pool.allocate();
    const e = noise(3);
    const grown: number[] = [];
    const neighbours: number[] = [];
    for (let i = 0; i < 2000; i++) {
      // Every 10 points a neighbour joins (the pool grows from 64 to 256 slots meanwhile); each
      // neighbour gets one wild point, which must not leak into the series' state.
      if (i % 10 === 0) {
        const other = pool.allocate();
        neighbours.push(other);
        pool.score(other, START + i * STEP, 1e6 * (i + 1));
      }
      grown.push(pool.score(slot, START + i * STEP, value(i, e())));
    }
    expect(neighbours.length).toBe(200);
    expect(grown).toEqual(alone);

    // A released slot comes back as new: same scores as a fresh pool's.
    pool.release(slot);
    expect(pool.allocate()).toBe(slot);
    const again = noise(3);
    const reused = Array.from({ length: 2000 }, (_, i) =>
      pool.score(slot, START + i * STEP, value(i, again())),
    );
    expect(reused).toEqual(alone);
  });

  it('exports what a slot learnt and imports it into another pool and slot, which then scores the same', () => {
    const value = (i: number, e: number) => 100 + 20 * Math.sin((2 * Math.PI * i) / PER_DAY) + e;
    const e = noise(4);
    const first = new AnomalyScorerPool(1);
    const a = first.allocate();
    for (let i = 0; i < 3000; i++) first.score(a, START + i * STEP, value(i, e()));
    const image = first.exportSlot(a);
    expect(image.byteLength).toBe(BYTES_PER_SERIES);

    const second = new AnomalyScorerPool(200);
    for (let i = 0; i < 70; i++) second.allocate(); // another slot, after a growth
    const b = second.allocate();
    second.importSlot(b, image);
    expect(second.points(b)).toBe(3000);
    expect(second.interval(b)).toBe(STEP);
    for (let i = 3000; i < 3500; i++) {
      const v = value(i, e()) + (i === 3400 ? 60 : 0);
      expect(second.score(b, START + i * STEP, v)).toBe(first.score(a, START + i * STEP, v));
    }
    expect(() => second.importSlot(b, image.subarray(8))).toThrow(RangeError);
  });
});
