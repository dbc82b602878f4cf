import { appendFileSync } from 'node:fs';

/**
 * Fault tests run CI-sized by default and longer locally with `GUARDIAN_FAULTS=long` (outages as
 * long as the issue describes them, more repetitions).
 */
export function faultScale<T>(sizes: { ci: T; long: T }): T {
  return process.env.GUARDIAN_FAULTS === 'long' ? sizes.long : sizes.ci;
}

/** The measured figures of one fault run (the columns of the table in docs/operations.md). */
export interface FaultFigures {
  faults: number;
  incidents: number;
  paged: number;
  posts: number;
  lost: number;
  duplicated: number;
  signalsLost: number;
}

/**
 * Appends one row of measured outcomes to the file `GUARDIAN_FAULTS_REPORT` names, when it is set
 * (how docs/operations.md's table is made); does nothing otherwise.
 */
export function recordOutcome(fault: string, figures: FaultFigures): void {
  const file = process.env.GUARDIAN_FAULTS_REPORT;
  if (!file) return;
  appendFileSync(
    file,
    `${JSON.stringify({ fault, mode: process.env.GUARDIAN_FAULTS ?? 'ci', ...figures })}\n`,
  );
}
