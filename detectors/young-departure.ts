/**
 * A departure a young series shows before its model has warmed up: the learnt scorer says
 * nothing for its first hundred points, yet a throttle count jumping from about zero to
 * hundreds, a duration pinned at a timeout, rows falling to nothing or a ratio pinned at 100 %
 * is news on a series' first night. Judged against the series' own recent points only, and only
 * when two points in a row depart the same way (one odd point is not a departure).
 */

/** Points a series must have shown before its departures are judged. */
export const YOUNG_MIN_POINTS = 4;

/** How many times its recent spread (and its largest value) a rise must clear. */
const RISE_FACTOR = 10;
/** A fall to this share of everything the series showed (all of it positive). */
const FALL_SHARE = 0.1;
/**
 * A share of a capacity at or above this (of its full scale), where it usually sits below
 * `SATURATION_USUAL`: memory, disk or connections used up.
 */
const SATURATED = 0.98;
const SATURATION_USUAL = 0.9;

/**
 * The full scale of a series that is a share of a capacity, by its UCUM unit as OpenTelemetry
 * writes it: `1` for a ratio (`system.filesystem.utilization`), `%` for a percentage (what
 * CloudWatch reports as `Percent`). Other units have no full scale.
 */
function fullScale(unit: string): number | undefined {
  if (unit === '1') return 1;
  if (unit === '%') return 100;
  return undefined;
}

export type YoungDeparture = 'rise' | 'fall' | 'saturated';

/**
 * A departure and the line it crossed: the series is still departed while its value stays past
 * `bound` (above it for a rise or a saturation, at or below it for a fall).
 */
export interface Departed {
  readonly way: YoungDeparture;
  readonly bound: number;
}

/**
 * Whether the latest two of `values` (oldest first; the last is the point being judged) depart
 * from the points before them, how, and past which value.
 */
export function youngDeparture(values: readonly number[], unit: string): Departed | undefined {
  const n = values.length;
  if (n < YOUNG_MIN_POINTS + 2) return undefined;
  const prior = values.slice(0, n - 2).sort((a, b) => a - b);
  const last = [values[n - 2]!, values[n - 1]!];
  const q = (p: number) => prior[Math.min(prior.length - 1, Math.floor(p * prior.length))]!;
  const max = prior[prior.length - 1]!;
  const min = prior[0]!;
  const rise = Math.max(RISE_FACTOR * (q(0.9) - q(0.1)) + max, 2 * max);
  if (last.every((v) => v > rise && v > 0)) return { way: 'rise', bound: rise };
  if (min > 0 && last.every((v) => v <= FALL_SHARE * min)) return { way: 'fall', bound: FALL_SHARE * min };
  const full = fullScale(unit);
  if (full && q(0.5) < SATURATION_USUAL * full && last.every((v) => v >= SATURATED * full && v <= full))
    return { way: 'saturated', bound: SATURATED * full };
  return undefined;
}

/**
 * Whether `value` is still past the line `departed` crossed: a pool's free slots that fell to 0
 * and stay there are still departed, though the series no longer moves.
 */
export function stillDeparted(departed: Departed, value: number): boolean {
  return departed.way === 'fall' ? value <= departed.bound : value >= departed.bound;
}
