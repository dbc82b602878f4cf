import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Observation, type StateObservation } from '../src/core/index.ts';
import { createAirflowSource } from '../src/sources/airflow/source.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/**
 * The Airflow source's own behaviour against a scripted HTTP peer: authentication and
 * re-authentication, paging past the server's page clamp, deduplication across overlapping polls,
 * and every kind of bad answer. (Against the real Airflow: test/engines.)
 */
describe('Airflow source', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  const requests: { path: string; auth: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push({ path: `${u.pathname}${u.search}`, auth: req.headers.authorization });
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => handler(req, res, u));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    requests.length = 0;
  });

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      date: new Date('2026-03-02T02:30:00Z').toUTCString(),
    });
    res.end(JSON.stringify(body));
  };

  const HEALTH = {
    metadatabase: { status: 'healthy' },
    scheduler: { status: 'healthy', latest_scheduler_heartbeat: '2026-03-02T02:29:59Z' },
    triggerer: { status: 'healthy' },
    dag_processor: null,
  };
  const ti = (n: number, state: string, over: Record<string, unknown> = {}) => ({
    id: `ti-${n}`,
    dag_id: 'silver_orders',
    dag_run_id: 'scheduled__2026-03-02T02:00:00+00:00',
    task_id: `task_${n}`,
    map_index: -1,
    try_number: 1,
    max_tries: 0,
    state,
    hostname: 'airflow-worker-2',
    operator: 'PythonOperator',
    start_date: '2026-03-02T02:10:00Z',
    end_date: '2026-03-02T02:12:40Z',
    ...over,
  });

  /** A well-behaved Airflow with `tis` task instances, clamping pages to 2 items. */
  function airflow(tis: Record<string, unknown>[], extra: Partial<Record<string, Handler>> = {}): Handler {
    let tokens = 0;
    return (req, res, u) => {
      const custom = extra[decodeURIComponent(u.pathname)];
      if (custom) return custom(req, res, u);
      if (u.pathname === '/auth/token') return json(res, 201, { access_token: `jwt-${++tokens}` });
      if (u.pathname === '/api/v2/monitor/health') return json(res, 200, HEALTH);
      if (!req.headers.authorization?.startsWith('Bearer jwt-'))
        return json(res, 401, { detail: 'Not authenticated' });
      const offset = Number(u.searchParams.get('offset') ?? 0);
      const page = <T>(items: T[], field: string) =>
        json(res, 200, { [field]: items.slice(offset, offset + 2), total_entries: items.length });
      if (u.pathname === '/api/v2/dags/~/dagRuns') return page([], 'dag_runs');
      if (u.pathname === '/api/v2/dags/~/dagRuns/~/taskInstances') return page(tis, 'task_instances');
      if (u.pathname === '/api/v2/importErrors') return page([], 'import_errors');
      if (u.pathname === '/api/v2/dags') return page([], 'dags');
      if (u.pathname.includes('/logs/')) {
        return json(res, 200, {
          content: [
            { event: 'Task started', level: 'info', timestamp: '2026-03-02T02:10:00Z' },
            {
              event: 'Task failed with exception',
              level: 'error',
              timestamp: '2026-03-02T02:12:40Z',
              error_detail: [{ exc_type: 'AnalysisException', exc_value: 'UNRESOLVED_COLUMN `amount`' }],
            },
          ],
          continuation_token: null,
        });
      }
      return json(res, 404, { detail: 'Not Found' });
    };
  }

  // Generous by default so a loaded CI machine does not time out a healthy poll; the
  // timeout case passes its own short one.
  function source(clock = new ManualClock(Date.parse('2026-03-02T02:30:00Z')), timeoutMs = 10_000) {
    return createAirflowSource({
      baseUrl: url,
      username: 'guardian',
      password: 'secret-pw',
      clock,
      logger: silentLogger(),
      timeoutMs,
    });
  }

  const states = (obs: Observation[]) => obs.filter((o): o is StateObservation => o.type === 'state');

  it('pages to the end although the server clamps page size, and reports each state once', async () => {
    handler = airflow([
      ti(1, 'failed'),
      ti(2, 'success'),
      ti(3, 'running'),
      ti(4, 'upstream_failed'),
      ti(5, 'queued'),
    ]);
    const s = source();
    const first = states(await s.poll());
    expect(first.map((o) => [o.entity, o.to])).toEqual([
      ['airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/task_1', 'failed'],
      ['airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/task_2', 'success'],
      ['airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/task_3', 'running'],
      ['airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/task_4', 'upstream_failed'],
      ['airflow:task:silver_orders/scheduled__2026-03-02T02:00:00+00:00/task_5', 'queued'],
    ]);
    expect(first[0]!.related).toEqual([
      'airflow:dagrun:silver_orders/scheduled__2026-03-02T02:00:00+00:00',
      'airflow:dag:silver_orders',
      'host:airflow-worker-2',
    ]);
    expect(first[0]!.details.log).toEqual([
      '[2026-03-02T02:12:40Z] ERROR - Task failed with exception\nAnalysisException: UNRESOLVED_COLUMN `amount`',
    ]);
    // The overlapping second poll sees the same rows: nothing new to report.
    expect(states(await s.poll())).toEqual([]);
    // Health of each deployed component on every poll.
    expect((await s.poll()).filter((o) => o.type === 'health').map((o) => o.entity)).toEqual([
      'airflow:metadatabase',
      'airflow:scheduler',
      'airflow:triggerer',
    ]);
  });

  it("reports each scheduled DAG's next run every poll, and once more when it has none", async () => {
    const dag = (id: string, next: string | null, paused = false) => ({
      dag_id: id,
      is_paused: paused,
      next_dagrun_run_after: next,
      timetable_summary: next ? '0 2 * * *' : null,
      max_active_runs: 1,
    });
    let dags = [
      dag('silver_orders', '2026-03-02T02:00:00Z'),
      dag('ad_hoc_backfill', null),
      {
        ...dag('legacy_export', '2026-03-03T00:00:00Z', true),
        fileloc: '/opt/airflow/dags/legacy/export.py',
      },
      dag('paused_by_hand', null, true),
    ];
    handler = airflow([], {
      '/api/v2/dags': (_req, res, u) => {
        expect(u.searchParams.get('exclude_stale')).toBe('true');
        json(res, 200, { dags, total_entries: dags.length });
      },
    });
    const src = source();
    const dagStates = (obs: Observation[]) =>
      states(obs)
        .filter((o) => o.entity.startsWith('airflow:dag:'))
        .map((o) => [o.entity, o.to, o.details.nextRunAfter]);
    expect(dagStates(await src.poll())).toEqual([
      ['airflow:dag:silver_orders', 'scheduled', Date.parse('2026-03-02T02:00:00Z')],
      ['airflow:dag:legacy_export', 'paused', Date.parse('2026-03-03T00:00:00Z')],
    ]);
    expect(dagStates(await src.poll())).toHaveLength(2); // every poll: "still due" is news
    dags = [dag('silver_orders', null), dag('ad_hoc_backfill', null)];
    const third = states(await src.poll()).filter((o) => o.entity.startsWith('airflow:dag:'));
    expect(third.map((o) => [o.entity, o.to, o.details.nextRunAfter])).toEqual([
      ['airflow:dag:silver_orders', 'scheduled', undefined],
      ['airflow:dag:legacy_export', 'removed', undefined],
    ]);
    // A DAG no longer listed (deactivated as stale) still names its file: why its runs stopped.
    expect(third[1]!.related).toEqual([
      'airflow:scheduler',
      'airflow:import:/opt/airflow/dags/legacy/export.py',
    ]);
    expect(dagStates(await src.poll())).toEqual([]);
  });

  it('reads the data sets a successful try used from its log, not the bucket they share', async () => {
    const base = airflow([ti(7, 'success')]);
    handler = (req, res, u) =>
      u.pathname.includes('/logs/')
        ? json(res, 200, {
            content: [
              {
                event:
                  'Running statement 1/1: INSERT INTO lakehouse.bronze.orders SELECT * FROM json.`s3://landing-prod/orders_api/dt=2026-03-02/`',
                level: 'info',
                timestamp: '2026-03-02T02:11:00Z',
              },
            ],
            continuation_token: null,
          })
        : base(req, res, u);
    const [seen] = states(await source().poll()).filter((o) => o.to === 'success');
    expect(seen?.details.data).toEqual(['name:orders_api']);
  });

  it('reports what a running try writes once its log shows the statement, and reads it once', async () => {
    const running = ti(8, 'running', { end_date: null });
    let statement = false;
    let logReads = 0;
    const base = airflow([running]);
    handler = (req, res, u) => {
      if (!u.pathname.includes('/logs/')) return base(req, res, u);
      logReads++;
      const lines = [
        { event: 'Connecting to Spark Connect', level: 'info', timestamp: '2026-03-02T02:10:01Z' },
      ];
      if (statement)
        lines.push({
          event:
            "Running statement 1/1: CALL lakehouse.system.expire_snapshots(table => 'silver.assets', retain_last => 1)",
          level: 'info',
          timestamp: '2026-03-02T02:10:04Z',
        });
      return json(res, 200, { content: lines, continuation_token: null });
    };
    const src = source();
    // first seen running before its statement is logged: no writes yet
    const [first] = states(await src.poll()).filter((o) => o.entity.endsWith('/task_8'));
    expect(first).toMatchObject({ to: 'running' });
    expect(first?.details.writes).toBeUndefined();
    // the next poll, the log shows it: the running state again, with what it writes, at its start
    statement = true;
    const [again] = states(await src.poll()).filter((o) => o.entity.endsWith('/task_8'));
    expect(again).toMatchObject({ from: 'running', to: 'running', details: { writes: ['silver.assets'] } });
    expect(again?.time).toBe(Date.parse('2026-03-02T02:10:00Z'));
    // and never again while it runs
    const reads = logReads;
    expect(states(await src.poll()).filter((o) => o.entity.endsWith('/task_8'))).toEqual([]);
    expect(logReads).toBe(reads);
  });

  it('carries the tables the statements of a failed try used, which its log tail does not keep', async () => {
    const base = airflow([ti(9, 'failed')]);
    handler = (req, res, u) =>
      u.pathname.includes('/logs/')
        ? json(res, 200, {
            content: [
              {
                event:
                  'Running statement 1/1: MERGE INTO lakehouse.silver.claims t USING lakehouse.silver.claims_updates s ON t.id = s.id',
                level: 'info',
                timestamp: '2026-03-02T02:11:00Z',
              },
              { event: 'Task failed with exception', level: 'error', timestamp: '2026-03-02T02:12:40Z' },
            ],
            continuation_token: null,
          })
        : base(req, res, u);
    const [seen] = states(await source().poll()).filter((o) => o.to === 'failed');
    expect(seen?.details.tables).toEqual(['silver.claims', 'silver.claims_updates']);
    expect(String(seen?.details.log)).not.toContain('MERGE INTO');
  });

  it('carries at most 16 data sets of a try whose log names thousands of paths', async () => {
    const base = airflow([ti(7, 'success')]);
    const lines = Array.from({ length: 2000 }, (_, i) => ({
      event: `Reading s3://landing-prod/source_${i}/dt=2026-03-02/part-0.json`,
      level: 'info',
      timestamp: '2026-03-02T02:11:00Z',
    }));
    handler = (req, res, u) =>
      u.pathname.includes('/logs/')
        ? json(res, 200, { content: lines, continuation_token: null })
        : base(req, res, u);
    const [seen] = states(await source().poll()).filter((o) => o.to === 'success');
    const data = seen?.details.data as string[];
    expect(data).toHaveLength(16);
    expect(data[0]).toBe('name:source_0');
  });

  it('finds tries that ended between two polls in the try history', async () => {
    const latest = ti(7, 'success', { try_number: 2, max_tries: 1 });
    handler = airflow([latest], {
      '/api/v2/dags/silver_orders/dagRuns/scheduled__2026-03-02T02:00:00+00:00/taskInstances/task_7/tries': (
        _req,
        res,
      ) =>
        json(res, 200, {
          task_instances: [ti(7, 'failed', { try_number: 1, max_tries: 1 }), latest],
          total_entries: 2,
        }),
    });
    const seen = states(await source().poll());
    expect(seen.map((o) => [o.to, o.details.try_number, o.details.retried])).toEqual([
      ['failed', 1, true],
      ['success', 2, false],
    ]);
  });

  it('reads the runs and tries still active, however old, at its first poll only, each once', async () => {
    handler = airflow([ti(1, 'running', { start_date: '2026-03-01T02:10:00Z', end_date: null })]);
    const s = source();
    const first = states(await s.poll());
    const listed = (path: string) =>
      requests
        .filter((r) => new URL(r.path, 'http://x').pathname === path)
        .flatMap((r) => new URL(r.path, 'http://x').searchParams.getAll('state'));
    expect(listed('/api/v2/dags/~/dagRuns')).toEqual(['queued', 'running']);
    expect(listed('/api/v2/dags/~/dagRuns/~/taskInstances')).toEqual([
      'queued',
      'running',
      'deferred',
      'up_for_retry',
      'up_for_reschedule',
      'restarting',
    ]);
    // listed by state and as updated: reported once
    expect(first.filter((o) => o.entity.endsWith('/task_1')).map((o) => o.to)).toEqual(['running']);
    requests.length = 0;
    await s.poll();
    expect(requests.some((r) => r.path.includes('state='))).toBe(false);
  });

  it('polls from a watermark on Airflow’s clock, with overlap', async () => {
    handler = airflow([]);
    const s = source();
    await s.poll();
    requests.length = 0;
    await s.poll();
    const tiCall = requests.find((r) => r.path.startsWith('/api/v2/dags/~/dagRuns/~/taskInstances'))!;
    // Date header 02:30:00 minus the default two-minute overlap.
    expect(new URL(tiCall.path, 'http://x').searchParams.get('updated_at_gte')).toBe(
      '2026-03-02T02:28:00.000Z',
    );
  });

  it('gets a token once, and a new one when Airflow answers 401', async () => {
    let rejectOnce = true;
    handler = airflow([], {
      '/api/v2/importErrors': (req, res) => {
        if (rejectOnce && req.headers.authorization === 'Bearer jwt-1') {
          rejectOnce = false;
          return json(res, 401, { detail: 'Token expired' });
        }
        json(res, 200, { import_errors: [], total_entries: 0 });
      },
    });
    await source().poll();
    expect(requests.filter((r) => r.path === '/auth/token')).toHaveLength(2);
    expect(requests.filter((r) => r.path.startsWith('/api/v2/importErrors')).map((r) => r.auth)).toEqual([
      'Bearer jwt-1',
      'Bearer jwt-2',
    ]);
  });

  it.each([
    [
      'an HTML error page',
      (res: ServerResponse) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><body>502 Bad Gateway</body></html>');
      },
      /HTTP 502 \(an HTML page\)/,
    ],
    [
      'truncated JSON',
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"task_instances": [{"dag_id": "x"');
      },
      /not JSON/,
    ],
    [
      'an unexpected shape',
      (res: ServerResponse) => json(res, 200, { items: [] }),
      /no "task_instances" list/,
    ],
    [
      'a 500 with a detail',
      (res: ServerResponse) => json(res, 500, { detail: 'database is locked' }),
      /HTTP 500: database is locked/,
    ],
    ['no answer in time', () => {}, /no answer in 300 ms/],
  ] as const)('fails the poll, naming the problem, on %s', async (_name, answer, message) => {
    handler = airflow([], { '/api/v2/dags/~/dagRuns/~/taskInstances': (_req, res) => answer(res) });
    await expect(source(undefined, 300).poll()).rejects.toThrow(message);
  });

  it('says so when the credentials are refused, and never shows the password', async () => {
    handler = airflow([], {
      '/auth/token': (_req, res) => json(res, 401, { detail: 'Invalid credentials' }),
    });
    const err = await source()
      .poll()
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/credentials refused/);
    expect(String(err)).not.toContain('secret-pw');
  });

  it('does not move its watermark when a poll fails, so nothing is lost', async () => {
    let broken = false;
    handler = airflow([ti(1, 'failed')], {
      '/api/v2/importErrors': (_req, res) =>
        broken ? json(res, 503, { detail: 'down' }) : json(res, 200, { import_errors: [], total_entries: 0 }),
    });
    const s = source();
    broken = true;
    await expect(s.poll()).rejects.toThrow(/503/);
    broken = false;
    requests.length = 0;
    const retried = states(await s.poll());
    expect(retried.map((o) => o.to)).toEqual(['failed']);
    const tiCall = requests.find((r) => r.path.startsWith('/api/v2/dags/~/dagRuns/~/taskInstances'))!;
    // Still the first poll's look-back (one hour before the clock, minus the overlap).
    expect(new URL(tiCall.path, 'http://x').searchParams.get('updated_at_gte')).toBe(
      '2026-03-02T01:28:00.000Z',
    );
  });
});
