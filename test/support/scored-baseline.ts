import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import path from 'node:path';

/** Scorer figures where more is better; the rest (posts, false alerts, quiet paged, time) want less. */
const HIGHER_IS_BETTER = new Set(['detected', 'grouping_f1', 'bcubed_f1', 'root_cause']);

/**
 * The figures of `score.py --json` totals that fall below a committed baseline (each named with
 * its value and floor); the counts of scenarios and incidents are not figures.
 */
export function belowBaseline(
  total: Readonly<Record<string, number | null>>,
  baseline: Readonly<Record<string, number>>,
): string[] {
  const worse: string[] = [];
  for (const [figure, floor] of Object.entries(baseline)) {
    if (figure === 'scenarios' || figure === 'truth_incidents') continue;
    const value = total[figure];
    if (value === null || value === undefined) {
      worse.push(`${figure}: missing (baseline ${floor})`);
      continue;
    }
    const ok = HIGHER_IS_BETTER.has(figure) ? value >= floor : value <= floor;
    if (!ok) worse.push(`${figure}: ${value} (baseline ${floor})`);
  }
  return worse;
}

/**
 * Replays every scenario of `scenarios` through the real pipeline (`guardian replay --dir`) into
 * `out`, then scores the exports with the shared scorer: the two processes' results, and the
 * scorer's totals when it answered.
 */
export function replayAndScore(
  root: string,
  scenarios: string,
  out: string,
): {
  replay: SpawnSyncReturns<string>;
  score: SpawnSyncReturns<string>;
  total: Record<string, number | null>;
} {
  const replay = spawnSync(
    process.execPath,
    [path.join(root, 'src/cli.ts'), 'replay', '--dir', scenarios, '--out-dir', out],
    { encoding: 'utf8' },
  );
  const scorer = path.resolve(root, '../shared/scenarios/score.py');
  const score = spawnSync('python3', [scorer, '--dir', scenarios, '--exports', out, '--json'], {
    encoding: 'utf8',
  });
  const total =
    score.status === 0 ? (JSON.parse(score.stdout) as { total: Record<string, number | null> }).total : {};
  return { replay, score, total };
}
