import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/index.ts';
import { compileLogQuery, LogQLParseError, parseLogQuery } from '../sources/loki/logql.ts';

/** One stream: its labels and entries (`[ns timestamp, line]`, any order). */
export interface LokiStream {
  readonly labels: Readonly<Record<string, string>>;
  readonly entries: readonly (readonly [bigint, string])[];
}

export interface LokiStandInOptions {
  streams: readonly LokiStream[];
  /** "Now": entries after it do not exist yet, and `end` defaults to it. */
  clock: Clock;
  /** Require `X-Scope-OrgID` (Loki's `auth_enabled: true`, its default). @defaultValue true */
  requireTenant?: boolean;
  /** `max_entries_limit_per_query` @defaultValue 5000 */
  maxEntriesLimit?: number;
}

/**
 * A stand-in for Grafana Loki's HTTP query API, for tests and `guardian replay`: `query_range`,
 * `query` (log queries), `labels`, `label/{name}/values`, with Loki's defaults (limit 100, start =
 * end − 1h inclusive, end = now exclusive, direction backward), timestamps as ns integers, float
 * seconds or RFC 3339, the LogQL subset of `logql.ts`, and Loki's text/plain errors (400 for a
 * bad query or a limit over the maximum, 401 `no org id`). It never serves entries from after the
 * clock's now.
 */
export async function startLokiStandIn(
  options: LokiStandInOptions,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const maxLimit = options.maxEntriesLimit ?? 5000;
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    try {
      handle(req, res);
    } catch (err) {
      text(res, 500, String(err));
    }
  });

  function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', 'http://loki');
    if ((options.requireTenant ?? true) && !req.headers['x-scope-orgid'])
      return text(res, 401, 'no org id\n');
    const nowNs = BigInt(options.clock.now()) * 1_000_000n;
    const p = u.searchParams;
    switch (u.pathname) {
      case '/loki/api/v1/query_range':
      case '/loki/api/v1/query': {
        const instant = u.pathname.endsWith('/query');
        const limit = p.has('limit') ? Number(p.get('limit')) : 100;
        if (!Number.isInteger(limit) || limit <= 0)
          return text(res, 400, `invalid limit: ${p.get('limit')}\n`);
        if (limit > maxLimit) {
          return text(
            res,
            400,
            `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${maxLimit})\n`,
          );
        }
        const direction = p.get('direction') ?? 'backward';
        if (direction !== 'forward' && direction !== 'backward')
          return text(res, 400, `invalid direction: ${direction}\n`);
        let end: bigint;
        let start: bigint;
        try {
          end = instant
            ? p.has('time')
              ? parseTime(p.get('time')!) + 1n
              : nowNs + 1n
            : p.has('end')
              ? parseTime(p.get('end')!)
              : nowNs;
          start = instant
            ? end - 3_600_000_000_000n
            : p.has('start')
              ? parseTime(p.get('start')!)
              : p.has('since')
                ? end - parseDurationNs(p.get('since')!)
                : end - 3_600_000_000_000n;
        } catch (err) {
          return text(res, 400, `${(err as Error).message}\n`);
        }
        if (end < start) return text(res, 400, 'end timestamp must not be before or equal to start time\n');
        let compiled: ReturnType<typeof compileLogQuery>;
        try {
          compiled = compileLogQuery(parseLogQuery(p.get('query') ?? ''));
        } catch (err) {
          if (err instanceof LogQLParseError) return text(res, 400, `${err.message}\n`);
          throw err;
        }
        // Loki's end is exclusive; nothing after now exists yet.
        const until = end <= nowNs + 1n ? end : nowNs + 1n;
        const hits: { labels: Readonly<Record<string, string>>; ts: bigint; line: string }[] = [];
        for (const s of options.streams) {
          if (!compiled.stream(s.labels as Record<string, string>)) continue;
          for (const [ts, line] of s.entries)
            if (ts >= start && ts < until && compiled.line(line)) hits.push({ labels: s.labels, ts, line });
        }
        hits.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
        if (direction === 'backward') hits.reverse();
        const taken = hits.slice(0, limit);
        const byStream = new Map<
          string,
          { stream: Readonly<Record<string, string>>; values: [string, string][] }
        >();
        for (const h of taken) {
          const key = JSON.stringify(Object.entries(h.labels).sort());
          const s = byStream.get(key) ?? { stream: h.labels, values: [] };
          s.values.push([h.ts.toString(), h.line]);
          byStream.set(key, s);
        }
        return json(res, {
          status: 'success',
          data: {
            resultType: 'streams',
            result: [...byStream.values()],
            stats: { summary: { totalLinesProcessed: hits.length, execTime: 0.001 } },
          },
        });
      }
      case '/loki/api/v1/labels': {
        const names = new Set<string>();
        for (const s of options.streams) for (const k of Object.keys(s.labels)) names.add(k);
        return json(res, { status: 'success', data: [...names].sort() });
      }
      default: {
        const m = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(u.pathname);
        if (m) {
          const name = decodeURIComponent(m[1]!);
          const values = new Set<string>();
          for (const s of options.streams) if (s.labels[name] !== undefined) values.add(s.labels[name]!);
          return json(res, { status: 'success', data: [...values].sort() });
        }
        return text(res, 404, '404 page not found\n');
      }
    }
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function text(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Loki's timestamp forms: integer ns, float seconds, RFC 3339. */
function parseTime(v: string): bigint {
  if (/^\d+$/.test(v)) return BigInt(v);
  if (/^\d+\.\d+$/.test(v)) return BigInt(Math.round(Number(v) * 1e9));
  const ms = Date.parse(v);
  if (Number.isNaN(ms))
    throw new Error(`invalid parameter "start": cannot parse "${v}" to a valid timestamp`);
  return BigInt(ms) * 1_000_000n;
}

function parseDurationNs(v: string): bigint {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  if (!m) throw new Error(`invalid parameter "since": cannot parse "${v}" to a valid duration`);
  const unit: Record<string, bigint> = {
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
    d: 86_400_000_000_000n,
  };
  return BigInt(m[1]!) * unit[m[2]!]!;
}
