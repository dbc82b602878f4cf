import type { Clock, Incident } from '../core/index.ts';
import type { Playbook } from '../playbooks/load.ts';
import type { Diagnostic } from '../playbooks/schema.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Collector, DiagnosticTargets } from './collector.ts';
import {
  type DiagnosticKind,
  DiagnosticNotApplicableError,
  type DiagnosticResult,
  type DiagnosticsGatherer,
  DiagnosticUnavailableError,
  type GatheredDiagnostics,
} from './diagnostic.ts';
import { COLLECTORS } from './registry.ts';
import { fitLines, shortText } from './text.ts';

export interface DiagnosticsGathererOptions {
  targets: DiagnosticTargets;
  clock: Clock;
  logger: Logger;
  /**
   * Wall-clock limit of each diagnostic (they run in parallel, so also of all of them).
   * @defaultValue 3000
   */
  timeoutMs?: number;
  /**
   * Characters kept of each diagnostic's text.
   * @defaultValue 2000
   */
  maxChars?: number;
  /**
   * Diagnostics gathered per incident at most (the playbooks' declarations, deduplicated, in order).
   * @defaultValue 8
   */
  maxDiagnostics?: number;
}

/**
 * Gathers, for an incident, the diagnostics its matched playbooks declare, each with the
 * collector of its kind (`registry.ts`), all in parallel, each within `timeoutMs`. Never throws:
 * a dependency that fails, answers too much or too late gives an `unavailable` result with the
 * reason. Every text is redacted and capped.
 */
export function createDiagnosticsGatherer(options: DiagnosticsGathererOptions): DiagnosticsGatherer {
  const timeoutMs = options.timeoutMs ?? 3000;
  const maxChars = options.maxChars ?? 2000;
  const log = options.logger.child({ component: 'diagnostics' });

  async function one(diagnostic: Diagnostic, incident: Incident, now: number): Promise<DiagnosticResult> {
    const collector = COLLECTORS[diagnostic.kind] as Collector<DiagnosticKind>;
    const title = shortText(collector.title(diagnostic as never));
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Rejected first, so the result says "no answer within …" whatever the aborted request says.
        reject(new Error(`no answer within ${timeoutMs} ms`));
        controller.abort(new DOMException('diagnostic timed out', 'TimeoutError'));
      }, timeoutMs);
    });
    try {
      const found = await Promise.race([
        collector.collect(diagnostic as never, {
          incident,
          targets: options.targets,
          signal: controller.signal,
          now,
        }),
        timedOut,
      ]);
      return {
        kind: diagnostic.kind,
        label: shortText(found.label),
        status: 'ok',
        lines: fitLines(found.lines, maxChars, found.keep ?? 'head'),
      };
    } catch (err) {
      const reason = reasonOf(err);
      if (err instanceof DiagnosticNotApplicableError) {
        return { kind: diagnostic.kind, label: title, status: 'skipped', lines: [], reason };
      }
      if (!(err instanceof DiagnosticUnavailableError)) {
        log.info({ incidentId: incident.id, kind: diagnostic.kind, reason }, 'diagnostic unavailable');
      }
      return { kind: diagnostic.kind, label: title, status: 'unavailable', lines: [], reason };
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  return {
    async gather(incident: Incident, playbooks: readonly Playbook[]): Promise<GatheredDiagnostics> {
      const at = options.clock.now();
      const seen = new Set<string>();
      const declared: Diagnostic[] = [];
      for (const p of playbooks) {
        for (const d of p.diagnostics) {
          const key = JSON.stringify(d);
          if (seen.has(key)) continue;
          seen.add(key);
          declared.push(d);
        }
      }
      const chosen = declared.slice(0, options.maxDiagnostics ?? 8);
      const results = await Promise.all(chosen.map((d) => one(d, incident, at)));
      return { incidentId: incident.id, at, results };
    },
  };
}

/**
 * Why a diagnostic failed, redacted. A client's own `airflow: POST /auth/token: …` prefix is kept
 * as written (it holds no secret, and `token: …` would read as one to the redactor); what the
 * peer said after it is redacted like any text.
 */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const own = /^([a-z]+: (?:GET|POST) \/[^\s?]*: )([\s\S]*)$/.exec(message);
  if (!own) return shortText(message, 300);
  return `${own[1]}${shortText(own[2]!, 300 - own[1]!.length)}`;
}
