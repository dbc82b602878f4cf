import type { Incident } from '../core/index.ts';
import type { Playbook } from '../playbooks/load.ts';
import type { Diagnostic } from '../playbooks/schema.ts';

/** The kinds of diagnostic a playbook can declare (`playbooks/README.md`). */
export type DiagnosticKind = Diagnostic['kind'];

/**
 * One diagnostic as gathered for an incident: what was looked at, and what came back or why
 * nothing did. Its text is redacted and capped, and it is still untrusted: it comes from logs
 * and systems, so it is shown as data and given to the LLM as evidence, never as instructions.
 */
export interface DiagnosticResult {
  readonly kind: DiagnosticKind;
  /** What was looked at, for people: `Airflow log of payments_daily / silver_2, try 2`. */
  readonly label: string;
  /**
   * `ok`; `unavailable`: a dependency failed or timed out, or has nothing to give; `skipped`: it
   * does not apply (its peer is not configured, or the incident names nothing it could look at).
   * Skipped ones are neither told in the thread nor given to the LLM.
   */
  readonly status: 'ok' | 'unavailable' | 'skipped';
  /** What came back, redacted, each line and the whole capped; empty unless ok. */
  readonly lines: readonly string[];
  /** Why it is unavailable or skipped. */
  readonly reason?: string;
}

/** The diagnostics of an incident's matched playbooks, in the playbooks' order. */
export interface GatheredDiagnostics {
  readonly incidentId: string;
  /** When they were gathered (the injected clock). */
  readonly at: number;
  readonly results: readonly DiagnosticResult[];
}

/**
 * Gathers what an incident's playbooks declare. Never throws and never waits longer than its
 * per-diagnostic timeout: a failing or slow dependency is a result with status `unavailable`.
 */
export interface DiagnosticsGatherer {
  gather(incident: Incident, playbooks: readonly Playbook[]): Promise<GatheredDiagnostics>;
}

/** Thrown by a collector when what it looks for is not there (no try, no metric history). */
export class DiagnosticUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DiagnosticUnavailableError';
  }
}

/** Thrown by a collector when the diagnostic does not apply: not configured, nothing to look at. */
export class DiagnosticNotApplicableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DiagnosticNotApplicableError';
  }
}

/** The results worth telling: not the skipped ones. */
export function toldResults(results: readonly DiagnosticResult[]): DiagnosticResult[] {
  return results.filter((r) => r.status !== 'skipped');
}
