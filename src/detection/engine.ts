import type { Clock, Observation, Signal, TimerHandle } from '../core/index.ts';
import { every } from '../core/index.ts';
import { redact, redactEvidence } from '../logs/redact.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SeriesBudget } from './series-budget.ts';

/** What a detector may do while handling an observation or a tick. */
export interface DetectorContext {
  /** Now, from the engine's clock. */
  now(): number;
  /** Hands a signal to the next stage. */
  emit(signal: Signal): void;
}

/**
 * A detector: stateful per entity or series, cheap per observation. The engine owns its
 * lifecycle; a detector never reads the wall clock, never does I/O and never throws on bad
 * input (it ignores what it cannot use).
 */
export interface Detector {
  /** Registry id, e.g. `metric-threshold`. Also the `detector` field of its signals. */
  readonly id: string;
  /** The observation types it wants; the engine routes only these to it. */
  readonly accepts: readonly Observation['type'][];
  observe(observation: Observation, ctx: DetectorContext): void;
  /** Time-driven conditions (staleness, "must hold for"). Called every engine tick. */
  tick?(ctx: DetectorContext): void;
  /** Entities or series it keeps state for (diagnostics and memory bounds). */
  size?(): number;
  /**
   * What it has learnt, as a JSON-serialisable value, so that a restart or a deploy does not
   * start it over (`restore` takes it back).
   */
  snapshot?(): unknown;
  /**
   * Takes back a `snapshot` (of this or an earlier version), before any observation. What it
   * cannot use is dropped, never thrown. Returns the entities or series restored.
   */
  restore?(state: unknown): number;
}

/** What the detectors learnt, by detector id (`DetectionEngine.snapshot`, JSON-serialisable). */
export type DetectorStates = Record<string, unknown>;

export interface DetectionEngineOptions {
  detectors: readonly Detector[];
  clock: Clock;
  /** Receives every signal, synchronously, in emission order. */
  onSignal: (signal: Signal) => void;
  logger: Logger;
  /**
   * How often time-driven conditions are evaluated.
   * @defaultValue 5000
   */
  tickMs?: number;
  /**
   * Admission of metric series to the detectors that learn a model per series (`detectors`, by
   * id): past the budget a new series gets no model, counted (and reported in the log at most once
   * a minute), instead of evicting what they learnt of established ones. Rule-based detectors
   * (thresholds, staleness) still see every series: a storm of breaching series is what they are
   * for. Without it every series goes everywhere.
   */
  seriesBudget?: { readonly budget: SeriesBudget; readonly detectors: readonly string[] };
}

/** Refused series are reported in the log at most this often. */
const REFUSAL_LOG_MS = 60_000;

/** Routes observations to detectors and runs their ticks on the injected clock. */
export class DetectionEngine {
  readonly #byType = new Map<Observation['type'], Detector[]>();
  readonly #detectors: readonly Detector[];
  readonly #ctx: DetectorContext;
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #logger: Logger;
  readonly #budget: SeriesBudget | undefined;
  readonly #budgeted: ReadonlySet<string>;
  #refusalsLoggedAt = Number.NEGATIVE_INFINITY;
  #ticker: TimerHandle | undefined;

  constructor(options: DetectionEngineOptions) {
    this.#detectors = options.detectors;
    this.#clock = options.clock;
    this.#tickMs = options.tickMs ?? 5000;
    this.#logger = options.logger;
    this.#budget = options.seriesBudget?.budget;
    this.#budgeted = new Set(options.seriesBudget?.detectors ?? []);
    // Evidence and entity keys are redacted here, once, for every detector: what leaves the
    // engine is stored, shown in Slack and given to the LLM.
    this.#ctx = {
      now: () => options.clock.now(),
      emit: (signal) =>
        options.onSignal({
          ...signal,
          entity: redact(signal.entity),
          related: signal.related.map(redact),
          title: capTitle(redact(signal.title)),
          evidence: signal.evidence.map(redactEvidence),
        }),
    };
    for (const d of options.detectors) {
      for (const t of d.accepts) {
        const list = this.#byType.get(t) ?? [];
        list.push(d);
        this.#byType.set(t, list);
      }
    }
  }

  /** Hands each observation to the detectors that accept its type. */
  ingest(observations: readonly Observation[]): void {
    const now = this.#budget ? this.#clock.now() : 0;
    for (const obs of observations) {
      const detectors = this.#byType.get(obs.type);
      if (!detectors) continue;
      if (!this.#budget || obs.type !== 'metric') {
        for (const d of detectors) this.#observe(d, obs);
        continue;
      }
      // Admitted: the observation with its key redacted (when it held a secret); else undefined.
      const admitted = this.#budget.admit(obs, now);
      for (const d of detectors) {
        if (!this.#budgeted.has(d.id)) this.#observe(d, admitted ?? obs);
        else if (admitted) this.#observe(d, admitted);
      }
    }
  }

  /** Evaluates time-driven conditions now. */
  tick(): void {
    if (this.#budget) this.#tickBudget(this.#budget);
    for (const d of this.#detectors) {
      if (!d.tick) continue;
      try {
        d.tick(this.#ctx);
      } catch (err) {
        this.#logger.error({ err, detector: d.id }, 'detector tick failed');
      }
    }
  }

  /** Starts ticking on the clock. */
  start(): void {
    this.#ticker ??= every(this.#clock, this.#tickMs, () => this.tick());
  }

  stop(): void {
    this.#ticker?.cancel();
    this.#ticker = undefined;
  }

  /** State held per detector (series or entities tracked). */
  sizes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.#detectors) out[d.id] = d.size?.() ?? 0;
    return out;
  }

  /** What each detector that can carry its learning over a restart has learnt, by id. */
  snapshot(): DetectorStates {
    const out: DetectorStates = {};
    for (const d of this.#detectors) {
      if (!d.snapshot) continue;
      try {
        out[d.id] = d.snapshot();
      } catch (err) {
        this.#logger.error({ err, detector: d.id }, 'detector state could not be saved');
      }
    }
    return out;
  }

  /** Hands each detector its saved state back (before any observation); returns what each took. */
  restore(states: DetectorStates): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.#detectors) {
      if (!d.restore || states[d.id] === undefined) continue;
      try {
        out[d.id] = d.restore(states[d.id]);
      } catch (err) {
        this.#logger.error({ err, detector: d.id }, 'saved detector state could not be restored');
      }
    }
    return out;
  }

  #tickBudget(budget: SeriesBudget): void {
    const now = this.#clock.now();
    budget.sweep(now);
    if (now - this.#refusalsLoggedAt < REFUSAL_LOG_MS) return;
    const refused = budget.takeRefusals();
    if (refused.total === 0) return;
    this.#refusalsLoggedAt = now;
    this.#logger.warn(
      {
        refusedPoints: refused.total,
        bySource: Object.fromEntries(Object.entries(refused.bySource).map(([k, n]) => [redact(k), n])),
        admittedSeries: budget.size,
        budget: { total: budget.total, perSource: budget.perSource },
      },
      'new metric series over budget get no anomaly model; established series keep theirs',
    );
  }

  #observe(d: Detector, obs: Observation): void {
    try {
      d.observe(obs, this.#ctx);
    } catch (err) {
      // A detector bug must cost one observation, not the service.
      this.#logger.error({ err, detector: d.id }, 'detector failed on an observation');
    }
  }
}

/** Longest signal title: it becomes the incident's title and the head of its Slack message. */
export const TITLE_MAX = 100;

/** Titles longer than {@link TITLE_MAX} are cut with `…` (the detail is in the evidence). */
function capTitle(title: string): string {
  return title.length <= TITLE_MAX ? title : `${title.slice(0, TITLE_MAX - 1)}…`;
}
