import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { belowBaseline, replayAndScore } from '../support/scored-baseline.ts';

vi.setConfig({ testTimeout: 900_000 });

const ROOT = path.resolve(import.meta.dirname, '../..');
const OPEN = path.resolve(ROOT, '../shared/scenarios/open');
const BASELINE = path.join(import.meta.dirname, 'baseline.json');

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
    const { replay, score, total } = replayAndScore(ROOT, OPEN, out);
    expect(replay.stderr).toBe('');
    expect(replay.status).toBe(0);
    expect(score.error, 'python3 must be installed to score scenarios').toBeUndefined();
    expect(score.status, score.stderr).toBe(0);
    const baseline = (JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline).total;
    process.stdout.write(`open scenarios: ${JSON.stringify(total)}\n`);

    expect(total.scenarios).toBe(baseline.scenarios);
    const worse = belowBaseline(total, baseline);
    expect(worse, 'figures below the committed baseline').toEqual([]);
  });
});
