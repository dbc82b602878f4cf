import { createHash } from 'node:crypto';
import { type Meter, metrics } from '@opentelemetry/api';
import type { Clock, LogObservation } from '../../core/index.ts';
import { entityKey } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { type PollSource, sourceEntity } from '../source.ts';
import { LokiClient } from './client.ts';

export interface LokiSourceOptions {
  /** e.g. `http://loki:3100` */
  baseUrl: string;
  /**
   * LogQL log queries read in full, e.g. `{service_name=~"spark.*"} |~ "(?i)error|exception"`: a
   * burst is taken in steps (`maxEntriesPerPoll`), never skipped.
   */
  queries: readonly string[];
  /**
   * LogQL log queries read within a budget (`linesPerPoll` each): the lines of every stream that
   * are not errors, evidence of what is new on a stream whatever its level. Past the budget a poll
   * skips to now: what is skipped is that query's lines from where the poll stopped to now, counted
   * in seconds of log time (`guardian.loki.skipped`) and logged at most every 5 minutes. Their
   * line filters should exclude what `queries` read, or a line is read twice.
   */
  budgetQueries?: readonly string[];
  /** Lines one poll reads of each budgeted query, at most. @defaultValue 20000 */
  linesPerPoll?: number;
  /** Where `guardian.loki.skipped` is counted. @defaultValue the global meter `guardian` */
  meter?: Meter;
  /** `X-Scope-OrgID`; required by a multi-tenant Loki (without it: 401 "no org id"). */
  tenant?: string;
  /** Basic auth (`user`, `password`) or a bearer token; never logged. */
  auth?: { user: string; password: string } | { bearer: string };
  clock: Clock;
  logger: Logger;
  /** @defaultValue 30000 */
  intervalMs?: number;
  /** Look-back before the previous poll's end, for lines ingested late. @defaultValue 60000 */
  overlapMs?: number;
  /** How far back the first poll looks. @defaultValue 15 minutes */
  lookbackMs?: number;
  /** Entries per request; Loki refuses more than `max_entries_limit_per_query` (5000). @defaultValue 5000 */
  pageLimit?: number;
  /** @defaultValue 10000 */
  timeoutMs?: number;
  /**
   * Entries one poll takes per query, at most: past it the poll stops at the last page's end and
   * the next poll goes on from there, so a burst of a million lines is taken in steps, in
   * bounded memory, none skipped. @defaultValue 50000
   */
  maxEntriesPerPoll?: number;
}

const MS_NS = 1_000_000n;

/**
 * Follows Loki with `query_range` polls over the configured queries: forward from a watermark,
 * with overlap for late lines and exact deduplication of (stream, timestamp, line), paging past
 * the per-query entry limit, through the {@link LokiClient}.
 */
export function createLokiSource(options: LokiSourceOptions): PollSource {
  const overlapNs = BigInt(options.overlapMs ?? 60_000) * MS_NS;
  const pageLimit = options.pageLimit ?? 5000;
  const maxEntries = options.maxEntriesPerPoll ?? 50_000;
  const linesPerPoll = Math.max(1, options.linesPerPoll ?? 20_000);
  const skipped = (options.meter ?? metrics.getMeter('guardian')).createCounter('guardian.loki.skipped', {
    unit: 's',
    description: 'Log time of budgeted Loki queries skipped because a poll was over its line budget',
  });
  /** Per budgeted query: when its skipping was last logged. */
  const skipLogged = new Map<string, number>();
  /** Per query: where the next poll ends its look-back, in ns. */
  const watermarks = new Map<string, bigint>();
  /**
   * Per query: where a poll cut short by `maxEntriesPerPoll` stopped. The next poll goes on from
   * exactly there: going back by the overlap would re-read up to a whole poll's worth of a dense
   * burst and never get past it.
   */
  const resumeAt = new Map<string, bigint>();
  /**
   * Per query: from when on every line read is remembered (deduplication). A poll never starts
   * before it, so a line it would read twice is always known: after catching up on a burst the
   * overlap is shorter for once (a late line in it can be missed) rather than memory growing.
   */
  const horizons = new Map<string, bigint>();
  /** Keys of entries already reported, with their timestamp, per query: dropped once older than the overlap. */
  const seen = new Map<string, Map<string, bigint>>();

  const client = new LokiClient({
    baseUrl: options.baseUrl,
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
    timeoutMs: options.timeoutMs ?? 10_000,
  });

  /**
   * One query's poll. Without a `budget`, a poll past `maxEntriesPerPoll` stops and the next goes
   * on from there; with one, a poll past it skips the rest of its span, up to now.
   */
  async function pollQuery(
    query: string,
    nowNs: bigint,
    out: LogObservation[],
    budget?: number,
  ): Promise<void> {
    const lookback = BigInt(options.lookbackMs ?? 15 * 60_000) * MS_NS;
    const wanted = resumeAt.get(query) ?? (watermarks.get(query) ?? nowNs - lookback) - overlapNs;
    const horizon = horizons.get(query);
    const from = horizon !== undefined && horizon > wanted ? horizon : wanted;
    const already = seen.get(query) ?? new Map<string, bigint>();
    const fresh = new Map<string, bigint>();
    let start = from;
    let end = nowNs;
    let taken = 0;
    let cut = false;
    for (let page = 0; page < 1000; page++) {
      const limit = budget === undefined ? pageLimit : Math.min(pageLimit, budget - taken);
      const streams = await client.queryRange({
        query,
        startNs: start,
        endNs: nowNs,
        limit,
        direction: 'forward',
      });
      let count = 0;
      let last = start;
      for (const s of streams) {
        const stream = entityKey.logStream(s.stream);
        for (const [ts, line] of s.values) {
          count++;
          const tsNs = BigInt(ts);
          if (tsNs > last) last = tsNs;
          // A digest of the line, not the line: what is remembered per line stays small however
          // long the lines are.
          const key = `${stream}\u0000${ts}\u0000${createHash('sha1').update(line).digest('base64')}`;
          if (already.has(key) || fresh.has(key)) continue;
          fresh.set(key, tsNs);
          out.push({ type: 'log', stream, labels: s.stream, time: Number(tsNs / MS_NS), line });
        }
      }
      // A full page may have more after it: ask again from its last timestamp (inclusive; the
      // entries at that instant already taken are deduplicated).
      if (count < limit) break;
      if (last === start) {
        options.logger.warn({ query }, 'Loki page full of one instant: continuing after it');
        start = last + 1n;
      } else start = last;
      taken += count;
      if (budget !== undefined && taken >= budget) {
        // Over budget: the rest of the span is skipped, not deferred, so that the budget bounds
        // what a poll costs and reading never falls behind the platform.
        const seconds = Number((nowNs - start) / MS_NS) / 1000;
        skipped.add(seconds, { query });
        const now = options.clock.now();
        if (now - (skipLogged.get(query) ?? Number.NEGATIVE_INFINITY) >= 5 * 60_000) {
          skipLogged.set(query, now);
          options.logger.warn(
            { query, taken, skippedSeconds: seconds },
            'Loki has more lines than a poll reads of this query: the rest up to now is skipped',
          );
        }
        end = nowNs;
        cut = true;
        break;
      }
      if (taken >= maxEntries) {
        options.logger.info(
          { query, taken },
          'Loki has more lines than one poll takes: the next poll goes on',
        );
        end = start;
        cut = true;
        break;
      }
    }
    // Commit only after the whole query paged successfully.
    for (const [k, t] of fresh) already.set(k, t);
    // Only what the next poll can see again needs remembering: from where it resumes, or from
    // the overlap before the watermark.
    const keepFrom = cut ? end : end - overlapNs;
    for (const [k, t] of already) if (t < keepFrom) already.delete(k);
    // Lines before `from` were not read now: they are remembered only as far as before.
    horizons.set(query, from > keepFrom && horizon !== undefined && horizon > keepFrom ? horizon : keepFrom);
    seen.set(query, already);
    watermarks.set(query, end);
    if (cut) resumeAt.set(query, end);
    else resumeAt.delete(query);
  }

  return {
    id: 'loki',
    entity: sourceEntity('loki'),
    intervalMs: options.intervalMs ?? 30_000,
    async poll() {
      const nowNs = BigInt(options.clock.now()) * MS_NS;
      const out: LogObservation[] = [];
      for (const q of options.queries) await pollQuery(q, nowNs, out);
      for (const q of options.budgetQueries ?? []) await pollQuery(q, nowNs, out, linesPerPoll);
      return out;
    },
  };
}
