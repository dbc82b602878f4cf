import type { Clock } from '../../core/index.ts';
import { DEFAULT_MAX_ANSWER_BYTES, readCapped } from '../http.ts';
import { SourceError } from '../source.ts';

/** A DAG run as the Airflow 3 REST API (`/api/v2`) returns it; only the fields Guardian reads. */
export interface DagRun {
  dag_id: string;
  dag_run_id: string;
  state: string | null;
  run_type?: string;
  logical_date?: string | null;
  run_after?: string | null;
  queued_at?: string | null;
  start_date?: string | null;
  end_date?: string | null;
}

/** A task instance (its latest try) as `/api/v2` returns it. */
export interface TaskInstance {
  id?: string;
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  max_tries: number;
  state: string | null;
  hostname?: string | null;
  operator?: string | null;
  queued_when?: string | null;
  start_date?: string | null;
  end_date?: string | null;
  duration?: number | null;
  pool?: string | null;
  queue?: string | null;
}

export interface ImportError {
  import_error_id: number;
  filename: string;
  stack_trace: string;
  timestamp?: string;
  bundle_name?: string | null;
}

export interface ComponentHealth {
  status: string | null;
  latest_scheduler_heartbeat?: string | null;
  latest_triggerer_heartbeat?: string | null;
  latest_dag_processor_heartbeat?: string | null;
}

export interface AirflowHealth {
  metadatabase: { status: string };
  scheduler: ComponentHealth;
  triggerer?: ComponentHealth | null;
  dag_processor?: ComponentHealth | null;
}

/** A DAG's schedule as `GET /api/v2/dags` lists it; only the fields Guardian reads. */
export interface DagSchedule {
  dag_id: string;
  is_paused: boolean;
  /** When the scheduler should create the next scheduled run; null for DAGs without a schedule. */
  next_dagrun_run_after?: string | null;
  timetable_summary?: string | null;
  max_active_runs?: number | null;
  /** The DAG's file: a failure to import it is why the DAG stops being scheduled. */
  fileloc?: string | null;
}

/** A DAG's owners and tag names, from `GET /api/v2/dags/{dag_id}`: what routing by owner or tag needs. */
export interface DagInfo {
  readonly owners: readonly string[];
  readonly tags: readonly string[];
}

export interface AirflowClientOptions {
  /** The API server, e.g. `http://airflow:8080` (no `/api/v2`). */
  baseUrl: string;
  username: string;
  /** Exchanged for a JWT at `POST /auth/token`; never logged. */
  password: string;
  /**
   * Per-request timeout.
   * @defaultValue 10000
   */
  timeoutMs?: number;
  /**
   * Page size; Airflow clamps it to `[api] maximum_page_limit` (default 100) without saying so.
   * @defaultValue 100
   */
  pageSize?: number;
  /**
   * The most one call reads: one answer, and a list's pages together. An Airflow answering more
   * (a gigabyte, a body without end, a million entries) fails the call with a {@link SourceError}
   * instead of growing Guardian's memory.
   * @defaultValue 32 MiB
   */
  maxBytes?: number;
  /**
   * The most of one task log kept: its latest lines, older ones dropped as later pages come.
   * @defaultValue 4 MiB
   */
  maxLogBytes?: number;
}

/** What a list call returned, with the server's clock (its `Date` header) at answer time. */
export interface Listed<T> {
  items: T[];
  serverTime: number | undefined;
}

/**
 * The Airflow 3 public REST API as Guardian uses it: JWT from `POST /auth/token`, re-obtained on
 * a 401; list endpoints paged to the end (page size is clamped by the server, so paging stops on
 * `total_entries`, not on a short page); errors as `{detail}` or text, never trusted to be JSON.
 */
export class AirflowClient {
  readonly #o: Required<AirflowClientOptions>;
  #token: string | undefined;

  constructor(options: AirflowClientOptions) {
    this.#o = {
      timeoutMs: 10_000,
      pageSize: 100,
      maxBytes: DEFAULT_MAX_ANSWER_BYTES,
      maxLogBytes: 4 * 1024 * 1024,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
  }

  /** `GET /api/v2/monitor/health` (no auth). */
  async health(): Promise<AirflowHealth> {
    const { body } = await this.#fetchJson('GET', '/api/v2/monitor/health', undefined, false);
    const h = body as AirflowHealth;
    if (!h || typeof h !== 'object' || !h.scheduler)
      throw new SourceError('airflow', 'health answer has no scheduler');
    return h;
  }

  /** DAG runs updated at or after `since` (all DAGs), oldest update first. */
  dagRunsUpdatedSince(since: Date): Promise<Listed<DagRun>> {
    return this.#list<DagRun>('/api/v2/dags/~/dagRuns', 'dag_runs', {
      updated_at_gte: since.toISOString(),
      order_by: 'id',
    });
  }

  /** Task instances (latest try of each) updated at or after `since` (all DAGs and runs). */
  taskInstancesUpdatedSince(since: Date): Promise<Listed<TaskInstance>> {
    return this.#list<TaskInstance>('/api/v2/dags/~/dagRuns/~/taskInstances', 'task_instances', {
      updated_at_gte: since.toISOString(),
      order_by: 'id',
    });
  }

  /**
   * DAG runs in one state however long ago they last changed (`state`, no `updated_at_gte`): the
   * runs still active when Guardian starts, which an update window does not reach (a run that hangs
   * changes nothing for hours).
   */
  dagRunsInState(state: string): Promise<Listed<DagRun>> {
    return this.#list<DagRun>('/api/v2/dags/~/dagRuns', 'dag_runs', { state, order_by: 'id' });
  }

  /** Task instances (latest try of each) in one state however long ago they last changed. */
  taskInstancesInState(state: string): Promise<Listed<TaskInstance>> {
    return this.#list<TaskInstance>('/api/v2/dags/~/dagRuns/~/taskInstances', 'task_instances', {
      state,
      order_by: 'id',
    });
  }

  /** Every try of one task instance (`/tries`), for tries that ended between two polls. */
  async tries(
    ti: Pick<TaskInstance, 'dag_id' | 'dag_run_id' | 'task_id' | 'map_index'>,
  ): Promise<TaskInstance[]> {
    const path = `/api/v2/dags/${enc(ti.dag_id)}/dagRuns/${enc(ti.dag_run_id)}/taskInstances/${enc(ti.task_id)}${ti.map_index >= 0 ? `/${ti.map_index}` : ''}/tries`;
    const { body } = await this.#fetchJson('GET', path);
    return arrayField<TaskInstance>(body, 'task_instances');
  }

  /**
   * `GET /api/v2/dags/{dag_id}`: the DAG's owners and tag names (Airflow answers tags as
   * `{name, dag_id, dag_display_name}` objects). Null when Airflow does not know the DAG: a 404
   * with Airflow's own detail (``The Dag with ID: `x` was not found``). A bare `{"detail":"Not Found"}`
   * 404 is a missing route (a wrong base URL, say), not an unknown DAG, and is thrown like any
   * other failure.
   */
  async dag(dagId: string): Promise<DagInfo | null> {
    let body: unknown;
    try {
      ({ body } = await this.#fetchJson('GET', `/api/v2/dags/${enc(dagId)}`));
    } catch (err) {
      if (err instanceof SourceError && err.status === 404 && !/: Not Found$/.test(err.message)) return null;
      throw err;
    }
    const dag = (body ?? {}) as { owners?: unknown; tags?: unknown };
    if (!Array.isArray(dag.owners) || !Array.isArray(dag.tags)) {
      throw new SourceError('airflow', `GET /api/v2/dags/${dagId}: answer has no owners or tags list`);
    }
    const owners = dag.owners.filter((o): o is string => typeof o === 'string' && o !== '');
    const tags = dag.tags
      .map((t: unknown) => (typeof t === 'string' ? t : (t as { name?: unknown } | null)?.name))
      .filter((t): t is string => typeof t === 'string' && t !== '');
    return { owners, tags };
  }

  /** Every DAG that is not stale (its file still defines it), paused or not, with its next run. */
  async dagSchedules(): Promise<Listed<DagSchedule>> {
    return this.#list<DagSchedule>('/api/v2/dags', 'dags', { order_by: 'dag_id', exclude_stale: 'true' });
  }

  async importErrors(): Promise<Listed<ImportError>> {
    return this.#list<ImportError>('/api/v2/importErrors', 'import_errors', { order_by: 'id' });
  }

  /** The log of one try, as text lines (structured messages' `event`s). */
  async taskLog(
    ti: Pick<TaskInstance, 'dag_id' | 'dag_run_id' | 'task_id' | 'map_index'>,
    tryNumber: number,
  ): Promise<string[]> {
    const path = `/api/v2/dags/${enc(ti.dag_id)}/dagRuns/${enc(ti.dag_run_id)}/taskInstances/${enc(ti.task_id)}/logs/${Math.max(1, tryNumber)}`;
    let lines: string[] = [];
    let kept = 0;
    const keep = (line: string) => {
      lines.push(line);
      kept += line.length;
    };
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const query: Record<string, string> = { full_content: 'true', map_index: String(ti.map_index ?? -1) };
      if (token) query.token = token;
      const { body } = await this.#fetchJson('GET', path, query);
      const content = (body as { content?: unknown }).content;
      if (Array.isArray(content)) {
        for (const m of content) {
          if (typeof m === 'string') keep(m);
          else if (m && typeof m === 'object' && typeof (m as { event?: unknown }).event === 'string') {
            keep(structuredLine(m as StructuredLogMessage));
          }
        }
      } else if (typeof content === 'string') for (const line of content.split('\n')) keep(line);
      // What explains a failure is at the end: past the budget, the oldest lines go.
      if (kept > this.#o.maxLogBytes) {
        let drop = 0;
        while (kept > this.#o.maxLogBytes && drop < lines.length) kept -= lines[drop++]!.length;
        lines = lines.slice(drop);
      }
      const next = (body as { continuation_token?: unknown }).continuation_token;
      if (typeof next !== 'string' || !next || next === token) break;
      token = next;
    }
    return lines;
  }

  async #list<T>(path: string, field: string, query: Record<string, string>): Promise<Listed<T>> {
    const items: T[] = [];
    let serverTime: number | undefined;
    let read = 0;
    for (let offset = 0; ; ) {
      const res = await this.#fetchJson('GET', path, {
        ...query,
        limit: String(this.#o.pageSize),
        offset: String(offset),
      });
      serverTime ??= res.serverTime;
      read += res.bytes;
      if (read > this.#o.maxBytes) {
        throw new SourceError(
          'airflow',
          `GET ${path}: pages over the ${this.#o.maxBytes}-byte limit in all (${items.length} entries read); not reading more`,
        );
      }
      const page = arrayField<T>(res.body, field);
      const total = (res.body as { total_entries?: unknown }).total_entries;
      items.push(...page);
      offset += page.length;
      if (page.length === 0 || typeof total !== 'number' || offset >= total) break;
      if (offset > 1_000_000)
        throw new SourceError('airflow', `${path}: refusing to page past a million entries`);
    }
    return { items, serverTime };
  }

  async #authenticate(): Promise<string> {
    const { body } = await this.#fetchJson('POST', '/auth/token', undefined, false, {
      username: this.#o.username,
      password: this.#o.password,
    });
    const token = (body as { access_token?: unknown }).access_token;
    if (typeof token !== 'string' || !token)
      throw new SourceError('airflow', 'POST /auth/token answered without access_token');
    this.#token = token;
    return token;
  }

  async #fetchJson(
    method: 'GET' | 'POST',
    path: string,
    query?: Record<string, string>,
    auth = true,
    json?: unknown,
  ): Promise<{ body: unknown; serverTime: number | undefined; bytes: number }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (json !== undefined) headers['content-type'] = 'application/json';
      if (auth) headers.authorization = `Bearer ${this.#token ?? (await this.#authenticate())}`;
      const url = `${this.#o.baseUrl}${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
          signal: AbortSignal.timeout(this.#o.timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        throw new SourceError(
          'airflow',
          `${method} ${path}: ${cause === 'TimeoutError' ? `no answer in ${this.#o.timeoutMs} ms` : `cannot connect (${cause})`}`,
        );
      }
      const text = await readCapped(res, this.#o.maxBytes, 'airflow', `${method} ${path}`, this.#o.timeoutMs);
      if (res.status === 401 && auth && attempt === 0) {
        // Tokens expire ([api_auth] jwt_expiration_time): get a new one and ask again, once.
        this.#token = undefined;
        continue;
      }
      if (res.status === 401 && !auth && path === '/auth/token') {
        throw new SourceError('airflow', 'POST /auth/token: credentials refused (401)', 401);
      }
      if (!res.ok)
        throw new SourceError(
          'airflow',
          `${method} ${path}: HTTP ${res.status}${detailOf(text)}`,
          res.status,
        );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new SourceError(
          'airflow',
          `${method} ${path}: answer is not JSON (${describe(text, res.headers.get('content-type'))})`,
          res.status,
        );
      }
      const date = res.headers.get('date');
      return { body, serverTime: date ? Date.parse(date) : undefined, bytes: Buffer.byteLength(text) };
    }
    throw new SourceError('airflow', `${method} ${path}: still unauthorized after a new token`, 401);
  }
}

export interface DagInfoCacheOptions {
  /** Where DAG info comes from: {@link AirflowClient.dag}. */
  lookup: (dagId: string) => Promise<DagInfo | null>;
  clock: Clock;
  /**
   * How long an answer (an unknown DAG's too) is used before Airflow is asked again.
   * @defaultValue 600000 (10 minutes)
   */
  ttlMs?: number;
  /**
   * DAGs remembered; the least recently used is forgotten beyond it.
   * @defaultValue 1000
   */
  maxEntries?: number;
  /**
   * After Airflow failed to answer, lookups fail at once (with that failure) for this long instead
   * of each waiting on an Airflow that is down.
   * @defaultValue 30000
   */
  retryAfterFailureMs?: number;
}

/**
 * DAG owners and tags for routing, cached so that routing asks Airflow about a DAG at most once per
 * `ttlMs`, and waits on an Airflow that is down at most once per `retryAfterFailureMs`. Concurrent
 * lookups of one DAG share one request. When Airflow cannot answer, an expired answer still held is
 * used (owners and tags rarely change); without one, `get` throws the failure and the caller routes
 * without owners and tags.
 */
export class DagInfoCache {
  readonly #o: Required<Omit<DagInfoCacheOptions, 'lookup' | 'clock'>> & DagInfoCacheOptions;
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #entries = new Map<string, { info: DagInfo | null; at: number }>();
  readonly #inFlight = new Map<string, Promise<DagInfo | null>>();
  #failure: { error: Error; until: number } | undefined;

  constructor(options: DagInfoCacheOptions) {
    this.#o = { ttlMs: 600_000, maxEntries: 1000, retryAfterFailureMs: 30_000, ...options };
  }

  /** The DAG's owners and tags; null for a DAG Airflow does not know. Throws when Airflow cannot answer. */
  async get(dagId: string): Promise<DagInfo | null> {
    const now = this.#o.clock.now();
    const entry = this.#entries.get(dagId);
    if (entry && now - entry.at < this.#o.ttlMs) {
      this.#entries.delete(dagId);
      this.#entries.set(dagId, entry);
      return entry.info;
    }
    if (this.#failure && now < this.#failure.until) {
      if (entry) return entry.info;
      throw this.#failure.error;
    }
    let flight = this.#inFlight.get(dagId);
    if (!flight) {
      flight = this.#fetch(dagId).finally(() => this.#inFlight.delete(dagId));
      this.#inFlight.set(dagId, flight);
    }
    try {
      return await flight;
    } catch (err) {
      if (entry) return entry.info;
      throw err;
    }
  }

  /** How many DAGs are remembered (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  async #fetch(dagId: string): Promise<DagInfo | null> {
    let info: DagInfo | null;
    try {
      info = await this.#o.lookup(dagId);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.#failure = { error, until: this.#o.clock.now() + this.#o.retryAfterFailureMs };
      throw error;
    }
    this.#failure = undefined;
    this.#entries.delete(dagId);
    this.#entries.set(dagId, { info, at: this.#o.clock.now() });
    while (this.#entries.size > this.#o.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return info;
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function arrayField<T>(body: unknown, field: string): T[] {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(value)) throw new SourceError('airflow', `answer has no "${field}" list`);
  return value as T[];
}

/** `: <detail>` from an Airflow error body (`{detail}` or text), short and safe to log. */
function detailOf(text: string): string {
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    if (typeof detail === 'string') return `: ${detail.slice(0, 200)}`;
    if (detail !== undefined) return `: ${JSON.stringify(detail).slice(0, 200)}`;
  } catch {
    // not JSON: an HTML error page from a proxy, say
  }
  return text ? ` (${describe(text, null)})` : '';
}

function describe(text: string, contentType: string | null): string {
  if (/^\s*<(!doctype|html)/i.test(text)) return 'an HTML page';
  const kind = contentType ? `${contentType.split(';')[0]}, ` : '';
  return `${kind}${text.length} bytes: ${JSON.stringify(text.slice(0, 80))}`;
}

interface StructuredLogMessage {
  event: string;
  timestamp?: string;
  level?: string;
  /** Airflow 3 puts a failed task's exception here, not in `event` ("Task failed with exception"). */
  error_detail?: { exc_type?: string; exc_value?: string }[];
}

function structuredLine(m: StructuredLogMessage): string {
  // Lines from classic task logs carry their own `[time] {file} LEVEL -` prefix: keep them as they are.
  let line = m.event.startsWith('[')
    ? m.event
    : `${m.timestamp ? `[${m.timestamp}] ` : ''}${m.level ? `${m.level.toUpperCase()} - ` : ''}${m.event}`;
  if (Array.isArray(m.error_detail)) {
    for (const e of m.error_detail) if (e?.exc_type) line += `\n${e.exc_type}: ${e.exc_value ?? ''}`;
  }
  return line;
}
