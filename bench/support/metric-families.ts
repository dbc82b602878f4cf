import { noise, uniform } from './noise.ts';

/**
 * Seeded synthetic metric series with labelled anomalies, in families that look like what
 * Guardian watches in production (and like NAB's held-out categories, which are not used here):
 * seasonal series with level shifts, small counts, sparse spikes, quantised plateaus (CPU, disk
 * bytes), random walks, gaps and restarts, EC2-like CPU with benign bursts, request counts with
 * daily and weekly cycles, EC2 disk and network bytes, RDS CPU with its backup window. Each anomaly is labelled with a NAB-style window (10 % of the series
 * shared among its anomalies, starting a little before the onset), so the NAB scoring rules
 * apply unchanged. Some families carry benign events (bursts, gaps, restarts) that are not
 * anomalies: alarms there are false positives.
 */

export interface SyntheticSeries {
  readonly family: string;
  readonly name: string;
  /** Epoch ms per point. */
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** Inclusive point ranges of the anomaly windows. */
  readonly windows: readonly (readonly [number, number])[];
}

const STEP = 300_000;
const START = Date.UTC(2022, 2, 7); // a Monday
const DAY = 288; // points a day at five-minute steps

interface Draw {
  readonly u: () => number;
  readonly z: () => number;
}

/** Poisson draw (Knuth for small means, normal approximation above 50). */
function poisson(d: Draw, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * d.z()));
  const l = Math.exp(-mean);
  let k = 0;
  let p = d.u();
  while (p > l) {
    k++;
    p *= d.u();
  }
  return k;
}

/** Anomaly onsets → NAB-style windows over `n` points. */
function windowsFor(n: number, onsets: readonly number[]): [number, number][] {
  const width = Math.floor((0.1 * n) / Math.max(onsets.length, 1));
  return onsets.map((o) => [
    Math.max(0, o - Math.floor(width / 4)),
    Math.min(n - 1, o + width - Math.floor(width / 4) - 1),
  ]);
}

/** An onset in the scored part (after NAB's 15 % probation and the first days), away from the end. */
function onset(d: Draw, n: number, from = 0.35, to = 0.9): number {
  return Math.floor(n * (from + (to - from) * d.u()));
}

/** A series' values and anomaly onsets; `skipped` points are dropped (gaps in the feed). */
type Generator = (d: Draw, n: number) => { values: number[]; onsets: number[]; skipped?: number[] };

const daily = (i: number) => Math.sin((2 * Math.PI * i) / DAY);

/** The families: name → generator of one series' values and anomaly onsets. */
const FAMILIES: Record<string, Generator> = {
  /** A daily cycle with noise; one level shift up or down of 4–8 noise deviations. */
  'seasonal-level-shift': (d, n) => {
    const at = onset(d, n);
    const shift = (d.u() < 0.5 ? -1 : 1) * (4 + 4 * d.u());
    return {
      values: Array.from({ length: n }, (_, i) => 50 + 10 * daily(i) + d.z() + (i >= at ? shift : 0)),
      onsets: [at],
    };
  },
  /** Small counts (mean 2–5) on a daily cycle; the rate quadruples for 30 points. */
  counts: (d, n) => {
    const base = 2 + 3 * d.u();
    const at = onset(d, n);
    return {
      values: Array.from({ length: n }, (_, i) =>
        poisson(d, base * (1 + 0.5 * daily(i)) * (i >= at && i < at + 30 ? 4 : 1)),
      ),
      onsets: [at],
    };
  },
  /** Flat noise with two isolated spikes of 8–12 deviations. */
  'sparse-spikes': (d, n) => {
    const a = onset(d, n, 0.3, 0.55);
    const b = onset(d, n, 0.65, 0.9);
    return {
      values: Array.from({ length: n }, (_, i) => 20 + d.z() + (i === a || i === b ? 8 + 4 * d.u() : 0)),
      onsets: [a, b],
    };
  },
  /**
   * Quantised plateaus like a CPU percentage or disk bytes: the value holds for a random while
   * (5–60 points), then moves to a nearby level on a 0.5 grid; one plateau far above the range.
   */
  'quantised-plateaus': (d, n) => {
    const at = onset(d, n);
    const values: number[] = [];
    let level = 10;
    let left = 0;
    for (let i = 0; i < n; i++) {
      if (left-- <= 0) {
        level = Math.min(20, Math.max(2, level + 0.5 * Math.round(3 * d.z())));
        left = 5 + Math.floor(55 * d.u());
      }
      values.push(i >= at && i < at + 40 ? 60 : level);
    }
    return { values, onsets: [at] };
  },
  /** A Gaussian random walk whose steps grow tenfold for 30 points. */
  'random-walk': (d, n) => {
    const at = onset(d, n);
    let x = 100;
    return {
      values: Array.from({ length: n }, (_, i) => {
        x += d.z() * (i >= at && i < at + 30 ? 10 : 1);
        return x;
      }),
      onsets: [at],
    };
  },
  /**
   * A daily series with a benign gap (six hours without points), a restart (the value drops to a
   * fresh low level for an hour, as a process coming back does: an anomaly) and a level drop.
   */
  'gaps-and-restarts': (d, n) => {
    const gap = onset(d, n, 0.25, 0.4);
    const restart = onset(d, n, 0.45, 0.6);
    const at = onset(d, n, 0.7, 0.9);
    const values: number[] = [];
    const skipped: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i >= gap && i < gap + 72) skipped.push(i);
      const down = i >= restart && i < restart + 12 ? -25 : 0;
      values.push(40 + 8 * daily(i) + d.z() + down + (i >= at ? -10 : 0));
    }
    return { values, onsets: [restart, at], skipped };
  },
  /**
   * EC2 CPUUtilization of a 2- or 4-vCPU instance, as CloudWatch reports it (the mean over five
   * minutes of all vCPUs, a percentage): a low baseline with multiplicative noise, benign bursts
   * of heavy-tailed height (Pareto, up to 100 %) and length (1–12 points) two to four times a day
   * at random times, and one benign restart (half an hour without points, then boot work for two
   * points). The anomaly: one runaway thread pins a core for two to four hours, a plateau at
   * `100 / vCPUs` above the baseline (25 or 50 %), lower than the bursts' peaks but lasting.
   * Sources: AWS EC2 User Guide, "List the available CloudWatch metrics for your instances"
   * (CPUUtilization; basic monitoring in five-minute periods) and "Standard mode for burstable
   * performance instances" (bursts above the baseline, lowered to it when credits run out).
   */
  'ec2-cpu-bursts': (d, n) => {
    const vcpus = d.u() < 0.5 ? 2 : 4;
    const base = 2 + 8 * d.u();
    const perDay = 2 + 2 * d.u();
    const at = onset(d, n);
    const runaway = 24 + Math.floor(24 * d.u());
    const restart = onset(d, n, 0.2, 0.3);
    const values: number[] = [];
    const skipped: number[] = [];
    let burst = 0;
    let height = 0;
    for (let i = 0; i < n; i++) {
      if (burst <= 0 && d.u() < perDay / DAY) {
        burst = 1 + Math.min(11, Math.floor(pareto(d, 1.2)));
        height = base + 8 * pareto(d, 1.3);
      }
      let v = base * Math.exp(0.25 * d.z());
      if (burst > 0) {
        v += height * (0.8 + 0.2 * d.u());
        burst--;
      }
      if (i >= restart && i < restart + 6) skipped.push(i);
      if (i === restart + 6 || i === restart + 7) v = 60 + 20 * d.u();
      if (i >= at && i < at + runaway) v += 100 / vcpus;
      values.push(Math.round(Math.min(100, v) * 1000) / 1000);
    }
    return { values, onsets: [at], skipped };
  },
  /**
   * Disk or network bytes of a mostly idle host: zero most of the time, benign bursts of
   * heavy-tailed size (log-normal) a few times a day; one sustained transfer (two hours at ten
   * times the median burst).
   */
  'idle-bytes-bursts': (d, n) => {
    const at = onset(d, n);
    const median = 1e5 * (1 + 9 * d.u());
    return {
      values: Array.from({ length: n }, (_, i) => {
        if (i >= at && i < at + 24) return Math.round(10 * median * (1 + 0.1 * d.z()));
        return d.u() < 4 / DAY ? Math.round(median * Math.exp(d.z())) : 0;
      }),
      onsets: [at],
    };
  },
  /**
   * EC2 DiskWriteBytes (bytes written in five minutes): small writes of log-normal size in a
   * third of the periods, and a nightly backup or log rotation at a fixed time writing for half an
   * hour (benign: it happens every night). The anomaly: a write storm (a process logging in a
   * loop) at a few hundredths of the backup's rate, for three hours at a random time.
   * Source: AWS EC2 User Guide, "List the available CloudWatch metrics for your instances"
   * (DiskWriteBytes, a Sum per period).
   */
  'disk-write-nightly': (d, n) => {
    const at = onset(d, n);
    const small = 2e4 * (1 + 4 * d.u());
    const backup = 5e7 * (1 + d.u());
    const hour = Math.floor(DAY * (0.05 + 0.15 * d.u()));
    const values = Array.from({ length: n }, (_, i) => {
      const t = i % DAY;
      let v = d.u() < 0.33 ? small * Math.exp(d.z()) : 0;
      if (t >= hour && t < hour + 6) v += backup * (0.7 + 0.6 * d.u());
      if (i >= at && i < at + 36) v += 0.03 * backup * (1 + 0.3 * d.z());
      return Math.round(Math.max(0, v));
    });
    return { values, onsets: [at] };
  },
  /**
   * EC2 NetworkIn (bytes received in five minutes) of a busy host: a daily cycle with
   * log-normal noise and benign bursts of Pareto size (a deploy pulling an image, a cache
   * refill) about twice a day. The anomaly: traffic falls to a twentieth (the service behind it
   * stopped answering) or rises sixfold (a flood) for two hours.
   * Source: AWS EC2 User Guide, "List the available CloudWatch metrics for your instances"
   * (NetworkIn, a Sum per period).
   */
  'network-in-heavy-tail': (d, n) => {
    const at = onset(d, n);
    const level = 1e6 * (1 + 9 * d.u());
    const factor = d.u() < 0.5 ? 0.05 : 6;
    const values = Array.from({ length: n }, (_, i) => {
      let v = level * (1 + 0.6 * daily(i)) * Math.exp(0.4 * d.z());
      if (d.u() < 2 / DAY) v += level * Math.min(pareto(d, 1.2), 300);
      if (i >= at && i < at + 24) v *= factor;
      return Math.round(v);
    });
    return { values, onsets: [at] };
  },
  /**
   * RDS CPUUtilization: a daily and weekly cycle (weekends at 60 %), multiplicative noise, the
   * daily automated backup in its window (a benign rise of 15–25 points for 20–30 minutes at the
   * same time every day). The anomaly: a runaway query adds 25–40 points for three hours.
   * Sources: Amazon RDS User Guide, "Amazon CloudWatch metrics for Amazon RDS" (CPUUtilization)
   * and "Introduction to backups" (automated backups run daily in the backup window).
   */
  'rds-cpu-backup-window': (d, n) => {
    const at = onset(d, n);
    const base = 10 + 10 * d.u();
    const window = Math.floor(DAY * d.u());
    const lift = 15 + 10 * d.u();
    const extra = 25 + 15 * d.u();
    const values = Array.from({ length: n }, (_, i) => {
      const weekday = Math.floor(i / DAY) % 7;
      let v = base * (weekday >= 5 ? 0.6 : 1) * (1 + 0.4 * daily(i - DAY / 4)) * Math.exp(0.1 * d.z());
      const t = i % DAY;
      if (t >= window && t < window + 4 + Math.floor(3 * d.u())) v += lift * (0.8 + 0.4 * d.u());
      if (i >= at && i < at + 36) v += extra * (0.9 + 0.2 * d.u());
      return Math.round(Math.min(100, v) * 100) / 100;
    });
    return { values, onsets: [at] };
  },
  /**
   * Load balancer RequestCount (requests completed in five minutes): a daily and weekly cycle
   * (weekends at 40 %), over-dispersed (Poisson with a gamma-distributed rate, as traffic from
   * many clients of different sizes is), with benign crawler bursts (double the traffic for one
   * or two points) every two days or so. The anomaly: an outage where traffic falls to a fifth
   * for two hours.
   * Source: Elastic Load Balancing User Guide, "CloudWatch metrics for your Application Load
   * Balancer" (RequestCount, a Sum per period).
   */
  'request-counts-weekly': (d, n) => {
    const at = onset(d, n, 0.5, 0.9);
    const peak = 200 + 300 * d.u();
    let crawl = 0;
    return {
      values: Array.from({ length: n }, (_, i) => {
        const weekday = Math.floor(i / DAY) % 7;
        const week = weekday >= 5 ? 0.4 : 1;
        if (crawl <= 0 && d.u() < 0.5 / DAY) crawl = 1 + Math.floor(2 * d.u());
        const rate = peak * week * (0.55 + 0.45 * daily(i - DAY / 4)) * gamma20(d) * (crawl-- > 0 ? 2 : 1);
        return poisson(d, rate * (i >= at && i < at + 24 ? 0.2 : 1));
      }),
      onsets: [at],
    };
  },
};

/** Pareto draw with minimum 1 and tail index `alpha` (heavier tails for smaller alpha). */
function pareto(d: Draw, alpha: number): number {
  return (1 - d.u()) ** (-1 / alpha);
}

/** A gamma draw of mean 1 and shape 20 (a sum of exponentials): a rate's over-dispersion. */
function gamma20(d: Draw): number {
  let s = 0;
  for (let k = 0; k < 20; k++) s -= Math.log(1 - d.u());
  return s / 20;
}

/** Family names, in report order. */
export const FAMILY_NAMES = Object.keys(FAMILIES);

/**
 * `perFamily` series of every family, `points` long (default four weeks at five minutes),
 * deterministic for a `seed`.
 */
export function syntheticFamilies(seed: number, perFamily = 6, points = 28 * DAY): SyntheticSeries[] {
  const out: SyntheticSeries[] = [];
  FAMILY_NAMES.forEach((family, f) => {
    for (let k = 0; k < perFamily; k++) {
      const s = seed * 1000 + f * 100 + k;
      const d: Draw = { u: uniform(s), z: noise(s + 7) };
      const made = FAMILIES[family]!(d, points);
      const skip = new Set(made.skipped ?? []);
      const keep = made.values.flatMap((_, i) => (skip.has(i) ? [] : [i]));
      // Rows dropped for gaps: windows are mapped onto the rows that remain.
      const row = new Map(keep.map((i, r) => [i, r] as const));
      const windows = windowsFor(points, made.onsets).map(
        ([a, b]) => [nearest(row, a, 1), nearest(row, b, -1)] as const,
      );
      out.push({
        family,
        name: `${family}-${k}`,
        times: Float64Array.from(keep, (i) => START + i * STEP),
        values: Float64Array.from(keep, (i) => made.values[i]!),
        windows,
      });
    }
  });
  return out;
}

/** The row of point `i`, or of the nearest kept point in direction `dir`. */
function nearest(row: ReadonlyMap<number, number>, i: number, dir: number): number {
  for (let j = i; ; j += dir) {
    const r = row.get(j);
    if (r !== undefined) return r;
  }
}
