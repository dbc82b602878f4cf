/**
 * What one very long log line costs: redaction, failure classification and the log detectors.
 *
 *   node bench/redaction.ts [--kb 256]
 *
 * For lines of `--kb` KiB (default 256) and half that: an ordinary Spark line repeated, lines
 * dense with secrets, and shapes that make backtracking regular expressions quadratic (`a.a.a…`,
 * `Spark Connect Spark Connect…`, `eyJaaaa-eyJaaaa-…`). Prints the median time of
 *   - `redact` of the whole line (what Guardian would pay if it did not cut first),
 *   - `classify` + `readFailureText` (failure signatures),
 *   - the whole log path: one log observation through the detection engine with the three log
 *     detectors (classification, masking, mining, redaction of what they keep),
 * and the ratio of the full-size time to the half-size one (about 2 when linear).
 */

import { createLogBurstDetector } from '../detectors/log-burst.ts';
import { createLogNewTemplateDetector } from '../detectors/log-new-template.ts';
import { createLogSignatureDetector } from '../detectors/log-signature.ts';
import { ManualClock } from '../src/core/clock.ts';
import type { LogObservation } from '../src/core/index.ts';
import { DetectionEngine } from '../src/detection/engine.ts';
import { readFailureText } from '../src/logs/failure-text.ts';
import { redact } from '../src/logs/redact.ts';
import { classify } from '../src/logs/signatures.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { LONG_LINE_SHAPES, longLine, timings } from '../test/support/long-lines.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** One log observation of `line` through a fresh engine with the three log detectors. */
export function logPath(line: string): () => void {
  const clock = new ManualClock(Date.parse('2026-03-04T02:00:00Z'));
  let n = 0;
  return () => {
    // A fresh engine each time: the first sighting of a line is the expensive one.
    const engine = new DetectionEngine({
      detectors: [createLogSignatureDetector(), createLogNewTemplateDetector(), createLogBurstDetector()],
      clock,
      logger: silentLogger(),
      onSignal: () => {},
    });
    const obs: LogObservation = {
      type: 'log',
      stream: 'log:{service_name="spark-driver"}',
      labels: { service_name: 'spark-driver', level: 'error' },
      time: clock.now() + n++,
      line,
    };
    engine.ingest([obs]);
  };
}

if (import.meta.main) {
  const bytes = option('--kb', 256) * 1024;
  console.log(
    `one log line of ${bytes / 1024} KiB: fastest / median of 9 runs, ms; xN = fastest at full size / at half size (2 when linear)`,
  );
  console.log(
    'shape                      redact (whole line)       classify + failure text   log path (3 detectors)',
  );
  const cell = (full: () => void, half: () => void) => {
    const a = timings(full);
    const b = timings(half);
    const text = `${a.min.toFixed(2).padStart(6)} / ${a.median.toFixed(2).padStart(6)}  x${(a.min / Math.max(b.min, 0.01)).toFixed(1)}`;
    return text.padEnd(26);
  };
  for (const [name, unit] of Object.entries(LONG_LINE_SHAPES)) {
    const full = longLine(unit, bytes);
    const half = longLine(unit, bytes / 2);
    const redaction = cell(
      () => redact(full),
      () => redact(half),
    );
    const classification = cell(
      () => {
        classify(full);
        readFailureText(full);
      },
      () => {
        classify(half);
        readFailureText(half);
      },
    );
    console.log(`${name.padEnd(26)} ${redaction}${classification}${cell(logPath(full), logPath(half))}`);
  }
}
