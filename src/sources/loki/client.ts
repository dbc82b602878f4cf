import { getJson } from '../http.ts';
import { SourceError } from '../source.ts';

export interface LokiClientOptions {
  /** e.g. `http://loki:3100` */
  baseUrl: string;
  /** `X-Scope-OrgID`; required by a multi-tenant Loki (without it: 401 "no org id"). */
  tenant?: string;
  /** Basic auth (`user`, `password`) or a bearer token; never logged. */
  auth?: { user: string; password: string } | { bearer: string };
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

/** One stream of a `query_range` answer: its labels and `[ns timestamp, line]` entries. */
export interface LokiStream {
  readonly stream: Record<string, string>;
  readonly values: readonly (readonly [string, string])[];
}

export interface QueryRange {
  readonly query: string;
  /** Unix ns, inclusive. */
  readonly startNs: bigint;
  /** Unix ns. */
  readonly endNs: bigint;
  /** Entries at most; Loki refuses more than `max_entries_limit_per_query` (5000). */
  readonly limit: number;
  readonly direction: 'forward' | 'backward';
}

/**
 * Loki's HTTP API as Guardian uses it: `GET /loki/api/v1/query_range` for log queries, with
 * `X-Scope-OrgID` and basic or bearer auth. Loki's error bodies are text, passed on in the
 * {@link SourceError}'s message; credentials never are.
 */
export class LokiClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: LokiClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#headers = {};
    if (options.tenant) this.#headers['x-scope-orgid'] = options.tenant;
    const auth = options.auth;
    if (auth && 'bearer' in auth) this.#headers.authorization = `Bearer ${auth.bearer}`;
    else if (auth)
      this.#headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  }

  /** The streams a log query matches in a time range. */
  async queryRange(q: QueryRange, signal?: AbortSignal): Promise<LokiStream[]> {
    const params = new URLSearchParams({
      query: q.query,
      start: q.startNs.toString(),
      end: q.endNs.toString(),
      limit: String(q.limit),
      direction: q.direction,
    });
    const body = await getJson<{ status?: string; data?: { resultType?: string; result?: unknown } }>(
      'loki',
      `${this.#base}/loki/api/v1/query_range?${params}`,
      {
        headers: this.#headers,
        timeoutMs: this.#timeoutMs,
        what: 'query_range',
        ...(signal ? { signal } : {}),
      },
    );
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
    const streams = (body.data.result as Partial<LokiStream>[]).filter(
      (s): s is LokiStream => !!s && typeof s.stream === 'object' && Array.isArray(s.values),
    );
    // More than asked for is not Loki's behaviour (a proxy, a misconfigured peer): refused, not
    // taken, so that one answer cannot turn into a million observations.
    const entries = streams.reduce((n, s) => n + s.values.length, 0);
    if (entries > q.limit) {
      throw new SourceError('loki', `query_range: answered ${entries} entries for a limit of ${q.limit}`);
    }
    return streams;
  }
}
