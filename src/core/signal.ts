import type { EntityKey } from './entity-keys.ts';

export type Severity = 'info' | 'low' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['info', 'low', 'high', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** Something that can be shown to a human as support for a conclusion. Already redacted. */
export type Evidence =
  | { readonly kind: 'value'; readonly label: string; readonly value: number; readonly unit?: string }
  | { readonly kind: 'text'; readonly label: string; readonly text: string }
  | { readonly kind: 'log'; readonly label: string; readonly lines: readonly string[] }
  | { readonly kind: 'link'; readonly label: string; readonly url: string };

/** The text of the first `text` evidence item with this label, if any. */
export function evidenceText(
  s: { readonly evidence: readonly Evidence[] },
  label: string,
): string | undefined {
  for (const e of s.evidence) if (e.kind === 'text' && e.label === label) return e.text;
  return undefined;
}

/**
 * What a detector concluded about one entity. A detector emits `firing` when a condition starts
 * (and may emit it again as evidence changes) and `resolved` when it clears; both carry the same
 * fingerprint.
 */
export interface Signal {
  /** Deterministic: the same condition on the same entity always has the same fingerprint. */
  readonly fingerprint: string;
  /** `metric.threshold`, `metric.stale`, `airflow.task_failed`, `spark.executor_lost`, … */
  readonly kind: string;
  readonly status: 'firing' | 'resolved';
  /** The entity the signal is about. */
  readonly entity: EntityKey;
  /** Entities it is related to (task → DAG run → DAG; executor → host; series → host). */
  readonly related: readonly EntityKey[];
  /** When the condition started (firing) or cleared (resolved), epoch ms. */
  readonly time: number;
  readonly severity: Severity;
  /** One line for a human: what happened. */
  readonly title: string;
  readonly evidence: readonly Evidence[];
  /** The detector that produced it (its registry id). */
  readonly detector: string;
  /** The known failure class its evidence shows (`host_lost`, `sql_analysis_error`, …), if any. */
  readonly errorClass?: string;
  /**
   * Resources its failure text names as what it failed on (`host:…` it connected to, `name:…`
   * for a bucket, a service, a module), read when the whole text was at hand: the correlator
   * ties them to the symptoms of those resources.
   */
  readonly names?: readonly EntityKey[];
}
