import type { EntityKey, Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import {
  headline,
  isErrorEntry,
  isUsableLog,
  labelRelations,
  quote,
  streamName,
} from '../src/logs/entries.ts';
import { TemplateMiner } from '../src/logs/miner.ts';
import { redact } from '../src/logs/redact.ts';

export const LOG_BURST_DETECTOR_ID = 'log-burst';

export interface LogBurstConfig {
  /**
   * Counting window.
   * @defaultValue 60000
   */
  readonly windowMs?: number;
  /**
   * Weight of the latest window in the baseline (an exponentially weighted moving average of
   * entries per window).
   * @defaultValue 0.1
   */
  readonly alpha?: number;
  /**
   * A window bursts when its count exceeds `factor` × baseline (and `minCount`).
   * @defaultValue 4
   */
  readonly factor?: number;
  /**
   * Fewer entries than this in a window never burst, however low the baseline.
   * @defaultValue 10
   */
  readonly minCount?: number;
  /**
   * Windows of history a template needs on its stream before its rate is judged (a template
   * never seen before is `log-new-template`'s, not a burst).
   * @defaultValue 10
   */
  readonly minHistoryWindows?: number;
  /**
   * Hysteresis: a burst resolves after this many consecutive closed windows below half the
   * firing threshold.
   * @defaultValue 3
   */
  readonly clearWindows?: number;
  /**
   * Most (template, stream) rates tracked; beyond it the least recently seen are forgotten.
   * @defaultValue 2000
   */
  readonly maxTracked?: number;
  /**
   * Templates the miner keeps.
   * @defaultValue 5000
   */
  readonly maxTemplates?: number;
}

interface Rate {
  readonly fingerprint: string;
  readonly stream: EntityKey;
  readonly name: string;
  readonly related: EntityKey[];
  template: string;
  /** Index of the current window (`floor(time / windowMs)`). */
  window: number;
  /** Entries in the current window. */
  count: number;
  /** Baseline entries per window (not updated while firing, so a burst does not raise it). */
  baseline: number;
  /** Closed windows seen. */
  history: number;
  firing: boolean;
  /** Threshold the burst crossed, and consecutive closed windows below half of it. */
  threshold: number;
  below: number;
  peak: number;
  examples: string[];
}

/**
 * The rate of an error template on a stream bursting above its own baseline
 * (`log.error_burst`). Error entries are mined into templates (by headline); each (template,
 * stream) counts entries per window against an EWMA baseline. It fires during the window in
 * which the count crosses max(`minCount`, `factor` × baseline) and resolves after
 * `clearWindows` consecutive windows below half that threshold (hysteresis: a rate hovering at
 * the threshold does not flap).
 */
export function createLogBurstDetector(config: LogBurstConfig = {}): Detector {
  const windowMs = Math.max(1000, config.windowMs ?? 60_000);
  const alpha = Math.min(1, Math.max(0.001, config.alpha ?? 0.1));
  const factor = Math.max(1, config.factor ?? 4);
  const minCount = Math.max(1, config.minCount ?? 10);
  const minHistory = Math.max(1, config.minHistoryWindows ?? 10);
  const clearWindows = Math.max(1, config.clearWindows ?? 3);
  const maxTracked = Math.max(1, config.maxTracked ?? 2000);
  const miner = new TemplateMiner({ maxTemplates: config.maxTemplates ?? 5000 });
  /** By `stream \0 template id`, least recently updated first. */
  const rates = new Map<string, Rate>();

  /** Closes windows up to (not including) `window`; may resolve. */
  function roll(r: Rate, window: number, ctx: DetectorContext): void {
    if (window <= r.window) return;
    close(r, r.count, r.window, ctx);
    // Empty windows in between: closed one by one only while they still matter (a burst to
    // resolve, a baseline to decay); the rest only count as history.
    const empty = window - r.window - 1;
    let i = 0;
    for (; i < empty && i < 1000 && (r.firing || r.baseline > 1e-6); i++) close(r, 0, r.window + 1 + i, ctx);
    r.history += empty - i;
    r.window = window;
    r.count = 0;
  }

  function close(r: Rate, count: number, window: number, ctx: DetectorContext): void {
    r.history++;
    if (r.firing) {
      r.below = count < r.threshold / 2 ? r.below + 1 : 0;
      if (r.below >= clearWindows) {
        r.firing = false;
        r.below = 0;
        ctx.emit(signal(r, 'resolved', (window + 1) * windowMs, windowMs));
      }
      return;
    }
    r.baseline = r.history === 1 ? count : alpha * count + (1 - alpha) * r.baseline;
  }

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (!isUsableLog(obs)) return;
    if (!isErrorEntry(obs)) return;
    const mined = miner.add(headline(obs.line), obs.time);
    const key = `${obs.stream}\u0000${mined.template.id}`;
    const window = Math.floor(obs.time / windowMs);
    let r = rates.get(key);
    if (r) {
      rates.delete(key);
    } else {
      if (rates.size >= maxTracked) forgetOldest(ctx);
      r = {
        fingerprint: stableId('logburst_', mined.template.id, obs.stream),
        stream: obs.stream,
        name: streamName(obs.labels),
        related: labelRelations(obs.labels),
        template: '',
        window,
        count: 0,
        baseline: 0,
        history: 0,
        firing: false,
        threshold: 0,
        below: 0,
        peak: 0,
        examples: [],
      };
    }
    rates.set(key, r);
    roll(r, window, ctx);
    r.count++;
    r.template = redact(mined.template.template);
    if (r.firing) {
      if (r.count > r.peak) r.peak = r.count;
      return;
    }
    r.examples =
      r.examples.length < 3 ? [...r.examples, quote(obs.line)] : [...r.examples.slice(1), quote(obs.line)];
    const threshold = Math.max(minCount, factor * r.baseline);
    if (r.history >= minHistory && r.count > threshold) {
      r.firing = true;
      r.threshold = threshold;
      r.below = 0;
      r.peak = r.count;
      ctx.emit(signal(r, 'firing', obs.time, windowMs));
    }
  }

  function forgetOldest(ctx: DetectorContext): void {
    const [key, oldest] = rates.entries().next().value ?? [];
    if (key === undefined || !oldest) return;
    rates.delete(key);
    if (oldest.firing) ctx.emit(signal(oldest, 'resolved', ctx.now(), windowMs));
  }

  return {
    id: LOG_BURST_DETECTOR_ID,
    accepts: ['log'],
    observe,
    tick(ctx) {
      // A burst that stops outright gets no more entries to close its windows: the clock does.
      const window = Math.floor(ctx.now() / windowMs);
      for (const r of rates.values()) if (r.firing) roll(r, window, ctx);
    },
    size: () => miner.size + rates.size,
  };
}

function signal(r: Rate, status: Signal['status'], time: number, windowMs: number): Signal {
  const perWindow = `${Math.round(windowMs / 1000)} s`;
  return {
    fingerprint: r.fingerprint,
    kind: 'log.error_burst',
    status,
    entity: r.stream,
    related: [...r.related],
    time,
    severity: 'high',
    title: `Error burst in ${r.name}: ${r.peak} in ${perWindow} (baseline ${r.baseline.toFixed(1)}) of ${
      r.template.length > 100 ? `${r.template.slice(0, 99)}…` : r.template
    }`,
    detector: LOG_BURST_DETECTOR_ID,
    evidence: [
      { kind: 'text', label: 'template', text: r.template },
      { kind: 'value', label: `entries per ${perWindow} (peak)`, value: r.peak },
      { kind: 'value', label: `baseline per ${perWindow}`, value: Number(r.baseline.toFixed(2)) },
      { kind: 'value', label: 'threshold', value: Number(r.threshold.toFixed(2)) },
      { kind: 'log', label: 'examples', lines: [...r.examples] },
    ],
  };
}
