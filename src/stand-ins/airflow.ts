import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/index.ts';

/** The `airflow` section of a scenario (`../shared/scenarios/FORMAT.md`). */
export interface AirflowScenario {
  dags?: {
    dag_id: string;
    tags?: string[];
    owners?: string[];
    is_paused?: boolean;
    fileloc?: string;
    schedule?: string | null;
    /** Runs of the DAG that may be active at once (Airflow's default: 16). */
    max_active_runs?: number;
  }[];
  dag_runs?: ScenarioDagRun[];
  task_instances?: ScenarioTry[];
  import_errors?: { filename: string; stack_trace: string; timestamp: string; bundle_name?: string }[];
  health?: ({ at: string } & Record<string, string | null>)[];
}

interface ScenarioDagRun {
  dag_id: string;
  dag_run_id: string;
  state: string;
  queued_at: string | null;
  start_date: string | null;
  end_date: string | null;
  run_after?: string | null;
  run_type?: string;
  [field: string]: unknown;
}

interface ScenarioTry {
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  map_index?: number;
  try_number: number;
  max_tries?: number;
  state: string;
  queued_when: string | null;
  start_date: string | null;
  end_date: string | null;
  log?: string[];
  [field: string]: unknown;
}

export interface AirflowStandInOptions {
  scenario: AirflowScenario;
  /** "Now": state is derived as of this time, and nothing later exists. */
  clock: Clock;
  username?: string;
  password?: string;
  /** `[api] maximum_page_limit` @defaultValue 100 */
  maximumPageLimit?: number;
}

const t = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A stand-in for the Airflow 3 REST API (`/api/v2`) that serves a scenario's Airflow as it was at
 * the clock's now, by FORMAT.md's rules: a run is absent before `queued_at`, queued, running from
 * `start_date`, in its final state from `end_date`; a task try likewise from `queued_when`; the
 * task instance is its highest try that exists; logs hold only lines stamped by then. It speaks
 * the real API's auth (`POST /auth/token` → 201, Bearer, 401 `{detail}`), paging (limit clamped to
 * the maximum page limit, `total_entries`), `updated_at_gte` filters and 422 validation errors.
 * `GET /api/v2/dags/{dag_id}` answers a scenario DAG (owners, tags as `{name, dag_id,
 * dag_display_name}`, its next scheduled run) or Airflow's 404 for a DAG it does not know.
 */
export async function startAirflowStandIn(
  options: AirflowStandInOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const username = options.username ?? 'guardian';
  const password = options.password ?? 'guardian';
  const maxPage = options.maximumPageLimit ?? 100;
  const tokens = new Set<string>();
  const sc = options.scenario;

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        handle(req, res, body);
      } catch (err) {
        sendAt(res, 500, { detail: String(err) }, options.clock.now());
      }
    });
  });

  /**
   * What Airflow reports as a DAG's `next_dagrun_run_after` at `now`: the scheduler creates runs
   * in order, so it is the `run_after` of the earliest scheduled run not created (queued) yet.
   * Null when the scenario holds no such run (its next run lies past the scenario).
   */
  function nextRunAfter(dagId: string, now: number): string | null {
    let next = Number.POSITIVE_INFINITY;
    for (const run of sc.dag_runs ?? []) {
      if (run.dag_id !== dagId || (run.run_type ?? 'scheduled') !== 'scheduled') continue;
      const after = t(run.run_after);
      if (t(run.queued_at) > now && after < next) next = after;
    }
    return Number.isFinite(next) ? iso(next) : null;
  }

  function runAt(run: ScenarioDagRun, now: number) {
    const queued = t(run.queued_at);
    const started = t(run.start_date);
    const ended = t(run.end_date);
    if (!(queued <= now) && !(started <= now)) return undefined;
    const state = ended <= now ? run.state : started <= now ? 'running' : 'queued';
    const updated = Math.max(...[queued, started, ended].filter((x) => x <= now));
    return {
      updated,
      body: {
        dag_run_id: run.dag_run_id,
        dag_id: run.dag_id,
        dag_display_name: run.dag_id,
        logical_date: run.logical_date ?? null,
        queued_at: run.queued_at,
        start_date: started <= now ? run.start_date : null,
        end_date: ended <= now ? run.end_date : null,
        duration: ended <= now ? (ended - started) / 1000 : null,
        data_interval_start: run.data_interval_start ?? null,
        data_interval_end: run.data_interval_end ?? null,
        run_after: run.run_after ?? run.logical_date ?? run.queued_at,
        last_scheduling_decision: null,
        run_type: run.run_type ?? 'scheduled',
        state,
        triggered_by: run.triggered_by ?? 'timetable',
        triggering_user_name: null,
        conf: {},
        note: null,
        dag_versions: [],
        bundle_version: null,
        partition_key: null,
        partition_date: null,
      },
    };
  }

  function tryAt(ti: ScenarioTry, now: number) {
    const queued = t(ti.queued_when);
    const started = t(ti.start_date);
    const ended = t(ti.end_date);
    const appears = Number.isFinite(queued) ? queued : started;
    if (!(appears <= now)) return undefined;
    const state = ended <= now ? ti.state : started <= now ? 'running' : 'queued';
    const updated = Math.max(...[queued, started, ended].filter((x) => x <= now));
    return {
      updated,
      body: {
        id: `${ti.dag_id}:${ti.dag_run_id}:${ti.task_id}:${ti.map_index ?? -1}:${ti.try_number}`,
        task_id: ti.task_id,
        dag_id: ti.dag_id,
        dag_run_id: ti.dag_run_id,
        map_index: ti.map_index ?? -1,
        logical_date: null,
        run_after: null,
        start_date: started <= now ? ti.start_date : null,
        end_date: ended <= now ? ti.end_date : null,
        duration: ended <= now && Number.isFinite(started) ? (ended - started) / 1000 : null,
        state,
        try_number: ti.try_number,
        max_tries: ti.max_tries ?? 0,
        task_display_name: ti.task_id,
        dag_display_name: ti.dag_id,
        hostname: started <= now ? (ti.hostname ?? '') : '',
        unixname: 'airflow',
        pool: ti.pool ?? 'default_pool',
        pool_slots: 1,
        queue: ti.queue ?? 'default',
        priority_weight: 1,
        operator: ti.operator ?? null,
        operator_name: ti.operator ?? null,
        queued_when: ti.queued_when,
        scheduled_when: ti.queued_when,
        pid: started <= now ? (ti.pid ?? null) : null,
        executor: ti.executor ?? null,
        executor_config: '{}',
        note: null,
        rendered_map_index: null,
        rendered_fields: {},
        trigger: null,
        triggerer_job: null,
        dag_version: null,
      },
    };
  }

  /** The task instances as the API shows them: the highest existing try of each. */
  function currentTis(now: number) {
    const latest = new Map<string, { updated: number; body: Record<string, unknown> }>();
    for (const ti of sc.task_instances ?? []) {
      const at = tryAt(ti, now);
      if (!at) continue;
      const key = `${ti.dag_id}\u0000${ti.dag_run_id}\u0000${ti.task_id}\u0000${ti.map_index ?? -1}`;
      const prev = latest.get(key);
      if (!prev || (prev.body.try_number as number) < ti.try_number) latest.set(key, at);
    }
    return [...latest.values()];
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const u = new URL(req.url ?? '/', 'http://airflow');
    const now = options.clock.now();
    const send = (r: ServerResponse, status: number, b: unknown) => sendAt(r, status, b, now);
    const path = decodeURIComponent(u.pathname);
    if (path === '/auth/token' && req.method === 'POST') {
      let creds: { username?: string; password?: string } = {};
      const type = String(req.headers['content-type'] ?? '');
      if (type.startsWith('application/json')) creds = JSON.parse(body || '{}');
      else if (type.startsWith('application/x-www-form-urlencoded'))
        creds = Object.fromEntries(new URLSearchParams(body));
      else return send(res, 415, { detail: 'Unsupported Media Type' });
      if (creds.username !== username || creds.password !== password)
        return send(res, 401, { detail: 'Invalid credentials' });
      const token = `standin.${Buffer.from(`${username}:${tokens.size}`).toString('base64url')}.sig`;
      tokens.add(token);
      return send(res, 201, { access_token: token });
    }
    if (path === '/api/v2/monitor/health') {
      const latest = (sc.health ?? []).filter((h) => t(h.at) <= now).at(-1);
      const component = (name: string) =>
        latest?.[name] === undefined
          ? null
          : {
              status: latest[name],
              [`latest_${name}_heartbeat`]: latest[`latest_${name}_heartbeat`] ?? null,
            };
      return send(res, 200, {
        metadatabase: { status: latest?.metadatabase ?? 'healthy' },
        scheduler: component('scheduler') ?? { status: 'healthy', latest_scheduler_heartbeat: iso(now) },
        triggerer: component('triggerer'),
        dag_processor: component('dag_processor'),
      });
    }
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7)))
      return send(res, 401, { detail: 'Not authenticated' });

    const limit = Number(u.searchParams.get('limit') ?? 50);
    const offset = Number(u.searchParams.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) {
      return send(res, 422, {
        detail: [
          {
            type: 'int_parsing',
            loc: ['query', Number.isInteger(limit) ? 'offset' : 'limit'],
            msg: 'Input should be a valid integer',
          },
        ],
      });
    }
    const since = u.searchParams.has('updated_at_gte')
      ? t(u.searchParams.get('updated_at_gte'))
      : Number.NEGATIVE_INFINITY;
    // Airflow's `state` filter, repeatable: any of the states given.
    const states = new Set(u.searchParams.getAll('state'));
    const inState = (body: Record<string, unknown>) => states.size === 0 || states.has(String(body.state));
    const page = <T>(items: T[], field: string) =>
      send(res, 200, {
        [field]: items.slice(offset, offset + Math.min(limit, maxPage)),
        total_entries: items.length,
        // Airflow 3.3 adds cursor paging beside offset paging; Guardian pages by offset.
        total_entries_limit: null,
        next_cursor: null,
        previous_cursor: null,
      });

    if (path === '/api/v2/dags/~/dagRuns') {
      const runs = (sc.dag_runs ?? [])
        .map((r) => runAt(r, now))
        .filter((r) => r !== undefined && r.updated >= since && inState(r.body));
      return page(
        runs.map((r) => r!.body),
        'dag_runs',
      );
    }
    if (path === '/api/v2/dags/~/dagRuns/~/taskInstances') {
      return page(
        currentTis(now)
          .filter((x) => x.updated >= since && inState(x.body))
          .map((x) => x.body),
        'task_instances',
      );
    }
    if (path === '/api/v2/importErrors') {
      const errors = (sc.import_errors ?? [])
        .filter((e) => t(e.timestamp) <= now)
        .map((e, i) => ({ import_error_id: i + 1, bundle_name: 'dags-folder', ...e }));
      return page(errors, 'import_errors');
    }
    if (path === '/api/v2/dags') {
      return page(
        (sc.dags ?? []).map((d) => dagBody(d, nextRunAfter(d.dag_id, now))),
        'dags',
      );
    }
    const dag = /^\/api\/v2\/dags\/([^/]+)$/.exec(path);
    if (dag && req.method === 'GET') {
      const found = (sc.dags ?? []).find((d) => d.dag_id === dag[1]);
      // Airflow 3's answer for a DAG it has no serialized version of (api_fastapi/common/dagbag.py).
      if (!found) return send(res, 404, { detail: `The Dag with ID: \`${dag[1]}\` was not found` });
      return send(res, 200, dagBody(found, nextRunAfter(found.dag_id, now)));
    }
    const tries =
      /^\/api\/v2\/dags\/([^/]+)\/dagRuns\/([^/]+)\/taskInstances\/([^/]+)(?:\/(-?\d+))?\/tries$/.exec(path);
    if (tries) {
      const [, dag, run, task, mi] = tries;
      const list = (sc.task_instances ?? [])
        .filter(
          (ti) =>
            ti.dag_id === dag &&
            ti.dag_run_id === run &&
            ti.task_id === task &&
            (ti.map_index ?? -1) === Number(mi ?? -1),
        )
        .map((ti) => tryAt(ti, now)?.body)
        .filter(Boolean);
      if (list.length === 0) return send(res, 404, { detail: 'TaskInstance not found' });
      return send(res, 200, { task_instances: list, total_entries: list.length });
    }
    const logs = /^\/api\/v2\/dags\/([^/]+)\/dagRuns\/([^/]+)\/taskInstances\/([^/]+)\/logs\/(\d+)$/.exec(
      path,
    );
    if (logs) {
      const [, dag, run, task, tryNumber] = logs;
      if (Number(tryNumber) < 1)
        return send(res, 422, {
          detail: [
            { type: 'greater_than', loc: ['path', 'try_number'], msg: 'Input should be greater than 0' },
          ],
        });
      const mi = Number(u.searchParams.get('map_index') ?? -1);
      const ti = (sc.task_instances ?? []).find(
        (x) =>
          x.dag_id === dag &&
          x.dag_run_id === run &&
          x.task_id === task &&
          (x.map_index ?? -1) === mi &&
          x.try_number === Number(tryNumber),
      );
      if (!ti || !tryAt(ti, now)) return send(res, 404, { detail: 'TaskInstance not found' });
      const content = (ti.log ?? [])
        .map((entry) => {
          const m = /^\[([^\]]+)\]/.exec(entry);
          const stamp = m ? Date.parse(m[1]!.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN;
          return { entry, stamp, timestamp: m ? m[1] : undefined };
        })
        .filter((x) => !(x.stamp > now))
        .map((x) => ({ event: x.entry, ...(x.timestamp ? { timestamp: x.timestamp } : {}) }));
      return send(res, 200, { content, continuation_token: null });
    }
    return send(res, 404, { detail: 'Not Found' });
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A scenario's DAG as Airflow 3 answers it (`DAGResponse`): tags are objects, owners strings. */
function dagBody(d: NonNullable<AirflowScenario['dags']>[number], nextRunAfter: string | null) {
  const fileloc = d.fileloc ?? `/opt/airflow/dags/${d.dag_id}.py`;
  return {
    dag_id: d.dag_id,
    dag_display_name: d.dag_id,
    is_paused: d.is_paused ?? false,
    is_stale: false,
    last_parsed_time: null,
    last_parse_duration: null,
    last_expired: null,
    bundle_name: 'dags-folder',
    bundle_version: null,
    relative_fileloc: fileloc.split('/').at(-1) ?? fileloc,
    fileloc,
    description: null,
    timetable_summary: d.schedule ?? null,
    timetable_description: d.schedule ? `Schedule: ${d.schedule}` : 'Never, external triggers only',
    timetable_partitioned: false,
    timetable_periodic: Boolean(d.schedule),
    is_backfillable: Boolean(d.schedule),
    tags: (d.tags ?? []).map((name) => ({ name, dag_id: d.dag_id, dag_display_name: d.dag_id })),
    max_active_tasks: 16,
    max_active_runs: d.max_active_runs ?? 16,
    max_consecutive_failed_dag_runs: 0,
    has_task_concurrency_limits: false,
    has_import_errors: false,
    next_dagrun_logical_date: null,
    next_dagrun_data_interval_start: null,
    next_dagrun_data_interval_end: null,
    next_dagrun_run_after: nextRunAfter,
    allowed_run_types: null,
    owners: d.owners ?? ['airflow'],
    file_token: Buffer.from(fileloc).toString('base64url'),
  };
}

function sendAt(res: ServerResponse, status: number, body: unknown, now: number) {
  // The Date header is Airflow's clock as a client sees it: here, the virtual one.
  res.writeHead(status, { 'content-type': 'application/json', date: new Date(now).toUTCString() });
  res.end(JSON.stringify(body));
}
