import { describe, expect, it } from 'vitest';
import { stillDeparted, youngDeparture } from './young-departure.ts';

const way = (values: number[], unit: string) => youngDeparture(values, unit)?.way;

describe('youngDeparture', () => {
  it('sees a ratio or a percentage reach its full scale where it usually sits lower', () => {
    const ramp = [0.69, 0.7, 0.72, 0.75, 0.79, 0.83, 0.88, 0.94];
    expect(way([...ramp, 0.999, 1], '1')).toBe('saturated');
    expect(way([...ramp.map((v) => v * 100), 99.96, 99.94], '%')).toBe('saturated');
    // One point at the top is not yet a departure.
    expect(way([...ramp.map((v) => v * 100), 91.2, 99.96], '%')).toBeUndefined();
  });

  it('says nothing of a share that sits full all along, nor of a count whose unit has no full scale', () => {
    expect(way([100, 100, 100, 100, 100, 100, 100, 100], '%')).toBeUndefined();
    // A percentage past 100 is no share of a capacity.
    expect(way([40, 50, 60, 70, 80, 85, 150, 160], '%')).toBeUndefined();
    expect(way([0.5, 0.6, 0.55, 0.6, 0.58, 0.61, 0.99, 1], '{task}')).toBeUndefined();
  });

  it('sees a count jump from about zero, and rows fall to nothing', () => {
    expect(way([0, 1, 0, 0, 2, 1, 300, 420], '{throttle}')).toBe('rise');
    expect(way([120, 130, 110, 125, 118, 122, 3, 0], '{row}')).toBe('fall');
  });

  it('stays departed while the value stays past the line it crossed, not only while it moves', () => {
    const fell = youngDeparture([16, 16, 15, 16, 16, 16, 0, 0], '{slot}')!;
    expect(fell.way).toBe('fall');
    expect(stillDeparted(fell, 0)).toBe(true);
    expect(stillDeparted(fell, 12)).toBe(false);
    const rose = youngDeparture([0, 1, 0, 0, 2, 1, 300, 420], '{throttle}')!;
    expect(stillDeparted(rose, 250)).toBe(true);
    expect(stillDeparted(rose, 3)).toBe(false);
  });
});
