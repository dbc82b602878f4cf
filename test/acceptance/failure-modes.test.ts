import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { belowBaseline, replayAndScore } from '../support/scored-baseline.ts';

vi.setConfig({ testTimeout: 900_000 });

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODES = path.join(ROOT, 'test/scenarios/modes.py');
const BASELINE = path.join(import.meta.dirname, 'failure-modes-baseline.json');

const work = mkdtempSync(path.join(tmpdir(), 'guardian-modes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Guardian's own suite of failure modes (`test/scenarios/modes.py`: one night of each of its 20
 * modes, generated here, deterministically) replays through the real pipeline, and the scorer's
 * figures never fall below the committed baseline. Nothing in Guardian is tuned per mode;
 * `test/scenarios/leave-one-out.py` gives the per-mode and leave-one-mode-out figures. Raise
 * `failure-modes-baseline.json` when they improve; lowering it is a decision to write down.
 */
describe('failure modes (acceptance)', () => {
  it('replays one night of every mode and scores at least the baseline', () => {
    const suite = path.join(work, 'suite');
    const gen = spawnSync('python3', [MODES, '--out', suite, '--variants', '1'], { encoding: 'utf8' });
    expect(gen.error, 'python3 must be installed to generate the suite').toBeUndefined();
    expect(gen.status, gen.stderr).toBe(0);

    const { replay, score, total } = replayAndScore(ROOT, suite, path.join(work, 'exports'));
    expect(replay.stderr).toBe('');
    expect(replay.status).toBe(0);
    expect(score.status, score.stderr).toBe(0);
    const baseline = (JSON.parse(readFileSync(BASELINE, 'utf8')) as { total: Record<string, number> }).total;
    process.stdout.write(`failure modes: ${JSON.stringify(total)}\n`);
    expect(total.scenarios).toBe(baseline.scenarios);
    expect(belowBaseline(total, baseline), 'figures below the committed baseline').toEqual([]);
  });
});
