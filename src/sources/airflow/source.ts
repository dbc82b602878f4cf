import type { Clock, HealthObservation, Observation, StateObservation } from '../../core/index.ts';
import { entityKey, stateObservation } from '../../core/index.ts';
import { resourcesNamedIn } from '../../correlation/resources.ts';
import { tablesUsed, tablesWritten } from '../../logs/table-lineage.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { type PollSource, sourceEntity } from '../source.ts';
import { AirflowClient, type AirflowClientOptions, type DagRun, type TaskInstance } from './client.ts';
import { dagsWaitedFor } from './sensor-waits.ts';

export interface AirflowSourceOptions extends AirflowClientOptions {
  clock: Clock;
  logger: Logger;
  /**
   * Poll interval.
   * @defaultValue 30000
   */
  intervalMs?: number;
  /**
   * How far back each poll looks before the previous one started, so a change committed late is
   * not missed; what was already seen is not reported again.
   * @defaultValue 120000
   */
  overlapMs?: number;
  /**
   * How far back the first poll looks.
   * @defaultValue 1 hour
   */
  lookbackMs?: number;
  /**
   * Log lines kept as evidence of a failed try.
   * @defaultValue 30
   */
  logTailLines?: number;
  /**
   * Read the log of each successful try, and of each try when it is first seen running, for the
   * tables it wrote (one request per try and state), so a failure naming a table is tied to the
   * task that last wrote it or was writing it.
   * @defaultValue true
   */
  readWrites?: boolean;
}

/** States of a DAG run that is still to end. */
const ACTIVE_RUN_STATES = ['queued', 'running'];
/** States of a try that is still to end (queued, or doing or waiting on something). */
const ACTIVE_TRY_STATES = [
  'queued',
  'running',
  'deferred',
  'up_for_retry',
  'up_for_reschedule',
  'restarting',
];

/** Items of every state given (one request per state: each is listed alone). */
async function inStates<T>(
  states: readonly string[],
  list: (state: string) => Promise<{ items: T[] }>,
): Promise<T[]> {
  const out: T[] = [];
  for (const state of states) out.push(...(await list(state)).items);
  return out;
}

/** States a task try or DAG run does not leave. */
const TERMINAL = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
const MAX_REMEMBERED = 200_000;

/**
 * Airflow 3 through its REST API: DAG runs and task instances changed since the last poll
 * (`updated_at_gte`, so the cost follows what changed, not the history Airflow keeps), every
 * try of a task (tries that ended between two polls are fetched from `/tries`), the log tail of
 * failed tries, import errors, component health and each DAG's next scheduled run. Each state
 * change becomes one observation, keyed by canonical entity keys with its relations (task → DAG
 * run → DAG, task → host).
 */
/** The bucket of an object-store URL (`s3://bucket/…`). */
const BUCKET = /\bs3[an]?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/g;
/** Data sets a try's observation carries at most (a log may name thousands of paths). */
const MAX_DATA_SETS = 16;
/** Running tries whose log is read again for what they write, at most (the oldest go first). */
const MAX_UNREAD_RUNNING = 10_000;

export function createAirflowSource(options: AirflowSourceOptions): PollSource {
  const client = new AirflowClient(options);
  const { clock, logger } = options;
  const overlapMs = options.overlapMs ?? 120_000;
  const logTail = options.logTailLines ?? 30;
  /** Where the next poll starts, on Airflow's clock (from its Date header). */
  let watermark: number | undefined;
  /** Last state reported per DAG run and per task try: a state is reported once. */
  const runStates = new Map<string, string>();
  const tryStates = new Map<string, string>();
  /**
   * Tries seen running whose log showed no statement yet (a poll may come before the first one):
   * their log is read again while Airflow still lists them as changed, and what they write is
   * reported once it shows.
   */
  const unreadRunning = new Set<string>();
  /** Highest try number seen per task instance. */
  const lastTry = new Map<string, number>();
  /**
   * What this poll has seen, committed to the maps above only when the whole poll succeeds:
   * a poll that fails half-way reports nothing, and the next one reports all of it.
   */
  let staged = {
    runs: new Map<string, string>(),
    tries: new Map<string, string>(),
    lastTry: new Map<string, number>(),
  };
  const seenRun = (k: string) => staged.runs.get(k) ?? runStates.get(k);
  const seenTryState = (k: string) => staged.tries.get(k) ?? tryStates.get(k);
  const seenLastTry = (k: string) => staged.lastTry.get(k) ?? lastTry.get(k);
  let importErrors = new Map<string, string>();
  /** DAGs that had a next scheduled run at the last poll: losing it is news too. */
  /** DAGs with a next run at the last poll, with their file (a DAG no longer listed names it). */
  let scheduledDags = new Map<string, string | undefined>();

  async function poll(): Promise<Observation[]> {
    const pollStartedAt = clock.now();
    const since = new Date((watermark ?? pollStartedAt - (options.lookbackMs ?? 3_600_000)) - overlapMs);
    const observations: Observation[] = [];
    staged = { runs: new Map(), tries: new Map(), lastTry: new Map() };

    const h = await client.health();
    observations.push(...healthObservations(h, clock.now()));

    const runs = await client.dagRunsUpdatedSince(since);
    // The first poll also reads the work still active however long ago it last changed: a run
    // that hangs changes nothing, and is what keeps its DAG's next run from being created.
    const first = watermark === undefined;
    const activeRuns = first ? await inStates(ACTIVE_RUN_STATES, (s) => client.dagRunsInState(s)) : [];
    for (const run of [...activeRuns, ...runs.items]) {
      const obs = runObservation(run);
      if (obs) observations.push(obs);
    }

    const tis = await client.taskInstancesUpdatedSince(since);
    const activeTis = first ? await inStates(ACTIVE_TRY_STATES, (s) => client.taskInstancesInState(s)) : [];
    for (const ti of [...activeTis, ...tis.items]) observations.push(...(await taskObservations(ti)));

    const errors = await client.importErrors();
    const current = new Map(errors.items.map((e) => [e.filename, e.stack_trace]));
    for (const [filename, trace] of current) {
      if (importErrors.get(filename) === trace) continue;
      observations.push(
        stateObservation(
          entityKey.importError(filename),
          [],
          importErrors.has(filename) ? 'error' : null,
          'error',
          parseTime(errors.items.find((e) => e.filename === filename)?.timestamp) ?? clock.now(),
          { stack_trace: tail(trace.split('\n'), 40).join('\n') },
        ),
      );
    }
    for (const filename of importErrors.keys()) {
      if (!current.has(filename))
        observations.push(
          stateObservation(entityKey.importError(filename), [], 'error', 'ok', clock.now(), {}),
        );
    }

    // Every DAG's next scheduled run, every poll: a detector can then tell "still not created"
    // from "no news" (a source that is down reports nothing, and nothing is judged late).
    const dags = await client.dagSchedules();
    const polledAt = clock.now();
    const scheduled = new Map<string, string | undefined>();
    for (const dag of dags.items) {
      const nextRunAfter = parseTime(dag.next_dagrun_run_after);
      if (nextRunAfter !== undefined) scheduled.set(dag.dag_id, dag.fileloc ?? undefined);
      // No next run now, nor at the last poll: news only for a DAG that runs on a schedule and
      // is not paused (its active runs may hold every slot `max_active_runs` gives it).
      else if (!scheduledDags.has(dag.dag_id) && (dag.is_paused || !dag.timetable_summary)) continue;
      observations.push(
        stateObservation(
          entityKey.dag(dag.dag_id),
          // The DAG → DAG file edge: an import error of its file is why a run goes missing.
          dag.fileloc ? [entityKey.scheduler(), entityKey.importError(dag.fileloc)] : [entityKey.scheduler()],
          null,
          dag.is_paused ? 'paused' : 'scheduled',
          polledAt,
          {
            ...(nextRunAfter !== undefined ? { nextRunAfter } : {}),
            ...(dag.timetable_summary ? { timetable: dag.timetable_summary } : {}),
            ...(typeof dag.max_active_runs === 'number' ? { maxActiveRuns: dag.max_active_runs } : {}),
          },
        ),
      );
    }
    // A scheduled DAG that is no longer listed: its file no longer defines it.
    const listed = new Set(dags.items.map((d) => d.dag_id));
    for (const [id, fileloc] of scheduledDags) {
      if (!listed.has(id))
        observations.push(
          stateObservation(
            entityKey.dag(id),
            fileloc ? [entityKey.scheduler(), entityKey.importError(fileloc)] : [entityKey.scheduler()],
            null,
            'removed',
            polledAt,
            {},
          ),
        );
    }

    // Only now, with every call answered, does anything move: the watermark and what was seen.
    watermark = runs.serverTime ?? tis.serverTime ?? pollStartedAt;
    for (const [k, v] of staged.runs) runStates.set(k, v);
    for (const [k, v] of staged.tries) tryStates.set(k, v);
    for (const [k, v] of staged.lastTry) lastTry.set(k, v);
    importErrors = current;
    scheduledDags = scheduled;
    forgetIfLarge();
    return observations;
  }

  function healthObservations(
    h: Awaited<ReturnType<AirflowClient['health']>>,
    now: number,
  ): HealthObservation[] {
    const components: [string, string | null | undefined][] = [
      ['airflow:metadatabase', h.metadatabase?.status],
      [entityKey.scheduler(), h.scheduler?.status],
      ['airflow:triggerer', h.triggerer?.status],
      ['airflow:dag_processor', h.dag_processor?.status],
    ];
    const out: HealthObservation[] = [];
    for (const [entity, status] of components) {
      if (status === undefined || status === null) continue; // not deployed (no triggerer, say)
      const healthy = status === 'healthy';
      // Every poll reports health, so a detector can tell "still unhealthy" from "no news".
      out.push({
        type: 'health',
        entity,
        time: now,
        healthy,
        reason: `${entity.slice('airflow:'.length)} is ${status}`,
      });
    }
    return out;
  }

  function runObservation(run: DagRun): StateObservation | undefined {
    if (!run.state) return undefined;
    const key = entityKey.dagRun(run.dag_id, run.dag_run_id);
    const previous = seenRun(key);
    if (previous === run.state) return undefined;
    staged.runs.set(key, run.state);
    const time =
      parseTime(run.end_date) ?? parseTime(run.start_date) ?? parseTime(run.queued_at) ?? clock.now();
    return stateObservation(key, [entityKey.dag(run.dag_id)], previous ?? null, run.state, time, {
      run_type: run.run_type,
      logical_date: run.logical_date ?? null,
      run_after: run.run_after ?? null,
      start_date: run.start_date ?? null,
      end_date: run.end_date ?? null,
    });
  }

  async function taskObservations(ti: TaskInstance): Promise<StateObservation[]> {
    const base = tiBase(ti);
    const seenTry = seenLastTry(base);
    const out: StateObservation[] = [];
    // Tries that started and ended between two polls show only in /tries.
    if (ti.try_number > (seenTry ?? 0) + 1) {
      try {
        for (const t of await client.tries(ti)) {
          if (t.try_number > (seenTry ?? 0) && t.try_number < ti.try_number) {
            // Airflow's try history says `failed` for a try that was retried.
            const obs = await tryObservation(t, true);
            if (obs) out.push(obs);
          }
        }
      } catch (err) {
        logger.warn({ err: (err as Error).message, task: base }, 'could not read earlier tries');
      }
    }
    const obs = await tryObservation(ti);
    if (obs) out.push(obs);
    staged.lastTry.set(base, Math.max(seenTry ?? 0, ti.try_number));
    return out;
  }

  async function tryObservation(ti: TaskInstance, retried = false): Promise<StateObservation | undefined> {
    if (!ti.state) return undefined;
    const key = `${tiBase(ti)}#${ti.try_number}`;
    const previous = seenTryState(key);
    if (previous === ti.state) return ti.state === 'running' ? writesShown(ti, key) : undefined;
    unreadRunning.delete(key);
    staged.tries.set(key, ti.state);
    const entity = entityKey.task(ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index);
    const related = [entityKey.dagRun(ti.dag_id, ti.dag_run_id), entityKey.dag(ti.dag_id)];
    if (ti.hostname) related.push(entityKey.host(ti.hostname));
    const details: Record<string, unknown> = {
      try_number: ti.try_number,
      max_tries: ti.max_tries,
      operator: ti.operator ?? null,
      hostname: ti.hostname || null,
      pool: ti.pool ?? null,
      queue: ti.queue ?? null,
      queued_when: ti.queued_when ?? null,
      start_date: ti.start_date ?? null,
      end_date: ti.end_date ?? null,
      duration: ti.duration ?? null,
      /** A later try of the task exists: this try's failure was retried. */
      retried,
    };
    if ((ti.state === 'failed' || ti.state === 'up_for_retry') && ti.try_number >= 1) {
      try {
        const log = await client.taskLog(ti, ti.try_number);
        details.log = relevantLogLines(log, logTail);
        // The tables its own statements used (the log tail keeps errors, not statements): work
        // that was changing one of them meanwhile is related to the failure.
        const used = tablesUsed(log.join('\n'));
        if (used.length > 0) details.tables = used.slice(0, MAX_DATA_SETS);
        // The DAGs a sensor waited for (the log tail keeps its timeout, not what it poked for).
        const waited = dagsWaitedFor(log.join('\n'));
        if (waited.length > 0) details.waited_for = waited;
      } catch (err) {
        details.log_error = (err as Error).message;
      }
    }
    // What a running try is writing (its log so far says which statement it runs): work that
    // changes a table while others use it, seen from when it began, not only once it ends.
    if (ti.state === 'running' && ti.try_number >= 1 && options.readWrites !== false) {
      try {
        const writes = tablesWritten((await client.taskLog(ti, ti.try_number)).join('\n'));
        if (writes.length > 0) details.writes = writes;
        else rememberUnread(key);
      } catch (err) {
        details.log_error = (err as Error).message;
      }
    }
    // What a successful try wrote (its log says which statements it ran): the lineage edge from
    // a table a later failure names to the task that last wrote it.
    if (ti.state === 'success' && ti.try_number >= 1 && options.readWrites !== false) {
      try {
        const log = (await client.taskLog(ti, ti.try_number)).join('\n');
        const writes = tablesWritten(log);
        if (writes.length > 0) details.writes = writes;
        // The data sets it read or wrote (an object-store location's prefixes, not the bucket every
        // data set shares): a later failure of the same run is explained by what went wrong with
        // the data its run used.
        const buckets = new Set([...log.matchAll(BUCKET)].map((m) => `name:${m[1]}`));
        const data = resourcesNamedIn(log).filter((r) => r.startsWith('name:') && !buckets.has(r));
        if (data.length > 0) details.data = data.slice(0, MAX_DATA_SETS);
      } catch (err) {
        details.log_error = (err as Error).message;
      }
    }
    const time =
      TERMINAL.has(ti.state) || ti.state === 'up_for_retry'
        ? (parseTime(ti.end_date) ?? clock.now())
        : ti.state === 'running'
          ? (parseTime(ti.start_date) ?? clock.now())
          : (parseTime(ti.queued_when) ?? clock.now());
    return stateObservation(entity, related, previous ?? null, ti.state, time, details);
  }

  function rememberUnread(key: string): void {
    if (unreadRunning.size >= MAX_UNREAD_RUNNING) unreadRunning.delete(unreadRunning.values().next().value!);
    unreadRunning.add(key);
  }

  /**
   * A try still running that showed no statement when first seen: its log read again, and, once
   * it shows what the try writes, the running state reported again with it (the same state and
   * start: what watches durations sees nothing new).
   */
  async function writesShown(ti: TaskInstance, key: string): Promise<StateObservation | undefined> {
    if (!unreadRunning.has(key) || options.readWrites === false) return undefined;
    let writes: string[];
    try {
      writes = tablesWritten((await client.taskLog(ti, ti.try_number)).join('\n'));
    } catch {
      return undefined; // read again at the next poll
    }
    if (writes.length === 0) return undefined;
    unreadRunning.delete(key);
    return stateObservation(
      entityKey.task(ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index),
      [
        entityKey.dagRun(ti.dag_id, ti.dag_run_id),
        entityKey.dag(ti.dag_id),
        ...(ti.hostname ? [entityKey.host(ti.hostname)] : []),
      ],
      'running',
      'running',
      parseTime(ti.start_date) ?? clock.now(),
      {
        try_number: ti.try_number,
        max_tries: ti.max_tries,
        hostname: ti.hostname || null,
        start_date: ti.start_date ?? null,
        writes,
      },
    );
  }

  function forgetIfLarge() {
    // Bounded memory: terminal entries go first; a re-reported terminal state is deduplicated by detectors.
    for (const map of [tryStates, runStates]) {
      if (map.size <= MAX_REMEMBERED) continue;
      for (const [k, v] of map) {
        if (map.size <= MAX_REMEMBERED / 2) break;
        if (TERMINAL.has(v)) map.delete(k);
      }
    }
    if (lastTry.size > MAX_REMEMBERED) lastTry.clear();
  }

  return { id: 'airflow', entity: sourceEntity('airflow'), intervalMs: options.intervalMs ?? 30_000, poll };
}

function tiBase(ti: Pick<TaskInstance, 'dag_id' | 'dag_run_id' | 'task_id' | 'map_index'>): string {
  return `${ti.dag_id}\u0000${ti.dag_run_id}\u0000${ti.task_id}\u0000${ti.map_index}`;
}

function parseTime(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

function tail<T>(items: T[], n: number): T[] {
  return items.length <= n ? items : items.slice(-n);
}

/**
 * The lines that explain a failure: errors and tracebacks, and lines naming the Spark Connect
 * endpoint the task used, else the tail of the log. A long entry keeps its head and its tail: a
 * traceback ends with the exception that failed the task.
 */
export function relevantLogLines(lines: string[], max: number): string[] {
  const interesting = lines.filter((l) =>
    /error|exception|traceback|failed|killed|sigkill|sigterm|timeout|sc:\/\//i.test(l),
  );
  return tail(interesting.length > 0 ? interesting : lines, max).map(shorten);
}

/** Java stack frames go (the exception lines stay); what is still long keeps its head and tail. */
function shorten(entry: string): string {
  if (entry.length <= 2000) return entry;
  const kept: string[] = [];
  let frames = 0;
  for (const line of entry.split('\n')) {
    if (/^\s+at [\w$.]+\(/.test(line) || /^\s+at [\w$.]+/.test(line)) {
      if (frames++ === 0) kept.push('\t… (Java stack frames omitted)');
      continue;
    }
    kept.push(line);
  }
  const text = kept.join('\n');
  return text.length <= 2000 ? text : `${text.slice(0, 500)}\n…\n${text.slice(-1499)}`;
}
