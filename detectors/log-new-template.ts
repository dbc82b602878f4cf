import type { Observation } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { headline, isErrorEntry, isUsableLog, labelRelations, streamName } from '../src/logs/entries.ts';
import { type MinerSnapshot, TemplateMiner } from '../src/logs/miner.ts';
import { FiringTemplates, type NewTemplate } from '../src/logs/new-templates.ts';
import { redact } from '../src/logs/redact.ts';

export const LOG_NEW_TEMPLATE_DETECTOR_ID = 'log-new-template';

export interface LogNewTemplateConfig {
  /**
   * Learning time from the first log entry seen: every template is new at start-up, so none fires
   * before this much log time has passed.
   * @defaultValue 900000 (15 minutes)
   */
  readonly warmupMs?: number;
  /**
   * Log time already read when Guardian starts: the Loki source reads the last 15 minutes at
   * start-up, so the templates of that much history are learnt before anything is judged, and
   * learning is taken to have begun that long before the first tick or entry. An error template
   * first seen after start-up is then judged against that history, not blinded by a warm-up that
   * only begins with the first error line (which may be the one that matters).
   * @defaultValue 900000 (15 minutes, the Loki source's start-up lookback)
   */
  readonly historyMs?: number;
  /**
   * A new template that has not been seen again on its stream for this long resolves.
   * @defaultValue 1800000 (30 minutes)
   */
  readonly quietMs?: number;
  /**
   * Most new templates firing at once; beyond it new ones are learnt without a signal (a flood
   * of never-seen errors is one problem, and other detectors see its rate).
   * @defaultValue 50
   */
  readonly maxFiring?: number;
  /**
   * Templates the miner keeps (bounded memory).
   * @defaultValue 5000
   */
  readonly maxTemplates?: number;
  /**
   * Redacted example entries kept as evidence.
   * @defaultValue 3
   */
  readonly maxExamples?: number;
}

/**
 * An error-level log template never seen before (`log.new_template`): after a warm-up (counted
 * from Guardian's start, less the history it reads then), the first error entry whose headline
 * (its first line) matches no known template of any stream.
 * A new *value* in a known statement is not new: the miner generalises the template instead.
 * The signal is about the stream, fires once per (template, stream) and resolves after `quietMs`
 * without another entry of the template on that stream.
 */
export function createLogNewTemplateDetector(config: LogNewTemplateConfig = {}): Detector {
  const warmupMs = config.warmupMs ?? 15 * 60_000;
  const historyMs = config.historyMs ?? 15 * 60_000;
  const quietMs = config.quietMs ?? 30 * 60_000;
  const miner = new TemplateMiner({ maxTemplates: config.maxTemplates ?? 5000 });
  const firing = new FiringTemplates(
    {
      kind: 'log.new_template',
      detector: LOG_NEW_TEMPLATE_DETECTOR_ID,
      severity: 'low',
      title: 'New error in',
    },
    { quietMs, maxFiring: config.maxFiring ?? 50, maxExamples: config.maxExamples ?? 3 },
  );
  let learningSince: number | null = null;

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (!isUsableLog(obs)) return;
    learningSince ??= ctx.now() - historyMs;
    if (!isErrorEntry(obs)) return;
    const mined = miner.add(headline(obs.line), obs.time);
    const fingerprint = stableId('lognew_', mined.template.id, obs.stream);
    if (firing.repeat(fingerprint, mined.template.template, obs)) return;
    const isNew = mined.created && !mined.generalised;
    if (!isNew || obs.time - learningSince < warmupMs || firing.full) return;
    firing.fire(
      { fingerprint, templateId: mined.template.id, template: mined.template.template },
      { name: streamName(obs.labels), related: labelRelations(obs.labels) },
      obs,
      ctx,
    );
  }

  /** The templates learnt (tokens redacted), when learning began, and what is firing. */
  function snapshot(): NewTemplateSnapshot {
    return {
      format: SNAPSHOT_FORMAT,
      learningSince,
      miner: miner.snapshot(redact),
      firing: [...firing.values()],
    };
  }

  function restore(state: unknown): number {
    const snap = state as Partial<NewTemplateSnapshot> | null;
    if (snap?.format !== SNAPSHOT_FORMAT || !snap.miner) return 0;
    const taken = miner.restore(snap.miner);
    if (typeof snap.learningSince === 'number' && Number.isFinite(snap.learningSince))
      learningSince ??= snap.learningSince;
    for (const t of Array.isArray(snap.firing) ? snap.firing : []) {
      const ok =
        typeof t?.fingerprint === 'string' &&
        typeof t.stream === 'string' &&
        typeof t.template === 'string' &&
        Array.isArray(t.examples) &&
        Array.isArray(t.related) &&
        [t.firstSeen, t.lastSeen, t.count].every(Number.isFinite);
      if (ok) firing.restore(t);
    }
    return taken;
  }

  return {
    id: LOG_NEW_TEMPLATE_DETECTOR_ID,
    accepts: ['log'],
    observe,
    snapshot,
    restore,
    tick(ctx) {
      const now = ctx.now();
      // Learning begins when Guardian does, not with the first error line.
      learningSince ??= now - historyMs;
      firing.resolveQuiet(now, ctx);
    },
    size: () => miner.size + firing.size,
  };
}

/** Bumped when the snapshot's shape changes; an older snapshot is then dropped. */
const SNAPSHOT_FORMAT = 1;

interface NewTemplateSnapshot {
  readonly format: number;
  readonly learningSince: number | null;
  readonly miner: MinerSnapshot;
  readonly firing: readonly NewTemplate[];
}
