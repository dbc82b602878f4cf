import type { Observation, Signal, StateObservation } from '../src/core/index.ts';
import { entityKey, parseTaskKey, stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';

export const AIRFLOW_RUN_STALLED_DETECTOR_ID = 'airflow-run-stalled';

export interface AirflowRunStalledOptions {
  /**
   * A running DAG run none of whose tasks started or ended for this long, with none of them
   * running, is stalled (unless the DAG's own runs are known to sit idle longer: then three times
   * that). A healthy scheduler with free slots starts the next task within seconds, but nights
   * of the open suite show healthy runs idle up to about 15 min between tasks (waiting out capacity
   * lost elsewhere), which must not page: the smallest of 10, 15 and 20 min that pages none of them.
   * @defaultValue 1200000 (20 minutes)
   */
  readonly idleAfterMs?: number;
  /**
   * DAGs stalled at once from which the stall is worth waking someone for (`high`): one DAG stalled
   * is its own business, several at once share what they wait on (a pool, the executor, the
   * scheduler). The correlator's `GUARDIAN_PAGE_AFTER_DAGS`.
   * @defaultValue 2
   */
  readonly pageAfterDags?: number;
}

/** Idle gaps remembered per DAG to learn how long its runs usually sit between tasks. */
const HISTORY = 20;
/** Running runs followed at most (the oldest is let go first), and DAGs whose idle gaps are kept. */
const MAX_RUNS = 10_000;
const MAX_DAGS = 10_000;
/** A DAG's runs may sit idle this many times their longest usual gap before that is news. */
const USUAL_FACTOR = 3;
/**
 * Task states in which a run is doing (or deliberately waiting on) something: a task running, a
 * sensor deferred or rescheduled, a retry waiting out its delay. Only `queued` and nothing at all
 * leave a run waiting on the platform.
 */
const BUSY = new Set(['running', 'deferred', 'up_for_retry', 'up_for_reschedule', 'restarting']);
/** Run states in which the run is over. */
const OVER = new Set(['success', 'failed', 'removed']);

interface Run {
  readonly dagId: string;
  readonly entity: string;
  /** When a task of the run last started or ended, or the run itself started. */
  lastProgress: number;
  /** Its tasks in a busy state. */
  readonly busy: Set<string>;
  /** Its tasks queued, and since when. */
  readonly queued: Map<string, number>;
  fired: Signal | undefined;
}

/**
 * Work that should be moving and is not (`airflow.run_stalled`): a DAG run that is running, but
 * none of whose tasks has started or ended for far longer than runs of that DAG usually sit idle,
 * with none of them running: its tasks wait in the queue or are never queued. That is absence as
 * evidence: nothing fails, the work just does not happen (a pool with no open slots, an executor
 * or broker that takes tasks and never hands them to a worker, a scheduler that does not schedule).
 * One stalled DAG is `low`; when `pageAfterDags` DAGs are stalled at once it is `high`, and it
 * names the scheduler, so the series of what they wait on (a pool's open slots, the executor's
 * queue) can explain it. It resolves when a task of the run starts or ends, or the run ends.
 */
export function createAirflowRunStalledDetector(options: AirflowRunStalledOptions = {}): Detector {
  const idleAfterMs = options.idleAfterMs ?? 20 * 60_000;
  const pageAfterDags = options.pageAfterDags ?? 2;
  const runs = new Map<string, Run>();
  /** Per DAG: the idle gaps its runs showed before a task started. */
  const usualGaps = new Map<string, number[]>();
  const pending: Signal[] = [];

  function observe(obs: Observation): void {
    if (obs.type !== 'state') return;
    if (obs.entity.startsWith('airflow:dagrun:')) observeRun(obs);
    else if (obs.entity.startsWith('airflow:task:')) observeTask(obs);
  }

  function observeRun(obs: StateObservation): void {
    const run = runs.get(obs.entity);
    if (OVER.has(obs.to)) {
      if (run) end(run, obs.time, `the run ended ${obs.to}`);
      runs.delete(obs.entity);
      return;
    }
    if (obs.to !== 'running' || run) return;
    const dagId = obs.related.find((r) => r.startsWith('airflow:dag:'))?.slice('airflow:dag:'.length);
    if (!dagId) return;
    const started = Date.parse(String(obs.details.start_date));
    if (runs.size >= MAX_RUNS) {
      const oldest = runs.values().next().value!;
      end(oldest, obs.time, 'no longer followed');
      runs.delete(oldest.entity);
    }
    runs.set(obs.entity, {
      dagId,
      entity: obs.entity,
      lastProgress: Number.isFinite(started) ? started : obs.time,
      busy: new Set(),
      queued: new Map(),
      fired: undefined,
    });
  }

  function observeTask(obs: StateObservation): void {
    const task = parseTaskKey(obs.entity);
    if (!task) return;
    const run = runs.get(entityKey.dagRun(task.dagId, task.runId));
    if (!run) return;
    if (obs.to === 'queued') {
      const since = Date.parse(String(obs.details.queued_when));
      run.queued.set(obs.entity, Number.isFinite(since) ? since : obs.time);
      run.busy.delete(obs.entity);
      return;
    }
    run.queued.delete(obs.entity);
    if (BUSY.has(obs.to)) run.busy.add(obs.entity);
    else run.busy.delete(obs.entity);
    // A task that started or ended is progress; a start also teaches how long the run sat idle.
    const started = Date.parse(String(obs.details.start_date));
    const ended = Date.parse(String(obs.details.end_date));
    const at = Math.max(Number.isFinite(started) ? started : -1, Number.isFinite(ended) ? ended : -1);
    const progress = at > 0 ? at : obs.time;
    if (obs.to === 'running' && Number.isFinite(started) && started >= run.lastProgress)
      learn(run.dagId, started - run.lastProgress);
    if (progress > run.lastProgress) run.lastProgress = progress;
    if (run.fired && progress > run.fired.time) end(run, obs.time, `a task is ${obs.to}`);
  }

  function learn(dagId: string, gap: number): void {
    const gaps = usualGaps.get(dagId) ?? [];
    if (gaps.length === 0 && usualGaps.size >= MAX_DAGS) usualGaps.delete(usualGaps.keys().next().value!);
    gaps.push(gap);
    if (gaps.length > HISTORY) gaps.shift();
    usualGaps.set(dagId, gaps);
  }

  function limitOf(dagId: string): number {
    const gaps = usualGaps.get(dagId);
    return Math.max(idleAfterMs, gaps && gaps.length > 0 ? USUAL_FACTOR * Math.max(...gaps) : 0);
  }

  function end(run: Run, time: number, why: string): void {
    if (!run.fired) return;
    pending.push({ ...run.fired, status: 'resolved', time, title: `${run.fired.title} — ${why}` });
    run.fired = undefined;
  }

  function tick(ctx: DetectorContext): void {
    for (const s of pending.splice(0)) ctx.emit(s);
    const now = ctx.now();
    const stalled: Run[] = [];
    for (const run of runs.values()) {
      if (run.busy.size > 0) continue;
      const limit = limitOf(run.dagId);
      if (run.fired || now - run.lastProgress > limit) stalled.push(run);
    }
    const dags = new Set(stalled.map((r) => r.dagId)).size;
    for (const run of stalled) {
      if (run.fired) continue;
      run.fired = stalledSignal(run, limitOf(run.dagId), now, dags, dags >= pageAfterDags);
      ctx.emit(run.fired);
    }
  }

  return {
    id: AIRFLOW_RUN_STALLED_DETECTOR_ID,
    accepts: ['state'],
    observe: (obs, ctx) => {
      observe(obs);
      for (const s of pending.splice(0)) ctx.emit(s);
    },
    tick,
    size: () => runs.size + usualGaps.size,
  };
}

function stalledSignal(run: Run, limit: number, now: number, dags: number, pages: boolean): Signal {
  const idle = now - run.lastProgress;
  const queued = [...run.queued.values()];
  const runId = run.entity.slice(`airflow:dagrun:${run.dagId}/`.length);
  const waiting =
    queued.length > 0
      ? `${queued.length} task${queued.length === 1 ? '' : 's'} queued, none started`
      : 'no task queued';
  return {
    fingerprint: stableId('afs_', run.entity),
    kind: 'airflow.run_stalled',
    status: 'firing',
    entity: entityKey.dag(run.dagId),
    related: [run.entity, entityKey.scheduler()],
    time: run.lastProgress + limit,
    severity: pages ? 'high' : 'low',
    title: `DAG ${run.dagId}: run ${runId} has made no progress for ${Math.round(idle / 60_000)} min (${waiting})`,
    detector: AIRFLOW_RUN_STALLED_DETECTOR_ID,
    evidence: [
      { kind: 'value', label: 'idle for', value: Math.round(idle / 60_000), unit: 'min' },
      { kind: 'value', label: 'limit', value: Math.round(limit / 60_000), unit: 'min' },
      { kind: 'value', label: 'DAGs stalled at once', value: dags },
      ...(queued.length > 0
        ? [
            {
              kind: 'text' as const,
              label: 'queued since',
              text: new Date(Math.min(...queued)).toISOString(),
            },
          ]
        : []),
      {
        kind: 'text',
        label: 'what keeps a running DAG run from starting its tasks',
        text: 'a pool with no open slots, an executor or broker that does not hand queued tasks to workers, or a scheduler that does not schedule',
      },
    ],
  };
}
