import type { MetricObservation } from '../core/index.ts';
import { redact } from '../logs/redact.ts';

/** How many metric series detection admits, and from whom. */
export interface SeriesBudgetOptions {
  /**
   * Series admitted at once in all. The anomaly detector holds a model for each admitted series,
   * so this is also its capacity: a new series never evicts an established one's model.
   * @defaultValue 10000
   */
  readonly total?: number;
  /**
   * Series admitted at once from one source (`service.name`, else `job`, else `unknown`): a
   * runaway or hostile exporter fills its own share, not everyone's.
   * @defaultValue 2000
   */
  readonly perSource?: number;
  /**
   * A series without a point for this long gives its place back (a replaced host, a finished
   * job). @defaultValue 1 h
   */
  readonly idleMs?: number;
  /**
   * Sources counted apart at most; past it, new sources share one `(other sources)` account, so
   * a flood of distinct `service.name` values cannot grow this table either.
   * @defaultValue 1000
   */
  readonly maxSources?: number;
  /**
   * A series whose key (name and every attribute) is longer than this is refused: a runaway
   * attribute (a SQL text, a request body) would make every copy of the key that large.
   * @defaultValue 4096
   */
  readonly maxKeyLength?: number;
  /** A series with more attributes than this is refused. @defaultValue 64 */
  readonly maxAttributes?: number;
}

interface Admitted {
  readonly source: string;
  lastSeen: number;
  /** The observation's series and attributes with secrets masked, when they held any. */
  readonly clean?: Pick<MetricObservation, 'series' | 'attributes'>;
}

/** What the budget refused since it was last asked, by source. */
export interface SeriesRefusals {
  readonly total: number;
  readonly bySource: Readonly<Record<string, number>>;
}

const OTHER = '(other sources)';

/**
 * Admission of metric series into detection. An established series is always admitted; a new
 * one only while its source and the whole are under budget. A refused point is counted, never an
 * established series' learnt model evicted for it: ten million series pushed by one exporter
 * cost that exporter its new series, not everyone their anomaly detection.
 *
 * Admission is also where a series' key and attributes are redacted, once per series: they
 * become entity keys, which reach the incident store, Slack and the LLM.
 */
export class SeriesBudget {
  readonly total: number;
  readonly perSource: number;
  readonly idleMs: number;
  readonly #maxSources: number;
  readonly #maxKeyLength: number;
  readonly #maxAttributes: number;
  /** Insertion order is recency order: a point moves its series to the end. */
  readonly #series = new Map<string, Admitted>();
  readonly #bySource = new Map<string, number>();
  #refused = new Map<string, number>();
  #refusedTotal = 0;
  #refusedEver = 0;

  constructor(options: SeriesBudgetOptions = {}) {
    this.total = positive(options.total ?? 10_000, 'total');
    this.perSource = positive(options.perSource ?? 2000, 'perSource');
    this.idleMs = positive(options.idleMs ?? 3_600_000, 'idleMs');
    this.#maxSources = positive(options.maxSources ?? 1000, 'maxSources');
    this.#maxKeyLength = positive(options.maxKeyLength ?? 4096, 'maxKeyLength');
    this.#maxAttributes = positive(options.maxAttributes ?? 64, 'maxAttributes');
  }

  /** The observation to detect on (redacted if it held secrets), or undefined when refused. */
  admit(obs: MetricObservation, now: number): MetricObservation | undefined {
    const known = this.#series.get(obs.series);
    if (known) {
      known.lastSeen = now;
      this.#series.delete(obs.series);
      this.#series.set(obs.series, known);
      return known.clean ? { ...obs, ...known.clean } : obs;
    }
    const source = this.#sourceOf(obs);
    const used = this.#bySource.get(source) ?? 0;
    if (
      used >= this.perSource ||
      this.#series.size >= this.total ||
      obs.series.length > this.#maxKeyLength ||
      Object.keys(obs.attributes).length > this.#maxAttributes
    ) {
      this.#refusedTotal++;
      this.#refusedEver++;
      // Bounded like the sources: a flood of sources is counted under one name.
      const key = this.#refused.has(source) || this.#refused.size < this.#maxSources ? source : OTHER;
      this.#refused.set(key, (this.#refused.get(key) ?? 0) + 1);
      return undefined;
    }
    const clean = cleanSeries(obs);
    this.#series.set(obs.series, { source, lastSeen: now, ...(clean ? { clean } : {}) });
    this.#bySource.set(source, used + 1);
    return clean ? { ...obs, ...clean } : obs;
  }

  /** Gives back the places of series idle for `idleMs`; returns how many. */
  sweep(now: number): number {
    let freed = 0;
    for (const [series, entry] of this.#series) {
      // Recency order: the first series seen recently ends the sweep.
      if (now - entry.lastSeen < this.idleMs) break;
      this.#series.delete(series);
      const left = (this.#bySource.get(entry.source) ?? 1) - 1;
      if (left > 0) this.#bySource.set(entry.source, left);
      else this.#bySource.delete(entry.source);
      freed++;
    }
    return freed;
  }

  /** Series admitted now. */
  get size(): number {
    return this.#series.size;
  }

  /** Sources with admitted series now. */
  get sources(): number {
    return this.#bySource.size;
  }

  /** Points refused since the budget was created. */
  get refusedEver(): number {
    return this.#refusedEver;
  }

  /** What was refused since the last call, by source (most first); resets the count. */
  takeRefusals(): SeriesRefusals {
    const sorted = [...this.#refused].sort((a, b) => b[1] - a[1]).slice(0, 20);
    const out = { total: this.#refusedTotal, bySource: Object.fromEntries(sorted) };
    this.#refused = new Map();
    this.#refusedTotal = 0;
    return out;
  }

  #sourceOf(obs: MetricObservation): string {
    const source = obs.attributes['service.name'] ?? obs.attributes.job ?? 'unknown';
    return this.#bySource.has(source) || this.#bySource.size < this.#maxSources ? source : OTHER;
  }
}

/** The series key and attributes with secrets masked; undefined when there were none. */
function cleanSeries(obs: MetricObservation): Pick<MetricObservation, 'series' | 'attributes'> | undefined {
  const series = redact(obs.series);
  if (series === obs.series) return undefined;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(obs.attributes)) {
    // In context, so that `password="…"` is known for a secret by its name.
    const inContext = redact(`${k}="${v}"`);
    const head = `${k}="`;
    attributes[redact(k)] =
      inContext.startsWith(head) && inContext.endsWith('"') ? inContext.slice(head.length, -1) : redact(v);
  }
  return { series, attributes };
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`series budget: ${name} must be positive`);
  return n;
}
