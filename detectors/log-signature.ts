import type { EntityKey, LogObservation, Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import {
  emitterKey,
  emitterOf,
  headline,
  isUsableLog,
  labelRelations,
  quote,
  streamName,
  textRelations,
} from '../src/logs/entries.ts';
import { maskLine } from '../src/logs/mask.ts';
import { redact } from '../src/logs/redact.ts';
import { classify, type ErrorClass, placeByProcess } from '../src/logs/signatures.ts';

export const LOG_SIGNATURE_DETECTOR_ID = 'log-signature';

export interface LogSignatureConfig {
  /**
   * A signature that has not been seen on its stream for this long resolves.
   * @defaultValue 900000 (15 minutes)
   */
  readonly quietMs?: number;
  /**
   * Most (class, stream) conditions kept; beyond it the least recently seen resolves early.
   * @defaultValue 2000
   */
  readonly maxTracked?: number;
  /**
   * Redacted example entries kept as evidence.
   * @defaultValue 3
   */
  readonly maxExamples?: number;
}

/** Re-emitted (`firing`, updated evidence) when the count reaches these. */
const COUNT_MILESTONES = new Set([10, 100, 1000, 10_000]);

interface Condition {
  readonly fingerprint: string;
  readonly cls: ErrorClass;
  readonly stream: EntityKey;
  readonly name: string;
  readonly related: EntityKey[];
  readonly template: string;
  readonly firstSeen: number;
  lastSeen: number;
  count: number;
  readonly examples: string[];
}

/**
 * A known failure signature (`src/logs/signatures.ts`) seen in a log stream: `log.signature`
 * with the class id in `errorClass`, about the stream, related to what its labels name (or, when
 * the text names the failing host or Spark Connect endpoint, to that instead of the emitter's
 * host). One condition per (class, process, subject), the process being the stream without its
 * level label: it fires on the first entry, is re-emitted with updated counts at 10, 100,
 * 1000… entries, and resolves after `quietMs` without one.
 */
export function createLogSignatureDetector(config: LogSignatureConfig = {}): Detector {
  const quietMs = config.quietMs ?? 15 * 60_000;
  const maxTracked = Math.max(1, config.maxTracked ?? 2000);
  const maxExamples = Math.max(1, config.maxExamples ?? 3);
  /** By fingerprint, least recently seen first (re-inserted on every hit). */
  const conditions = new Map<string, Condition>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (!isUsableLog(obs)) return;
    const found = classify(obs.line);
    if (!found) return;
    const cls = placeByProcess(found, emitterOf(obs.labels));
    // One condition per class, process (whatever level it logged at) and subject: a driver that
    // loses executors on two hosts reports two conditions.
    const subjects = textRelations(obs.line);
    const fingerprint = stableId('logsig_', cls.id, emitterKey(obs.labels), ...subjects);
    const known = conditions.get(fingerprint);
    if (known) {
      conditions.delete(fingerprint);
      conditions.set(fingerprint, known);
      known.count++;
      if (obs.time > known.lastSeen) known.lastSeen = obs.time;
      if (known.examples.length < maxExamples) known.examples.push(quote(obs.line));
      if (COUNT_MILESTONES.has(known.count)) ctx.emit(signal(known, 'firing', known.firstSeen));
      return;
    }
    if (conditions.size >= maxTracked) {
      const [oldest] = conditions.values();
      if (oldest) resolve(oldest, ctx, ctx.now());
    }
    const condition: Condition = {
      fingerprint,
      cls,
      stream: obs.stream,
      name: streamName(obs.labels),
      related: relationsOf(obs, subjects),
      template: redact(maskLine(headline(obs.line)).join(' ')),
      firstSeen: obs.time,
      lastSeen: obs.time,
      count: 1,
      examples: [quote(obs.line)],
    };
    conditions.set(fingerprint, condition);
    ctx.emit(signal(condition, 'firing', obs.time));
  }

  function resolve(c: Condition, ctx: DetectorContext, time: number): void {
    conditions.delete(c.fingerprint);
    ctx.emit(signal(c, 'resolved', time));
  }

  return {
    id: LOG_SIGNATURE_DETECTOR_ID,
    accepts: ['log'],
    observe,
    tick(ctx) {
      const now = ctx.now();
      // Least recently seen first: stop at the first one still within its quiet period.
      for (const c of conditions.values()) {
        if (now - c.lastSeen < quietMs) break;
        resolve(c, ctx, c.lastSeen + quietMs);
      }
    },
    size: () => conditions.size,
  };
}

/**
 * Labels name the emitter; for failures about another host or an endpoint, the text names the
 * subject, and the emitter's host would tie the signal to the wrong machine.
 */
function relationsOf(obs: LogObservation, fromText: readonly EntityKey[]): EntityKey[] {
  const fromLabels = labelRelations(obs.labels);
  if (fromText.length === 0) return fromLabels;
  return [...new Set([...fromLabels.filter((e) => !e.startsWith('host:')), ...fromText])];
}

function signal(c: Condition, status: Signal['status'], time: number): Signal {
  return {
    fingerprint: c.fingerprint,
    kind: 'log.signature',
    status,
    entity: c.stream,
    related: [...c.related],
    time,
    severity: c.cls.severity,
    title: `${c.cls.title} in ${c.name}`,
    detector: LOG_SIGNATURE_DETECTOR_ID,
    errorClass: c.cls.id,
    evidence: [
      { kind: 'text', label: 'meaning', text: c.cls.meaning },
      { kind: 'text', label: 'template', text: c.template },
      { kind: 'log', label: 'examples', lines: [...c.examples] },
      { kind: 'value', label: 'entries', value: c.count },
    ],
  };
}
