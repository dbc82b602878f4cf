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
    this.#o = { timeoutMs: 10_000, pageSize: 100, ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
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

  /** Every try of one task instance (`/tries`), for tries that ended between two polls. */
  async tries(
    ti: Pick<TaskInstance, 'dag_id' | 'dag_run_id' | 'task_id' | 'map_index'>,
  ): Promise<TaskInstance[]> {
    const path = `/api/v2/dags/${enc(ti.dag_id)}/dagRuns/${enc(ti.dag_run_id)}/taskInstances/${enc(ti.task_id)}${ti.map_index >= 0 ? `/${ti.map_index}` : ''}/tries`;
    const { body } = await this.#fetchJson('GET', path);
    return arrayField<TaskInstance>(body, 'task_instances');
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
    const lines: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const query: Record<string, string> = { full_content: 'true', map_index: String(ti.map_index ?? -1) };
      if (token) query.token = token;
      const { body } = await this.#fetchJson('GET', path, query);
      const content = (body as { content?: unknown }).content;
      if (Array.isArray(content)) {
        for (const m of content) {
          if (typeof m === 'string') lines.push(m);
          else if (m && typeof m === 'object' && typeof (m as { event?: unknown }).event === 'string') {
            lines.push(structuredLine(m as StructuredLogMessage));
          }
        }
      } else if (typeof content === 'string') lines.push(...content.split('\n'));
      const next = (body as { continuation_token?: unknown }).continuation_token;
      if (typeof next !== 'string' || !next || next === token) break;
      token = next;
    }
    return lines;
  }

  async #list<T>(path: string, field: string, query: Record<string, string>): Promise<Listed<T>> {
    const items: T[] = [];
    let serverTime: number | undefined;
    for (let offset = 0; ; ) {
      const res = await this.#fetchJson('GET', path, {
        ...query,
        limit: String(this.#o.pageSize),
        offset: String(offset),
      });
      serverTime ??= res.serverTime;
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
  ): Promise<{ body: unknown; serverTime: number | undefined }> {
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
      const text = await res.text();
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
      return { body, serverTime: date ? Date.parse(date) : undefined };
    }
    throw new SourceError('airflow', `${method} ${path}: still unauthorized after a new token`, 401);
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
