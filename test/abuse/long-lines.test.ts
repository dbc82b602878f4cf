import { describe, expect, it } from 'vitest';
import { logPath } from '../../bench/redaction.ts';
import { readFailureText } from '../../src/logs/failure-text.ts';
import { redact } from '../../src/logs/redact.ts';
import { classify } from '../../src/logs/signatures.ts';
import { LONG_LINE_SHAPES, longLine, timings } from '../support/long-lines.ts';

const KB = 1024;

/**
 * The fastest times of `run` on a 64 KiB and a 256 KiB line, interleaved. On a machine shared
 * with other work every run of a size can be slowed down, so a measurement that looks
 * superlinear is taken again (up to three times): quadratic code looks superlinear every time.
 */
function scaling(run: (line: string) => () => void, unit: string): { half: number; full: number } {
  const halfRun = run(longLine(unit, 64 * KB));
  const fullRun = run(longLine(unit, 256 * KB));
  let out = { half: 0, full: Number.POSITIVE_INFINITY };
  for (let attempt = 0; attempt < 3; attempt++) {
    let half = Number.POSITIVE_INFINITY;
    let full = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      half = Math.min(half, timings(halfRun, 3).min);
      full = Math.min(full, timings(fullRun, 3).min);
    }
    out = { half, full };
    if (full <= 8 * half + 0.5) break;
  }
  return out;
}

/**
 * Redaction, failure classification and the log detectors take time linear in a line's length,
 * whatever the line is made of: four times the line costs about four times the time (at most
 * eight; quadratic code would take sixteen), plus half a millisecond of timer noise, judged on the fastest of several runs so that garbage
 * collection and a loaded machine do not decide. `bench/redaction.ts` prints the figures.
 */
describe('very long log lines', () => {
  const paths: Record<string, (line: string) => () => void> = {
    redact: (line) => () => redact(line),
    classify: (line) => () => {
      classify(line);
      readFailureText(line);
    },
    'log detectors': (line) => logPath(line),
  };

  describe.each(Object.entries(LONG_LINE_SHAPES))('%s', (_name, unit) => {
    it.each(Object.keys(paths))('%s scales linearly', (path) => {
      const { half, full } = scaling(paths[path]!, unit);
      expect(full).toBeLessThanOrEqual(8 * half + 0.5);
      // A generous absolute bound (the figure is ~0.5-5 ms here; the goal is 10 ms).
      expect(full).toBeLessThan(50);
    });
  });

  it('leaves no secret of a 256 KB line dense with them', () => {
    const out = redact(longLine(LONG_LINE_SHAPES['dense secrets']!, 256 * KB));
    for (const secret of ['hunter2', 'ghp_abcdef', 'p@ss', 'a=b', 'ops@example.com'])
      expect(out).not.toContain(secret);
  });
});
