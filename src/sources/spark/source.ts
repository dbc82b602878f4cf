import { connect } from 'node:net';
import type { Clock, EntityKey, HealthObservation, Observation } from '../../core/index.ts';
import { entityKey, stateObservation } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { getJson as httpGetJson } from '../http.ts';
import { type PollSource, SourceError, sourceEntity } from '../source.ts';

export interface SparkSourceOptions {
  /** The standalone master's web UI, e.g. `http://spark-master:8080` (its `/json/`). */
  masterUrl: string;
  /** The Spark Connect application's driver UI, e.g. `http://spark-connect:4040` (its `/api/v1`). */
  driverUrl?: string;
  /** The Spark Connect endpoint, `sc://host:15002`: reachability is checked with a TCP connect. */
  connectEndpoint?: string;
  /** The endpoint's name in entity keys when it is reached through another address. */
  connectName?: string;
  clock: Clock;
  logger: Logger;
  /** @defaultValue 15000 */
  intervalMs?: number;
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

interface MasterApp {
  id: string;
  starttime?: number;
  duration?: number;
  state?: string;
  /** Cores the master granted it (its executors'). */
  cores?: number;
}

interface MasterWorker {
  id: string;
  host: string;
  state: string;
  cores?: number;
  memory?: number;
}

interface Job {
  jobId: number;
  status: string;
  submissionTime?: string;
  completionTime?: string;
  stageIds?: number[];
  jobTags?: string[];
  jobGroup?: string | null;
  numFailedTasks?: number;
}

interface Stage {
  stageId: number;
  attemptId: number;
  status: string;
  failureReason?: string;
}

interface Executor {
  id: string;
  hostPort: string;
  isActive: boolean;
  addTime?: string;
  removeTime?: string;
  removeReason?: string;
  failedTasks?: number;
}

/** An application holding cores of the standalone cluster (`activeapps[].cores` of the master's `/json/`). */
export interface CoresHeld {
  readonly app: EntityKey;
  readonly cores: number;
  /** When it was granted them at the latest: when it started. */
  readonly since: number | null;
}

/** The running applications the master granted cores, most cores first. */
function coresHeld(apps: readonly MasterApp[] | undefined): CoresHeld[] {
  return (apps ?? [])
    .filter((a) => typeof a.cores === 'number' && a.cores > 0 && (a.state ?? 'RUNNING') === 'RUNNING')
    .map((a) => ({
      app: entityKey.sparkApp(a.id),
      cores: a.cores!,
      since: typeof a.starttime === 'number' ? a.starttime : null,
    }))
    .sort((a, b) => b.cores - a.cores);
}

/** Spark's REST times are not ISO-8601: `2026-03-02T02:11:05.120GMT`. */
export function parseSparkTime(value: string | undefined | null): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value.endsWith('GMT') ? `${value.slice(0, -3)}Z` : value);
  return Number.isNaN(t) || t < 0 ? undefined : t;
}

/**
 * The Airflow task that submitted a Spark Connect job, from the session tags the Airflow operator
 * sets (`spark.addTag("airflow.dag_id=…")`, `airflow.task_id`, `airflow.run_id`), which Spark
 * shows on the job as `SparkConnect_SessionTag_User_{user}_Session_{session}_Tag_{tag}`.
 */
export function airflowTaskOfJob(tags: readonly string[] | undefined): EntityKey | undefined {
  const values: Record<string, string> = {};
  for (const tag of tags ?? []) {
    const m = /^SparkConnect_(?:SessionTag|Execute)_.*?_Tag_airflow\.(dag_id|task_id|run_id)=(.*)$/.exec(tag);
    if (m) values[m[1]!] = m[2]!;
  }
  if (!values.dag_id || !values.task_id || !values.run_id) return undefined;
  return entityKey.task(values.dag_id, values.run_id, values.task_id);
}

/**
 * Spark through its REST surfaces: the standalone master (`/json/`: workers and their states),
 * the Spark Connect application's monitoring API (`/api/v1`: jobs with their tags, failed stages'
 * failure reasons, executors with their removal reasons) and the Connect endpoint's reachability.
 * Changes become observations keyed by canonical entity keys, related to the Airflow task that
 * submitted a job, the job's stages, and the hosts of executors and workers.
 */
export function createSparkSource(options: SparkSourceOptions): PollSource {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const master = options.masterUrl.replace(/\/+$/, '');
  const driver = options.driverUrl?.replace(/\/+$/, '');
  const workerStates = new Map<string, string>();
  const jobStates = new Map<string, string>();
  const removedExecutors = new Set<string>();
  /** Jobs last seen running, by application: if the application ends under them, they are lost. */
  const runningJobs = new Map<
    string,
    Map<string, { related: EntityKey[]; details: Record<string, unknown> }>
  >();
  let masterUrl: string | undefined;
  /** The master's running applications holding cores, as of its last answer (`activeapps`). */
  let holding: CoresHeld[] = [];
  /** The cores of the master's alive workers, as of its last answer. */
  let clusterCores = 0;
  /** The host the Connect application's driver was last reported on (the endpoint's placement). */
  let driverHost: string | undefined;

  const getJson = <T>(url: string): Promise<T> => httpGetJson<T>('spark', url, { timeoutMs, what: url });

  async function pollMaster(out: Observation[], commit: (() => void)[]): Promise<void> {
    const state = await getJson<{
      url?: string;
      workers?: MasterWorker[];
      cores?: number;
      activeapps?: MasterApp[];
      completedapps?: MasterApp[];
    }>(`${master}/json/`);
    if (!Array.isArray(state.workers)) throw new SourceError('spark', `${master}/json/ has no workers list`);
    masterUrl = state.url ?? masterUrl;
    holding = coresHeld(state.activeapps);
    clusterCores = typeof state.cores === 'number' ? state.cores : 0;
    const now = options.clock.now();
    // An application that ended while jobs ran (the Spark Connect server died): those jobs are lost.
    for (const app of state.completedapps ?? []) {
      const jobs = runningJobs.get(app.id);
      if (!jobs) continue;
      commit.push(() => runningJobs.delete(app.id));
      const ended =
        typeof app.starttime === 'number' && typeof app.duration === 'number'
          ? app.starttime + app.duration
          : now;
      for (const [key, job] of jobs)
        out.push(
          stateObservation(key, job.related, 'RUNNING', 'LOST', Math.min(ended, now), {
            ...job.details,
            failureReason: `application ${app.id} ended (${app.state ?? 'FINISHED'}) while the job was running`,
          }),
        );
    }
    for (const w of state.workers) {
      const previous = workerStates.get(w.id);
      if (previous === w.state) continue;
      commit.push(() => workerStates.set(w.id, w.state));
      out.push(
        stateObservation(
          entityKey.sparkWorker(w.id),
          [entityKey.host(w.host), ...(masterUrl ? [entityKey.sparkMaster(masterUrl)] : [])],
          previous ?? null,
          w.state,
          now,
          {
            host: w.host,
            cores: w.cores,
            memory: w.memory,
          },
        ),
      );
    }
  }

  async function pollDriver(out: Observation[], commit: (() => void)[]): Promise<void> {
    if (!driver) return;
    const apps = await getJson<{ id: string; attempts?: { completed?: boolean }[] }[]>(
      `${driver}/api/v1/applications`,
    );
    for (const app of apps) {
      const base = `${driver}/api/v1/applications/${encodeURIComponent(app.id)}`;
      const appKey = entityKey.sparkApp(app.id);
      const [jobs, failedStages, executors] = await Promise.all([
        getJson<Job[]>(`${base}/jobs`),
        getJson<Stage[]>(`${base}/stages?status=failed`),
        getJson<Executor[]>(`${base}/allexecutors`),
      ]);
      const reasons = new Map<number, string>();
      for (const s of failedStages) if (s.failureReason) reasons.set(s.stageId, s.failureReason);
      // With no executor of its own, its jobs wait for cores: those other applications hold.
      const starved = !executors.some((e) => e.id !== 'driver' && e.isActive);
      const heldBy = starved ? holding.filter((h) => h.app !== appKey) : [];
      for (const job of jobs) {
        const key = entityKey.sparkJob(app.id, job.jobId);
        const previous = jobStates.get(key);
        if (previous === job.status) continue;
        commit.push(() => jobStates.set(key, job.status));
        const task = airflowTaskOfJob(job.jobTags);
        const stages = (job.stageIds ?? []).map((id) => entityKey.sparkStage(app.id, id));
        const failureReason = (job.stageIds ?? []).map((id) => reasons.get(id)).find(Boolean);
        const time =
          parseSparkTime(job.completionTime) ?? parseSparkTime(job.submissionTime) ?? options.clock.now();
        const related = [appKey, ...(task ? [task] : []), ...stages];
        const details = {
          failureReason: failureReason ?? null,
          numFailedTasks: job.numFailedTasks ?? 0,
          airflowTask: task ?? null,
          jobGroup: job.jobGroup ?? null,
          ...(job.status === 'FAILED' && heldBy.length > 0 ? { coresHeldBy: heldBy, clusterCores } : {}),
        };
        commit.push(() => {
          const running = runningJobs.get(app.id) ?? new Map();
          if (job.status === 'RUNNING') running.set(key, { related, details });
          else running.delete(key);
          if (running.size > 0) runningJobs.set(app.id, running);
          else runningJobs.delete(app.id);
        });
        out.push(stateObservation(key, related, previous ?? null, job.status, time, details));
      }
      placement(executors, out, commit);
      for (const e of executors) {
        if (e.id === 'driver' || e.isActive) continue;
        const key = entityKey.sparkExecutor(app.id, e.id);
        if (removedExecutors.has(key)) continue;
        commit.push(() => removedExecutors.add(key));
        const host = e.hostPort.replace(/:\d+$/, '');
        out.push(
          stateObservation(
            key,
            [appKey, entityKey.host(host)],
            'active',
            'removed',
            parseSparkTime(e.removeTime) ?? options.clock.now(),
            {
              removeReason: e.removeReason ?? null,
              host,
              failedTasks: e.failedTasks ?? 0,
            },
          ),
        );
      }
    }
  }

  /**
   * Where the Connect endpoint is served from: the host of the driver of the application behind
   * the driver UI (its executor `driver`, whose `hostPort` the REST API gives). Reported when it is
   * first seen and when it moves, as a state of the endpoint related to that host: failures of
   * work that used the endpoint are then tied to the machine that served it (its disk, its memory).
   */
  function placement(executors: readonly Executor[], out: Observation[], commit: (() => void)[]): void {
    const endpoint = options.connectName ?? options.connectEndpoint;
    const hostPort = executors.find((e) => e.id === 'driver')?.hostPort;
    if (!endpoint || !hostPort) return;
    const host = hostPort.replace(/:\d+$/, '');
    if (!host || host === driverHost) return;
    const from = driverHost ? entityKey.host(driverHost) : null;
    commit.push(() => {
      driverHost = host;
    });
    out.push(
      stateObservation(
        entityKey.sparkConnect(endpoint),
        [entityKey.host(host)],
        from,
        entityKey.host(host),
        options.clock.now(),
        { servedFrom: host },
      ),
    );
  }

  async function connectHealth(): Promise<HealthObservation | undefined> {
    if (!options.connectEndpoint) return undefined;
    const m = /^sc:\/\/([^:/]+)(?::(\d+))?/.exec(options.connectEndpoint);
    if (!m) return undefined;
    const host = m[1]!;
    const port = Number(m[2] ?? 15002);
    const healthy = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, timeout: Math.min(timeoutMs, 5000) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
    return {
      type: 'health',
      entity: entityKey.sparkConnect(options.connectName ?? options.connectEndpoint),
      time: options.clock.now(),
      healthy,
      reason: healthy
        ? 'Spark Connect endpoint accepts connections'
        : `Spark Connect endpoint ${options.connectName ?? `${host}:${port}`} refuses connections`,
    };
  }

  return {
    id: 'spark',
    entity: sourceEntity('spark'),
    intervalMs: options.intervalMs ?? 15_000,
    async poll() {
      const out: Observation[] = [];
      // What was seen is remembered only if the whole poll succeeds: a failed poll loses nothing.
      const commit: (() => void)[] = [];
      await pollMaster(out, commit);
      const connectObs = await connectHealth();
      if (connectObs) out.push(connectObs);
      // The driver UI goes down with the Connect server: that is Spark Connect's outage, which the
      // health observation above reports; the master keeps answering.
      if (!connectObs || connectObs.healthy) {
        try {
          const driverOut: Observation[] = [];
          const driverCommit: (() => void)[] = [];
          await pollDriver(driverOut, driverCommit);
          out.push(...driverOut);
          commit.push(...driverCommit);
        } catch (err) {
          if (connectObs)
            options.logger.warn({ err: (err as Error).message }, 'Spark driver UI did not answer');
          else throw err;
        }
      }
      for (const c of commit) c();
      return out;
    },
  };
}
