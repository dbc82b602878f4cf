import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { needsExternal } from '../../test/support/external.ts';

/** The NAB corpus and scorer beside the project (`../shared`), as CI has them. */
const SHARED = path.resolve(import.meta.dirname, '../../../shared');
export const NAB_DIR = path.join(SHARED, 'data/nab');
export const NAB_SCORER = path.join(SHARED, 'tools/nab_score.py');

export const NAB_PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
export type NabProfile = (typeof NAB_PROFILES)[number];

export interface NabScoreInputs {
  /** Corpus (`<category>/<file>.csv`). */
  readonly data?: string;
  /** `combined_windows.json`. */
  readonly labels?: string;
  /** `profiles.json`. */
  readonly profiles?: string;
  /** `nab_score.py`. */
  readonly scorer?: string;
}

/**
 * Runs the NAB scorer (Python) over the `guardian` detector's results under `results` and returns
 * each profile's normalised score; throws with the scorer's stderr when it fails.
 */
export function scoreNabResults(results: string, inputs: NabScoreInputs = {}): Record<NabProfile, number> {
  needsExternal("NAB's Python scorer");
  const data = inputs.data ?? path.join(NAB_DIR, 'data');
  const labels = inputs.labels ?? path.join(NAB_DIR, 'labels/combined_windows.json');
  const profiles = inputs.profiles ?? path.join(NAB_DIR, 'config/profiles.json');
  const run = spawnSync(
    'python3',
    [
      inputs.scorer ?? NAB_SCORER,
      '--data',
      data,
      '--labels',
      labels,
      '--profiles',
      profiles,
      '--results',
      results,
      '--detector',
      'guardian',
      '--json',
    ],
    { encoding: 'utf8' },
  );
  if (run.error || run.status !== 0)
    throw new Error(`NAB scorer failed: ${run.error?.message ?? run.stderr}`);
  const report = JSON.parse(run.stdout) as Record<NabProfile, { normalized: number }>;
  return {
    standard: report.standard.normalized,
    reward_low_FP_rate: report.reward_low_FP_rate.normalized,
    reward_low_FN_rate: report.reward_low_FN_rate.normalized,
  };
}
