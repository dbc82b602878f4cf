import type { Evidence, Observation, Severity, Signal, StateObservation } from '../src/core/index.ts';
import { parseTaskKey, stableId } from '../src/core/index.ts';
import { SERVED_FROM } from '../src/correlation/resource-evidence.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import {
  ERROR_LINE_LABEL,
  ERROR_LINE_MAX,
  EXCEPTION_LABEL,
  readFailureText,
} from '../src/logs/failure-text.ts';
import { redactCut } from '../src/logs/redact.ts';
import {
  bareTable,
  TABLE_LAST_WRITTEN,
  type TableWrite,
  tablesNamed,
  tableWriteText,
} from '../src/logs/table-lineage.ts';

export const AIRFLOW_TASK_FAILURE_DETECTOR_ID = 'airflow-task-failure';

/** What each task state means to an on-call engineer. */
const KINDS: Record<
  string,
  { kind: string; severity: Severity; title: (task: string, o: StateObservation) => string }
> = {
  up_for_retry: {
    kind: 'airflow.task_retry',
    severity: 'low',
    title: (t, o) => `Airflow task ${t} failed try ${o.details.try_number} and will retry`,
  },
  failed: {
    kind: 'airflow.task_failed',
    severity: 'high',
    title: (t, o) =>
      `Airflow task ${t} failed for good (try ${o.details.try_number} of ${Number(o.details.max_tries ?? 0) + 1})`,
  },
  upstream_failed: {
    kind: 'airflow.task_upstream_failed',
    severity: 'info',
    title: (t) => `Airflow task ${t} did not run: an upstream task failed`,
  },
};

/**
 * Airflow task tries: a try that failed and will retry (`airflow.task_retry`), a task that failed
 * for good, retries exhausted (`airflow.task_failed`), and tasks that did not run because
 * something upstream failed (`airflow.task_upstream_failed`). A later success of the task resolves
 * them; a final failure supersedes the retry signal. A failed try carries the other workers on
 * which tries succeeded meanwhile (`succeeding elsewhere`): a machine whose failures span DAGs
 * while the same platform works elsewhere is a cause to consider.
 */
export function createAirflowTaskFailureDetector(): Detector {
  /** Firing signals per task entity, by kind. */
  const firing = new Map<string, Map<string, Signal>>();
  /** The last successful try per worker host: the differential evidence a failure carries. */
  const succeeded = new Map<string, number>();
  /** Per table (`namespace.table`), the tasks that last wrote it and when, latest first (lineage). */
  const writers = new Map<string, Write[]>();
  /** Per task seen running with writes, the tables it was writing (until it ends). */
  const writing = new Map<string, string[]>();
  /** Tables by bare name, for a location whose namespace directory is not the catalog's. */
  const byBare = new Map<string, Set<string>>();
  /** Per DAG run, the data locations its successful tries used (`name:` resources), oldest run first. */
  const runData = new Map<string, Set<string>>();
  /** Per service endpoint (`spark:connect:…`), the host a source last said serves it. */
  const servedBy = new Map<string, string>();

  function observe(obs: Observation, ctx: DetectorContext): void {
    if (obs.type === 'state' && obs.entity.startsWith('spark:connect:')) {
      notePlacement(obs);
      return;
    }
    if (obs.type !== 'state' || !obs.entity.startsWith('airflow:task:')) return;
    if (obs.to === 'success' && obs.details.hostname) noteSuccess(String(obs.details.hostname), obs.time);
    // A try writes from when it is seen running (its statement is in its log so far) until it ends.
    if ((obs.to === 'success' || obs.to === 'running') && Array.isArray(obs.details.writes))
      for (const t of obs.details.writes) noteWrite(String(t), obs.entity, obs.time, obs.to === 'running');
    // A try seen writing that ends any other way wrote nothing: it is no writer of those tables.
    else if (obs.to !== 'running' && writing.has(obs.entity)) forgetWrites(obs.entity);
    if (obs.to === 'success' && Array.isArray(obs.details.data)) noteData(obs);
    const open = firing.get(obs.entity);
    // A `failed` try with a later try (Airflow's try history) is a failure that was retried.
    const retried = obs.to === 'failed' && obs.details.retried === true;
    const meaning = retried ? KINDS.up_for_retry : KINDS[obs.to];
    if (meaning) {
      if (obs.to === 'failed' && !retried && open?.has('airflow.task_retry'))
        resolve(obs, 'airflow.task_retry', ctx);
      const signal = toSignal(
        obs,
        meaning.kind,
        meaning.severity,
        meaning.title(taskName(obs.entity), obs),
        meaning.kind === 'airflow.task_upstream_failed' ? [] : succeedingElsewhere(obs),
        meaning.kind === 'airflow.task_upstream_failed' ? [] : lastWriters(obs),
        meaning.kind === 'airflow.task_upstream_failed' ? [] : dataOfRun(obs),
        servedBy,
      );
      const byKind = firing.get(obs.entity) ?? new Map<string, Signal>();
      byKind.set(meaning.kind, signal);
      firing.set(obs.entity, byKind);
      ctx.emit(signal);
      return;
    }
    if (obs.to === 'success' && open) {
      for (const kind of [...open.keys()]) resolve(obs, kind, ctx);
    }
  }

  /** A source said which host serves an endpoint (the Spark Connect driver's host). */
  function notePlacement(obs: StateObservation): void {
    const host = obs.related.find((r) => r.startsWith('host:'));
    if (!host) return;
    servedBy.delete(obs.entity);
    servedBy.set(obs.entity, host);
    // Bounded: endpoints are few; the longest unmentioned is forgotten first.
    if (servedBy.size > MAX_ENDPOINTS) servedBy.delete(servedBy.keys().next().value!);
  }

  function noteData(obs: StateObservation): void {
    const run = runOf(obs);
    if (!run) return;
    const used = runData.get(run) ?? new Set<string>();
    for (const r of obs.details.data as unknown[]) {
      if (used.size >= MAX_DATA_PER_RUN) break;
      if (typeof r === 'string') used.add(r);
    }
    runData.set(run, used);
    // Bounded: runs end; the oldest are forgotten first.
    if (runData.size > MAX_RUNS) runData.delete(runData.keys().next().value!);
  }

  /** The data locations earlier tries of a failed try's run used: what it consumed, by lineage. */
  function dataOfRun(obs: StateObservation): string[] {
    const run = runOf(obs);
    return run ? [...(runData.get(run) ?? [])].slice(0, MAX_DATA_NAMED) : [];
  }

  function noteSuccess(host: string, time: number): void {
    if (time <= (succeeded.get(host) ?? Number.NEGATIVE_INFINITY)) return;
    succeeded.delete(host); // re-inserted last: the map stays in order of recency
    succeeded.set(host, time);
    // Bounded: workers are few, but a fleet that churns hostnames forgets the longest silent.
    if (succeeded.size > MAX_WORKERS) succeeded.delete(succeeded.keys().next().value!);
  }

  function forgetWrites(task: string): void {
    for (const table of writing.get(task) ?? []) {
      const left = (writers.get(table) ?? []).filter((w) => w.task !== task || w.ended !== undefined);
      if (left.length > 0) writers.set(table, left);
      else writers.delete(table);
    }
    writing.delete(task);
  }

  function noteWrite(table: string, task: string, at: number, running: boolean): void {
    if (running) {
      writing.set(task, [...new Set([...(writing.get(task) ?? []), table])]);
      // Bounded: tries that were never seen ending are forgotten, oldest first.
      if (writing.size > MAX_WRITING) writing.delete(writing.keys().next().value!);
    } else writing.delete(task);
    // The latest writes first; a task that writes again replaces its earlier write, keeping when
    // it was seen beginning (a failure reported late is judged at its own time).
    const all = writers.get(table) ?? [];
    const same = all.find((w) => w.task === task);
    const write: Write = running
      ? { table, task, began: Math.min(at, same?.began ?? at) }
      : { table, task, began: same?.began ?? at, ended: at };
    const next = [write, ...all.filter((w) => w.task !== task)]
      .sort((a, b) => lastSeen(b) - lastSeen(a))
      .slice(0, WRITERS_PER_TABLE);
    writers.delete(table); // re-inserted last: the map stays in order of recency
    writers.set(table, next);
    const bare = byBare.get(bareTable(table)) ?? new Set<string>();
    bare.add(table);
    byBare.set(bareTable(table), bare);
    if (writers.size > MAX_TABLES) {
      const oldest = writers.keys().next().value!;
      writers.delete(oldest);
      byBare.get(bareTable(oldest))?.delete(oldest);
    }
  }

  /**
   * The tasks that wrote the tables a failed try's log names or its statements used within
   * {@link SUCCESS_WINDOW_MS} before it, or were still writing them: a writer that succeeded
   * shortly before its readers fail, or that was changing the table while they used it, is a cause
   * to consider
   * (which of several is the ranking's call: the one whose write came first, when they explain
   * as much). A table named only by its location matches by its bare name when one written table
   * has that name.
   */
  function lastWriters(obs: StateObservation): TableWrite[] {
    const named = Array.isArray(obs.details.log) ? tablesNamed(obs.details.log.map(String).join('\n')) : [];
    // the tables its own statements used, whatever its error says (the source reads them)
    const used = Array.isArray(obs.details.tables) ? obs.details.tables.map(String) : [];
    const out: TableWrite[] = [];
    const dag = parseTaskKey(obs.entity)?.dagId;
    const sameDag = (task: string) => parseTaskKey(task)?.dagId === dag;
    const fromError = new Set(named);
    // when the failed try began: a write begun after it changed the table under it
    const started = Date.parse(String(obs.details.start_date)) || obs.time;
    for (const t of new Set([...named, ...used])) {
      let ws = writers.get(t);
      if (!ws) {
        const same = byBare.get(bareTable(t));
        if (same?.size === 1) ws = writers.get([...same][0]!);
      }
      // A write that had ended by then counts for the window after it; one that had begun and
      // not ended counts while it ran.
      for (const w of ws ?? []) {
        if (w.task === obs.entity || w.began > obs.time || out.some((o) => o.task === w.task)) continue;
        // What its own statements used and its own DAG wrote is its DAG's ordinary recurrence
        // (the previous run wrote the table this one writes), not a relation to another cause.
        if (!fromError.has(t) && sameDag(w.task)) continue;
        if (w.ended === undefined || w.ended > obs.time)
          out.push({ table: w.table, task: w.task, at: w.began, running: true, under: w.began >= started });
        else if (obs.time - w.ended <= SUCCESS_WINDOW_MS)
          out.push({ table: w.table, task: w.task, at: w.ended, running: false, under: w.began >= started });
      }
    }
    // Work of other DAGs first: a run's own upstream tasks wrote what it reads every night.
    const own = (w: TableWrite) => Number(sameDag(w.task));
    return out.sort((a, b) => own(a) - own(b)).slice(0, MAX_WRITERS_NAMED);
  }

  /** Other workers on which a try succeeded within {@link SUCCESS_WINDOW_MS} before this one ended. */
  function succeedingElsewhere(obs: StateObservation): string[] {
    const own = obs.details.hostname ? String(obs.details.hostname) : undefined;
    if (!own) return [];
    const out: string[] = [];
    for (const [host, at] of succeeded)
      if (host !== own && at <= obs.time && obs.time - at <= SUCCESS_WINDOW_MS) out.push(host);
    return out.sort();
  }

  function resolve(obs: StateObservation, kind: string, ctx: DetectorContext): void {
    const byKind = firing.get(obs.entity);
    const signal = byKind?.get(kind);
    if (!byKind || !signal) return;
    byKind.delete(kind);
    if (byKind.size === 0) firing.delete(obs.entity);
    ctx.emit({
      ...signal,
      status: 'resolved',
      time: obs.time,
      title: `${signal.title} — now ${obs.to} (try ${obs.details.try_number})`,
    });
  }

  return {
    id: AIRFLOW_TASK_FAILURE_DETECTOR_ID,
    accepts: ['state'],
    observe,
    size: () => firing.size,
  };
}

/**
 * How far back a success on another worker counts as evidence that the same platform works
 * elsewhere: the correlator's default link window.
 */
const SUCCESS_WINDOW_MS = 30 * 60_000;
const MAX_WORKERS = 1000;
/** Service endpoints whose serving host is remembered at most. */
const MAX_ENDPOINTS = 100;
/** DAG runs whose data locations are remembered. */
const MAX_RUNS = 5000;
/** Data locations remembered per DAG run at most (memory stays bounded by MAX_RUNS × this). */
const MAX_DATA_PER_RUN = 32;
/** Data locations of its run a failure names at most. */
const MAX_DATA_NAMED = 8;

/** Tables whose last writers are remembered at most. */
const MAX_TABLES = 50_000;
/** Tries seen writing at most (a try never seen ending is forgotten, oldest first). */
const MAX_WRITING = 10_000;
/** Writes remembered per table. */
const WRITERS_PER_TABLE = 3;
/** Writers a failure carries as evidence at most (the store keeps 10 evidence entries a signal). */
const MAX_WRITERS_NAMED = 3;

/**
 * A task's write of a table: when its try was seen beginning to write (its running state, else its
 * end) and when it ended, if it has.
 */
interface Write {
  readonly table: string;
  readonly task: string;
  readonly began: number;
  readonly ended?: number;
}

function lastSeen(w: Write): number {
  return w.ended ?? w.began;
}

/** The evidence label of the data locations a failed try's run used before it. */
export const RUN_DATA = 'its run used';

/** The evidence label of the workers where tries succeeded meanwhile (read by the correlator). */
export const SUCCEEDING_ELSEWHERE = 'succeeding elsewhere';

function toSignal(
  obs: StateObservation,
  kind: string,
  severity: Severity,
  title: string,
  elsewhere: readonly string[],
  written: readonly TableWrite[],
  runData: readonly string[] = [],
  servedBy: ReadonlyMap<string, string> = new Map(),
): Signal {
  const evidence: Evidence[] = [
    {
      kind: 'text',
      label: 'try',
      text: `${obs.details.try_number} of ${Number(obs.details.max_tries ?? 0) + 1}`,
    },
  ];
  if (obs.details.hostname)
    evidence.push({ kind: 'text', label: 'worker', text: String(obs.details.hostname) });
  if (obs.details.operator)
    evidence.push({ kind: 'text', label: 'operator', text: String(obs.details.operator) });
  // What the failed try's log says about why: its error class and the entities it names.
  const text = kind !== 'airflow.task_upstream_failed' ? logText(obs) : '';
  const failure = text ? readFailureText(text) : { causes: [], uses: [], names: [] };
  // Differential evidence: tries succeeded on other workers in the last half hour, so a failure
  // here may be this machine's, not the platform's.
  if (elsewhere.length > 0)
    evidence.push({ kind: 'text', label: SUCCEEDING_ELSEWHERE, text: elsewhere.join(', ') });
  // Lineage: the task that last wrote a table this failure names is related to it.
  for (const w of written)
    evidence.push({
      kind: 'text',
      label: TABLE_LAST_WRITTEN,
      text: tableWriteText(w),
    });
  if (Array.isArray(obs.details.log) && obs.details.log.length > 0) {
    evidence.push({ kind: 'log', label: 'task log', lines: obs.details.log.map(String) });
  }
  // Lineage: the data its run's earlier tasks used (they succeeded, so the data may be what failed).
  if (runData.length > 0) evidence.push({ kind: 'text', label: RUN_DATA, text: runData.join(', ') });
  if (failure.errorClass) evidence.push({ kind: 'text', label: 'error class', text: failure.errorClass });
  else if (failure.exception)
    evidence.push({ kind: 'text', label: EXCEPTION_LABEL, text: failure.exception });
  // The line an engineer reads first; redacted here, where the whole text is still at hand.
  if (failure.errorLine)
    evidence.push({
      kind: 'text',
      label: ERROR_LINE_LABEL,
      text: redactCut(failure.errorLine, ERROR_LINE_MAX),
    });
  // The machines that served what it used (where a source said so): their own state is evidence.
  // Last: where the store keeps fewer entries, what it already read is kept first.
  const served = [...new Set(failure.uses.flatMap((u) => servedBy.get(u) ?? []))];
  if (served.length > 0) evidence.push({ kind: 'text', label: SERVED_FROM, text: served.join(', ') });
  // A try that waited deferred and failed because its trigger never fired waits on the component
  // that runs triggers and hands deferred work back.
  const handedOn = DEFERRAL_FAILED.test(text) ? [TRIGGERER] : [];
  // A sensor that waited for another DAG's work names that DAG: it waits on it.
  const waitedFor = Array.isArray(obs.details.waited_for)
    ? obs.details.waited_for.filter((d): d is string => typeof d === 'string').map((d) => `airflow:dag:${d}`)
    : [];
  const names = [...new Set([...failure.names, ...runData, ...handedOn, ...waitedFor])];
  return {
    fingerprint: stableId('aft_', kind, obs.entity),
    kind,
    status: 'firing',
    entity: obs.entity,
    related: [
      // a writer that had written is related; one still writing is not known to have done it
      // well, and ties the failure to nothing until the ranking weighs it (`contended_by`)
      ...new Set([
        ...obs.related,
        ...failure.causes,
        ...failure.uses,
        ...written.filter((w) => !w.running).map((w) => w.task),
      ]),
    ],
    time: obs.time,
    severity,
    title,
    detector: AIRFLOW_TASK_FAILURE_DETECTOR_ID,
    evidence,
    ...(failure.errorClass ? { errorClass: failure.errorClass } : {}),
    ...(names.length > 0 ? { names } : {}),
  };
}

/** The Airflow component that runs the triggers of deferred tasks (its health key). */
const TRIGGERER = 'airflow:triggerer';

/**
 * Airflow's account of a deferral that ended without its trigger firing: the scheduler times the
 * deferred task out (`Trigger/execution timeout`) and the try raises `TaskDeferralTimeout`
 * (Airflow 3) or `TaskDeferralError` (Airflow 2). The work was waiting on the triggerer.
 */
const DEFERRAL_FAILED = /\bTaskDeferral(?:Timeout|Error)\b|Trigger\/execution timeout/;

function logText(obs: StateObservation): string {
  return Array.isArray(obs.details.log) ? obs.details.log.map(String).join('\n') : '';
}

/** The DAG run of a task try's observation. */
function runOf(obs: StateObservation): string | undefined {
  return obs.related.find((r) => r.startsWith('airflow:dagrun:'));
}

/** `dag.task` of a task key. */
function taskName(entity: string): string {
  const t = parseTaskKey(entity);
  return t ? `${t.dagId}.${t.taskId}` : entity;
}
