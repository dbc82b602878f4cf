import type { EntityKey, Observation } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import {
  headline,
  isErrorEntry,
  isUsableLog,
  labelRelations,
  streamName,
  textRelations,
} from '../src/logs/entries.ts';
import { TemplateMiner } from '../src/logs/miner.ts';
import { FiringTemplates } from '../src/logs/new-templates.ts';

export const LOG_NEW_LINE_DETECTOR_ID = 'log-new-line';

export interface LogNewLineConfig {
  /**
   * A stream's own history: the templates a stream shows in its first this-long are what it
   * usually says, and none of them is new. A stream first seen this long after Guardian began
   * reading logs had been silent all that time: its first lines are new.
   * @defaultValue 900000 (15 minutes, as long as the error-template warm-up)
   */
  readonly historyMs?: number;
  /**
   * A new line whose template has not been seen again on its stream for this long resolves.
   * @defaultValue 1800000 (30 minutes)
   */
  readonly quietMs?: number;
  /**
   * Most new templates firing at once; beyond it new ones are learnt without a signal.
   * @defaultValue 50
   */
  readonly maxFiring?: number;
  /**
   * Templates the miner keeps (bounded memory).
   * @defaultValue 5000
   */
  readonly maxTemplates?: number;
  /**
   * Streams whose first sight is remembered; past it the least recently seen is forgotten (and
   * learns again if it comes back).
   * @defaultValue 10000
   */
  readonly maxStreams?: number;
  /**
   * Redacted example entries kept as evidence.
   * @defaultValue 3
   */
  readonly maxExamples?: number;
}

/**
 * A line that is not an error, of a template no stream showed before (`log.new_line`): what a
 * resource's own log says that it never said, whatever its level (a database's lock waits, a
 * bucket's expirations, a cluster's events). Every stream's lines are evidence of what the stream
 * is about; what matters is what is new. A stream is judged once it has its own history
 * (`historyMs` of its lines), or from its first line when it appears after Guardian has read logs
 * that long. The signal is `info`: it never pages on its own (real platforms log a lot); it is a
 * candidate cause of the failures that name what the stream is about, when it precedes them.
 * Error lines are `log-new-template`'s.
 */
export function createLogNewLineDetector(config: LogNewLineConfig = {}): Detector {
  const historyMs = config.historyMs ?? 15 * 60_000;
  const maxStreams = Math.max(1, config.maxStreams ?? 10_000);
  const miner = new TemplateMiner({ maxTemplates: config.maxTemplates ?? 5000 });
  const firing = new FiringTemplates(
    { kind: 'log.new_line', detector: LOG_NEW_LINE_DETECTOR_ID, severity: 'info', title: 'New in' },
    {
      quietMs: config.quietMs ?? 30 * 60_000,
      maxFiring: config.maxFiring ?? 50,
      maxExamples: config.maxExamples ?? 3,
    },
  );
  /** When each stream was first seen, least recently seen first. */
  const streams = new Map<EntityKey, number>();
  /** When Guardian began reading logs (its first tick or entry). */
  let readingSince: number | null = null;

  /** When the stream was first seen; it is remembered as seen now. */
  function firstSight(stream: EntityKey, time: number): number {
    const first = streams.get(stream);
    if (first !== undefined) {
      streams.delete(stream);
      streams.set(stream, first);
      return first;
    }
    if (streams.size >= maxStreams) {
      const [oldest] = streams.keys();
      if (oldest !== undefined) streams.delete(oldest);
    }
    streams.set(stream, time);
    return time;
  }

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (!isUsableLog(obs) || isErrorEntry(obs)) return;
    // Reading began with the first tick, or earlier with the history read at start-up.
    readingSince = Math.min(readingSince ?? ctx.now(), obs.time);
    const first = firstSight(obs.stream, obs.time);
    const mined = miner.add(headline(obs.line), obs.time);
    const fingerprint = stableId('lognewline_', mined.template.id, obs.stream);
    if (firing.repeat(fingerprint, mined.template.template, obs)) return;
    if (!mined.created || mined.generalised || firing.full) return;
    // A stream still showing what it usually says is learnt; one that was silent while Guardian
    // read logs for its history is new from its first line.
    const judged = obs.time - first >= historyMs || first - readingSince >= historyMs;
    if (!judged) return;
    firing.fire(
      { fingerprint, templateId: mined.template.id, template: mined.template.template },
      {
        name: streamName(obs.labels),
        related: [...new Set([...labelRelations(obs.labels), ...textRelations(obs.line)])],
      },
      obs,
      ctx,
    );
  }

  return {
    id: LOG_NEW_LINE_DETECTOR_ID,
    accepts: ['log'],
    observe,
    tick(ctx) {
      const now = ctx.now();
      readingSince ??= now;
      firing.resolveQuiet(now, ctx);
    },
    size: () => miner.size + streams.size + firing.size,
  };
}
