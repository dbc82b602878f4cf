import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 900_000 });

const ROOT = path.resolve(import.meta.dirname, '../..');
const OPEN = path.resolve(ROOT, '../shared/scenarios/open');
const SCORER = path.resolve(ROOT, '../shared/scenarios/score.py');
const BASELINE = path.join(import.meta.dirname, 'baseline.json');

/** Figures where more is better; the rest (posts, false alerts, quiet paged, time) want less. */
const HIGHER_IS_BETTER = new Set(['detected', 'grouping_f1', 'bcubed_f1', 'root_cause']);

interface Baseline {
  /** What the last accepted run of every open scenario scored (`score.py --json` totals). */
  total: Record<string, number>;
}

const out = mkdtempSync(path.join(tmpdir(), 'guardian-acceptance-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Every open scenario replays through the real pipeline, and the scorer's figures never fall
 * below the committed baseline. When they improve, raise `baseline.json` in the same commit (the
 * test prints the new figures); lowering it is a decision to write down in the commit message.
 */
describe('open scenarios (acceptance)', () => {
  it('replays every open scenario and scores at least the baseline', () => {
    expect(existsSync(OPEN), `${OPEN} is missing: the shared scenarios must sit beside the project`).toBe(
      true,
    );
    const replay = spawnSync(
      process.execPath,
      [path.join(ROOT, 'src/cli.ts'), 'replay', '--dir', OPEN, '--out-dir', out],
      { encoding: 'utf8' },
    );
    expect(replay.stderr).toBe('');
    expect(replay.status).toBe(0);

    const score = spawnSync('python3', [SCORER, '--dir', OPEN, '--exports', out, '--json'], {
      encoding: 'utf8',
    });
    expect(score.error, 'python3 must be installed to score scenarios').toBeUndefined();
    expect(score.status, score.stderr).toBe(0);
    const { total } = JSON.parse(score.stdout) as { total: Record<string, number | null> };
    const baseline = (JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline).total;
    process.stdout.write(`open scenarios: ${JSON.stringify(total)}\n`);

    expect(total.scenarios).toBe(baseline.scenarios);
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
    expect(worse, 'figures below the committed baseline').toEqual([]);
  });
});
