import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a flooding stand-in answers, switched while Guardian runs. */
export type FloodMode = 'endless' | 'million' | 'healthy';

/** An HTTP peer (Airflow, Loki) that can answer without end, a million entries, or normally. */
export interface FloodingPeer {
  readonly url: string;
  mode: FloodMode;
  /** Bytes written to Guardian so far. */
  readonly bytesSent: () => number;
  /** The highest entry answered in `healthy` mode (Loki: how far Guardian has read). */
  readonly reached: () => number;
  /** Requests answered, by path. */
  readonly requests: (path: string) => number;
  close(): Promise<void>;
}

/**
 * Writes `chunk()` until the peer hangs up or `more()` says stop, waiting for the socket to drain
 * (so the stand-in's own memory stays flat): an answer of any size, even one without end.
 */
function stream(res: ServerResponse, chunk: () => string, more: () => boolean, sent: (n: number) => void) {
  const write = () => {
    while (!res.destroyed && more()) {
      const c = chunk();
      sent(c.length);
      if (!res.write(c)) {
        res.once('drain', write);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => {});
  write();
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, url: URL) => void,
  state: { mode: FloodMode; sent: number; reached: number; counts: Map<string, number> },
): Promise<FloodingPeer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://peer');
    state.counts.set(url.pathname, (state.counts.get(url.pathname) ?? 0) + 1);
    req.resume();
    req.on('end', () => handler(req, res, url));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(m: FloodMode) {
      state.mode = m;
    },
    bytesSent: () => state.sent,
    reached: () => state.reached,
    requests: (path) => state.counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const FILLER = 'x'.repeat(64 * 1024);

/**
 * An Airflow 3 API server. `endless`: every answer (token, health, lists) is a JSON string that
 * never ends. `million`: token and health answer normally, and the task instance list claims a
 * million entries, each page as many as asked, every entry a realistic task instance. `healthy`:
 * a healthy Airflow with nothing running. A task log is, in the modes other than `endless`, a
 * million lines in 20 pages.
 */
export async function startFloodingAirflow(mode: FloodMode): Promise<FloodingPeer> {
  const state = { mode, sent: 0, reached: 0, counts: new Map<string, number>() };
  const json = (res: ServerResponse, body: unknown) => {
    const text = JSON.stringify(body);
    state.sent += text.length;
    res.writeHead(200, { 'content-type': 'application/json', date: new Date().toUTCString() });
    res.end(text);
  };
  return listen((req, res, url) => {
    if (state.mode === 'endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"detail":"');
      stream(
        res,
        () => FILLER,
        () => true,
        (n) => (state.sent += n),
      );
      return;
    }
    const path = url.pathname;
    if (req.method === 'POST' && path === '/auth/token') return json(res, { access_token: 'jwt-flood' });
    if (path === '/api/v2/monitor/health') {
      const beat = { status: 'healthy', latest_scheduler_heartbeat: new Date().toISOString() };
      return json(res, { metadatabase: { status: 'healthy' }, scheduler: beat });
    }
    if (/\/logs\/\d+$/.test(path)) {
      // `million` mode: a million log lines, 50,000 a page, each page pointing to the next.
      const page = Number(url.searchParams.get('token') ?? 0);
      const content = Array.from(
        { length: 50_000 },
        (_, k) =>
          `[worker] line ${page * 50_000 + k} of the task's log${page * 50_000 + k === 999_999 ? ': ERROR the end' : ''}`,
      );
      const next = page < 19 ? { continuation_token: String(page + 1) } : {};
      return json(res, { content, ...next });
    }
    const field = /\/dagRuns$/.test(path)
      ? 'dag_runs'
      : /\/taskInstances$/.test(path)
        ? 'task_instances'
        : path === '/api/v2/importErrors'
          ? 'import_errors'
          : path === '/api/v2/dags'
            ? 'dags'
            : undefined;
    if (!field) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"detail":"Not Found"}');
    }
    if (state.mode === 'million' && field === 'task_instances') {
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const at = new Date().toISOString();
      const items = Array.from({ length: limit }, (_, k) => ({
        id: `ti-${offset + k}`,
        dag_id: 'flood_dag',
        dag_run_id: 'scheduled__flood',
        task_id: `task_${offset + k}`,
        map_index: -1,
        try_number: 1,
        max_tries: 1,
        state: 'success',
        hostname: 'worker-1',
        operator: 'PythonOperator',
        queued_when: at,
        start_date: at,
        end_date: at,
        duration: 1.5,
        pool: 'default_pool',
        queue: 'default',
      }));
      return json(res, { task_instances: items, total_entries: 1_000_000 });
    }
    return json(res, { [field]: [], total_entries: 0 });
  }, state);
}

/**
 * A Loki `query_range`. `million`: one answer with a million entries, whatever the limit
 * (streamed, about 45 MB). `healthy`: `total` entries spread over the last ten minutes, paged as
 * Loki pages them (at most `limit` from `start`, forward). `endless`: an answer without end.
 */
export async function startFloodingLoki(mode: FloodMode, total: number): Promise<FloodingPeer> {
  const state = { mode, sent: 0, reached: 0, counts: new Map<string, number>() };
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const stepNs = (600_000n * 1_000_000n) / BigInt(total);
  const firstNs = endNs - stepNs * BigInt(total);
  const entry = (i: number) =>
    `["${firstNs + stepNs * BigInt(i)}","GET /api/orders/${i % 977} answered 200 in ${i % 89} ms"]`;
  const head =
    '{"status":"success","data":{"resultType":"streams","result":[{"stream":{"service_name":"orders"},"values":[';
  const tail = ']}]}}';
  return listen((_req, res, url) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (state.mode === 'endless') {
      res.write(head);
      let i = 0;
      stream(
        res,
        () => `${i++ ? ',' : ''}${entry(i % total)}`,
        () => true,
        (n) => (state.sent += n),
      );
      return;
    }
    let from = 0;
    let until = 1_000_000;
    if (state.mode === 'healthy') {
      const start = BigInt(url.searchParams.get('start') ?? '0');
      const end = BigInt(url.searchParams.get('end') ?? `${endNs}`);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      from = start <= firstNs ? 0 : Number((start - firstNs + stepNs - 1n) / stepNs);
      const last = end >= endNs ? total : Number((end - firstNs) / stepNs);
      until = Math.min(last, from + limit, total);
      state.reached = Math.max(state.reached, until);
    }
    res.write(head);
    let i = from;
    const batch = () => {
      const parts: string[] = [];
      for (let k = 0; k < 1000 && i < until; k++, i++) parts.push(entry(i));
      return (i - parts.length > from ? ',' : '') + parts.join(',') + (i >= until ? tail : '');
    };
    if (until <= from) {
      res.end(tail);
      return;
    }
    stream(
      res,
      batch,
      () => i < until,
      (n) => (state.sent += n),
    );
  }, state);
}
