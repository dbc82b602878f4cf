import type { Incident } from '../core/index.ts';
import type { Diagnostic } from '../playbooks/schema.ts';
import type { AirflowClient } from '../sources/airflow/client.ts';
import type { LokiClient } from '../sources/loki/client.ts';
import type { DiagnosticKind } from './diagnostic.ts';

/** Where Guardian's peers are, as far as they are configured; a diagnostic that needs a missing one is unavailable. */
export interface DiagnosticTargets {
  /** The Airflow 3 REST API (a client of its own, with the diagnostics' short timeout). */
  readonly airflow?: AirflowClient;
  readonly spark?: {
    /** The Spark Connect application's driver UI (`/api/v1`). */
    readonly driverUrl?: string;
    /** `sc://host:port`, probed with a TCP connect. */
    readonly connectEndpoint?: string;
  };
  /** Loki (a client of its own, with the diagnostics' short timeout). */
  readonly loki?: LokiClient;
}

/** What a collector works with. */
export interface CollectorContext {
  readonly incident: Incident;
  readonly targets: DiagnosticTargets;
  /** Aborted when the diagnostic's time is up. */
  readonly signal: AbortSignal;
  /** The injected clock's now. */
  readonly now: number;
}

/** What a collector found: a label for people and the raw lines (the gatherer redacts and caps them). */
export interface Collected {
  readonly label: string;
  readonly lines: readonly string[];
  /** Which end to keep when the lines are over the cap. @defaultValue 'head' */
  readonly keep?: 'head' | 'tail';
}

/**
 * Gathers one kind of diagnostic. Throws {@link DiagnosticUnavailableError} when it cannot apply
 * to the incident or is not configured, and anything else when a dependency fails.
 */
export interface Collector<K extends DiagnosticKind> {
  /** What it looks at, when it cannot say more (the label of an unavailable result). */
  title(diagnostic: Extract<Diagnostic, { kind: K }>): string;
  collect(diagnostic: Extract<Diagnostic, { kind: K }>, context: CollectorContext): Promise<Collected>;
}
