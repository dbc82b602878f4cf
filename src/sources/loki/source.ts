import type { Clock, LogObservation } from '../../core/index.ts';
import { entityKey } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { type PollSource, SourceError, sourceEntity } from '../source.ts';

export interface LokiSourceOptions {
  /** e.g. `http://loki:3100` */
  baseUrl: string;
  /** LogQL log queries to follow, e.g. `{service_name=~"spark.*"} |~ "(?i)error|exception"`. */
  queries: readonly string[];
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
}

interface StreamResult {
  stream: Record<string, string>;
  values: [string, string][];
}

const MS_NS = 1_000_000n;

/**
 * Follows Loki with `query_range` polls over the configured queries: forward from a watermark,
 * with overlap for late lines and exact deduplication of (stream, timestamp, line), paging past
 * the per-query entry limit, with `X-Scope-OrgID` and basic or bearer auth. Loki's error bodies
 * are text, not JSON, and are passed on as they are.
 */
export function createLokiSource(options: LokiSourceOptions): PollSource {
  const overlapNs = BigInt(options.overlapMs ?? 60_000) * MS_NS;
  const pageLimit = options.pageLimit ?? 5000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = options.baseUrl.replace(/\/+$/, '');
  /** Per query: where the next poll ends its look-back, in ns. */
  const watermarks = new Map<string, bigint>();
  /** Keys of entries already reported, with their timestamp, per query: dropped once older than the overlap. */
  const seen = new Map<string, Map<string, bigint>>();

  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.tenant) headers['x-scope-orgid'] = options.tenant;
  if (options.auth && 'bearer' in options.auth) headers.authorization = `Bearer ${options.auth.bearer}`;
  else if (options.auth)
    headers.authorization = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;

  async function queryRange(query: string, startNs: bigint, endNs: bigint): Promise<StreamResult[]> {
    const params = new URLSearchParams({
      query,
      start: startNs.toString(),
      end: endNs.toString(),
      limit: String(pageLimit),
      direction: 'forward',
    });
    let res: Response;
    try {
      res = await fetch(`${base}/loki/api/v1/query_range?${params}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new SourceError(
        'loki',
        `query_range: ${cause === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : `cannot connect (${cause})`}`,
      );
    }
    const text = await res.text();
    if (!res.ok)
      throw new SourceError(
        'loki',
        `query_range: HTTP ${res.status}: ${text.trim().slice(0, 300)}`,
        res.status,
      );
    let body: { status?: string; data?: { resultType?: string; result?: unknown } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new SourceError('loki', `query_range: answer is not JSON (${text.length} bytes)`);
    }
    if (
      body.status !== 'success' ||
      body.data?.resultType !== 'streams' ||
      !Array.isArray(body.data.result)
    ) {
      throw new SourceError(
        'loki',
        `query_range: expected streams, got ${body.data?.resultType ?? body.status ?? 'nothing'}`,
      );
    }
    return body.data.result as StreamResult[];
  }

  async function pollQuery(query: string, nowNs: bigint, out: LogObservation[]): Promise<void> {
    const lookback = BigInt(options.lookbackMs ?? 15 * 60_000) * MS_NS;
    const from = (watermarks.get(query) ?? nowNs - lookback) - overlapNs;
    const already = seen.get(query) ?? new Map<string, bigint>();
    const fresh = new Map<string, bigint>();
    let start = from;
    for (let page = 0; page < 1000; page++) {
      const streams = await queryRange(query, start, nowNs);
      let count = 0;
      let last = start;
      for (const s of streams) {
        if (!s || typeof s.stream !== 'object' || !Array.isArray(s.values)) continue;
        const stream = entityKey.logStream(s.stream);
        for (const [ts, line] of s.values) {
          count++;
          const tsNs = BigInt(ts);
          if (tsNs > last) last = tsNs;
          const key = `${stream}\u0000${ts}\u0000${line}`;
          if (already.has(key) || fresh.has(key)) continue;
          fresh.set(key, tsNs);
          out.push({ type: 'log', stream, labels: s.stream, time: Number(tsNs / MS_NS), line });
        }
      }
      // A full page may have more after it: ask again from its last timestamp (inclusive; the
      // entries at that instant already taken are deduplicated).
      if (count < pageLimit) break;
      if (last === start) {
        options.logger.warn({ query }, 'Loki page full of one instant: continuing after it');
        start = last + 1n;
      } else start = last;
    }
    // Commit only after the whole query paged successfully.
    for (const [k, t] of fresh) already.set(k, t);
    for (const [k, t] of already) if (t < nowNs - 2n * overlapNs) already.delete(k);
    seen.set(query, already);
    watermarks.set(query, nowNs);
  }

  return {
    id: 'loki',
    entity: sourceEntity('loki'),
    intervalMs: options.intervalMs ?? 30_000,
    async poll() {
      const nowNs = BigInt(options.clock.now()) * MS_NS;
      const out: LogObservation[] = [];
      for (const q of options.queries) await pollQuery(q, nowNs, out);
      return out;
    },
  };
}
