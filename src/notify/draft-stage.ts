import type { Counter } from '@opentelemetry/api';
import type { Clock } from '../core/index.ts';
import { stableId } from '../core/index.ts';
import type { GatheredDiagnostics } from '../diagnostics/diagnostic.ts';
import {
  type IncidentStore,
  NO_USAGE,
  type NotificationState,
  type RecordedEvent,
  type TokenUsage,
} from '../incidents/store.ts';
import type { IncidentDraft } from '../llm/draft.ts';
import type { DraftFailure, DraftResult, IncidentDrafter } from '../llm/drafter.ts';
import { PROMPT_TIMELINE_EVENTS } from '../llm/prompt.ts';
import { findSimilarIncidents } from '../llm/similar.ts';
import { parseStoredDraft } from '../llm/validate.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { GuardianMetrics } from '../telemetry/metrics.ts';
import type { DeliveryRecords } from './delivery-records.ts';
import { basisOf, type NotifyContext } from './notify-context.ts';

/** How the notifier uses the LLM drafter. */
export interface DraftingOptions {
  drafter: IncidentDrafter;
  /**
   * How long a first post waits for the draft; after it the template is posted and the draft,
   * when it comes, replaces it by an edit. Wall-clock time: it bounds a network call.
   * @defaultValue 4000
   */
  budgetMs?: number;
  /**
   * Hard limit of one drafting call (wall clock).
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /**
   * Tokens one incident may use in all (input + output + cache writes + a tenth of cache reads).
   * @defaultValue 40000
   */
  tokensPerIncident?: number;
  /**
   * Tokens all incidents may use per clock hour, across replicas (counted in the store).
   * @defaultValue 400000
   */
  tokensPerHour?: number;
  /**
   * A draft that failed is not tried again for the same root cause before this long.
   * @defaultValue 600000
   */
  retryFailedAfterMs?: number;
}

/** What the draft stage works with. */
export interface DraftStageOptions {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  records: DeliveryRecords;
  drafting: DraftingOptions | undefined;
  metrics?: GuardianMetrics;
  /** The diagnostics gathered for the incident's root cause, when there are any to give the draft. */
  gathered?: (context: NotifyContext) => Promise<GatheredDiagnostics | null>;
  /** Queues a job that edits the message once a draft nobody waited for has arrived. */
  followUp: (incidentId: string, version: number) => Promise<void>;
  /** Keeps background work (a draft still running) for `Notifier.settled`. */
  track: (work: Promise<unknown>) => void;
}

/** A draft held in the notification state: the one shown, or why there is none for this root cause. */
type DraftEntry =
  | { readonly basis: string; readonly ok: true; readonly draft: IncidentDraft; readonly at: number }
  | { readonly basis: string; readonly ok: false; readonly reason: DraftFailure; readonly at: number };

interface InFlightDraft {
  promise: Promise<DraftResult>;
  /** Nobody waits for it any more: when it succeeds, a job must bring the message up to date. */
  abandoned: boolean;
}

const NOT_STARTED: DraftResult = { ok: false, reason: 'connection', message: 'not started', usage: NO_USAGE };

/**
 * The draft stage: the LLM's draft of an incident's message, one per root cause, within the
 * per-incident and per-hour token budgets. A first post waits `budgetMs` for it; a draft that
 * arrives later replaces the template by an edit. A failed draft is not tried again for a while;
 * without a drafter every message is the template.
 */
export class DraftStage {
  readonly #o: DraftStageOptions;
  readonly #drafting: DraftingOptions | undefined;
  readonly #inFlight = new Map<string, InFlightDraft>();
  readonly #tokens: Counter | undefined;
  readonly #drafts: Counter | undefined;

  constructor(options: DraftStageOptions) {
    this.#o = options;
    this.#drafting = options.drafting;
    const meter = options.metrics?.meter;
    this.#tokens = meter?.createCounter('guardian.llm.tokens', {
      unit: '{token}',
      description:
        'LLM tokens used drafting incident messages, by type (input, output, cache_read, cache_write)',
    });
    this.#drafts = meter?.createCounter('guardian.llm.drafts', {
      unit: '{draft}',
      description: 'LLM drafts by outcome (ok, or why the template was kept)',
    });
  }

  /**
   * The draft to show: the stored one when it was drafted for this root cause; otherwise, budget
   * permitting, a new one, waited for up to `waitMs` (0: drafted in the background, the message
   * edited when it arrives).
   */
  async draftFor(context: NotifyContext, waitMs: number): Promise<IncidentDraft | null> {
    const drafting = this.#drafting;
    if (!drafting) return null;
    const { incident, state } = context;
    if (incident.quiet === true || incident.mergedInto) return null;
    const basis = basisOf(incident);
    const entry = readDraftEntry(state);
    if (entry?.basis === basis) {
      if (entry.ok) return entry.draft;
      const retryAfter = drafting.retryFailedAfterMs ?? 600_000;
      if (this.#o.clock.now() - entry.at < retryAfter) return null;
    }
    // A resolved incident keeps the draft it had, or the template: not worth new tokens.
    if (incident.status === 'resolved') return entry?.ok ? entry.draft : null;

    const key = `${incident.id}|${basis}`;
    let flight = this.#inFlight.get(key);
    if (!flight) {
      if (!(await this.#withinBudget(drafting, state))) {
        this.#drafts?.add(1, { outcome: 'budget' });
        this.#o.logger.info({ incidentId: incident.id }, 'LLM token budget spent: template only');
        return null;
      }
      const started: InFlightDraft = { promise: Promise.resolve(NOT_STARTED), abandoned: waitMs <= 0 };
      started.promise = this.#runDraft(drafting, context, basis)
        .then(async (result) => {
          if (result.ok && started.abandoned) await this.#o.followUp(incident.id, incident.version);
          return result;
        })
        .finally(() => this.#inFlight.delete(key));
      flight = started;
      this.#inFlight.set(key, flight);
      this.#o.track(started.promise);
    }
    if (waitMs <= 0) {
      flight.abandoned = true;
      return null;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), waitMs);
    });
    const result = await Promise.race([flight.promise, timedOut]).finally(() => clearTimeout(timer));
    if (result === null) {
      flight.abandoned = true;
      this.#o.logger.info(
        { incidentId: incident.id, budgetMs: waitMs },
        'LLM draft not in time: template first',
      );
      return null;
    }
    return result.ok ? result.draft : null;
  }

  async #withinBudget(drafting: DraftingOptions, state: NotificationState | null): Promise<boolean> {
    const perIncident = drafting.tokensPerIncident ?? 40_000;
    const perHour = drafting.tokensPerHour ?? 400_000;
    if (weighted(state?.llmUsage ?? NO_USAGE) >= perIncident) return false;
    const hour = await this.#o.store.llmUsage(hourStart(this.#o.clock.now()));
    return weighted(hour) < perHour;
  }

  /** One drafting call: its usage counted and recorded, its outcome kept in the notification state. */
  async #runDraft(drafting: DraftingOptions, context: NotifyContext, basis: string): Promise<DraftResult> {
    const { store, clock, logger } = this.#o;
    const { incident } = context;
    let result: DraftResult;
    try {
      const [similar, timeline, gathered] = await Promise.all([
        findSimilarIncidents(store, incident, clock.now()),
        store.timeline(incident.id, { newest: PROMPT_TIMELINE_EVENTS }),
        this.#o.gathered?.(context) ?? null,
      ]);
      result = await drafting.drafter.draft(
        {
          incident,
          playbooks: context.playbooks,
          timeline,
          similar,
          ...(gathered ? { diagnostics: gathered.results } : {}),
        },
        AbortSignal.timeout(drafting.timeoutMs ?? 30_000),
      );
    } catch (err) {
      // The drafter never throws; the store reads above can. The template stays either way.
      logger.warn({ err, incidentId: incident.id }, 'LLM draft could not be prepared');
      return { ok: false, reason: 'connection', message: String(err), usage: NO_USAGE };
    }
    const now = clock.now();
    const usage = result.usage;
    this.#drafts?.add(1, { outcome: result.ok ? 'ok' : result.reason });
    if (usage.calls > 0) {
      this.#tokens?.add(usage.inputTokens, { type: 'input' });
      this.#tokens?.add(usage.outputTokens, { type: 'output' });
      this.#tokens?.add(usage.cacheReadInputTokens, { type: 'cache_read' });
      this.#tokens?.add(usage.cacheCreationInputTokens, { type: 'cache_write' });
    }
    try {
      if (usage.calls > 0) await store.addLlmUsage(hourStart(now), usage);
      const tokens = `${usage.inputTokens} in, ${usage.outputTokens} out, ${usage.cacheReadInputTokens} cache read, ${usage.cacheCreationInputTokens} cache write tokens`;
      const event: RecordedEvent = {
        id: stableId('evt_', 'drafted', incident.id, basis, now),
        at: now,
        type: 'drafted',
        text: result.ok
          ? `message drafted by ${drafting.drafter.model} (${tokens})`
          : `LLM draft failed (${result.reason}): the template stays${usage.calls > 0 ? ` (${tokens})` : ''}`,
      };
      await store.appendTimeline(incident.id, [event]);
      const entry: DraftEntry = result.ok
        ? { basis, ok: true, draft: result.draft, at: now }
        : { basis, ok: false, reason: result.reason, at: now };
      await this.#o.records.updateState(incident.id, (s) => ({
        ...s,
        draft: entry as unknown as Record<string, unknown>,
        llmUsage: addUsage(s.llmUsage, usage),
      }));
    } catch (err) {
      logger.warn({ err, incidentId: incident.id }, 'LLM draft could not be recorded');
      return { ok: false, reason: 'connection', message: String(err), usage };
    }
    if (result.ok) {
      if (result.repairs.length > 0) {
        logger.info({ incidentId: incident.id, repairs: result.repairs }, 'LLM draft repaired by validation');
      }
    } else {
      logger.warn(
        { incidentId: incident.id, reason: result.reason, message: result.message },
        'LLM draft failed',
      );
    }
    return result;
  }
}

function readDraftEntry(state: NotificationState | null): DraftEntry | null {
  const raw = state?.draft as Record<string, unknown> | null | undefined;
  if (!raw || typeof raw.basis !== 'string' || typeof raw.at !== 'number') return null;
  if (raw.ok === true) {
    const draft = parseStoredDraft(raw.draft);
    return draft ? { basis: raw.basis, ok: true, draft, at: raw.at } : null;
  }
  return { basis: raw.basis, ok: false, reason: String(raw.reason) as DraftFailure, at: raw.at };
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    calls: a.calls + b.calls,
  };
}

/** Tokens as the budgets count them: cache reads cost a tenth of fresh input, so they count a tenth. */
function weighted(u: TokenUsage): number {
  return u.inputTokens + u.outputTokens + u.cacheCreationInputTokens + Math.ceil(u.cacheReadInputTokens / 10);
}

function hourStart(ms: number): number {
  return Math.floor(ms / 3_600_000) * 3_600_000;
}
