import type { Observation, Severity, Signal, StateObservation } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import { CORES_HELD_BY, type CoresHolder, coresHeldText } from '../src/correlation/capacity.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';
import { EXCEPTION_LABEL, readFailureText } from '../src/logs/failure-text.ts';

export const SPARK_DETECTOR_ID = 'spark';

/** How far back a job that succeeded counts as the cluster working: the correlator's link window. */
const SUCCESS_WINDOW_MS = 30 * 60_000;
/** `(10.0.4.161 executor 22)`: the host and executor Spark lost a task on. */
const LOST_ON = /\(([\w.-]+ executor \w+)\)/;
/** The evidence label of the executor (`10.0.4.161 executor 22`) a failed job's task was lost on. */
export const LOST_TASK_ON = 'task lost on';
/** Successes remembered at most (a busy cluster's half hour). */
const MAX_SUCCEEDED = 10_000;

/** Why an executor went away, from Spark's `removeReason` text (wording differs by cluster manager). */
export type ExecutorLossCause =
  | 'host_lost'
  | 'decommission'
  | 'heartbeat_timeout'
  | 'oom_killed'
  | 'killed_by_driver'
  | 'other';

export function classifyExecutorRemoval(reason: string | null | undefined): ExecutorLossCause {
  const r = (reason ?? '').toLowerCase();
  if (/decommission|spot|preempt|interruption/.test(r)) return 'decommission';
  if (/worker lost|disassociated|was deleted by a user or the framework|node lost|host lost/.test(r))
    return 'host_lost';
  if (/heartbeat timed out|heartbeat/.test(r)) return 'heartbeat_timeout';
  // 137: SIGKILL (the kernel's or the container's OOM killer); 52: Spark's own exit code for an
  // executor that died of OutOfMemoryError (standalone: "Command exited with code 52").
  if (
    /\b(exit|with) (exit )?(code|status):? ?(137|52)\b|sigkill|oom|out of memory|exceeding memory limits/.test(
      r,
    )
  )
    return 'oom_killed';
  if (/removed by driver|killed by driver|requested by driver/.test(r)) return 'killed_by_driver';
  return 'other';
}

/** The failure class of each executor loss cause (see failure-text.ts). */
const EXECUTOR_LOSS_CLASS: Record<ExecutorLossCause, string | undefined> = {
  host_lost: 'host_lost',
  decommission: 'executor_decommission',
  heartbeat_timeout: 'host_lost',
  oom_killed: 'executor_oom',
  killed_by_driver: undefined,
  other: undefined,
};

/**
 * Spark: a job that failed (`spark.job_failed`, with the failed stage's reason as evidence), an
 * executor that went away (`spark.executor_lost`, its removal reason classified), a standalone
 * worker that died (`spark.worker_dead`), and the Spark Connect endpoint unreachable
 * (`spark.connect_unreachable`).
 */
export function createSparkDetector(): Detector {
  const firing = new Set<string>();
  /** When jobs succeeded, oldest first, within the last {@link SUCCESS_WINDOW_MS}. */
  const succeeded: number[] = [];
  const succeededWithin = (time: number): number => {
    while (succeeded.length > 0 && time - succeeded[0]! > SUCCESS_WINDOW_MS) succeeded.shift();
    return succeeded.filter((t) => t <= time).length;
  };

  function emit(
    ctx: DetectorContext,
    obs: StateObservation | { entity: string; related: readonly string[]; time: number },
    kind: string,
    status: Signal['status'],
    severity: Severity,
    title: string,
    evidence: Signal['evidence'],
    errorClass?: string,
    names?: readonly string[],
  ) {
    const fingerprint = stableId('spk_', kind, obs.entity);
    if (status === 'firing') {
      if (firing.has(fingerprint)) return;
      firing.add(fingerprint);
    } else if (!firing.delete(fingerprint)) return;
    ctx.emit({
      fingerprint,
      kind,
      status,
      entity: obs.entity,
      related: [...obs.related],
      time: obs.time,
      severity,
      title,
      detector: SPARK_DETECTOR_ID,
      evidence,
      ...(errorClass ? { errorClass } : {}),
      ...(names?.length ? { names } : {}),
    });
  }

  return {
    id: SPARK_DETECTOR_ID,
    accepts: ['state', 'health'],
    observe(obs: Observation, ctx: DetectorContext) {
      if (obs.type === 'health') {
        if (!obs.entity.startsWith('spark:connect:')) return;
        const endpoint = obs.entity.slice('spark:connect:'.length);
        emit(
          ctx,
          { entity: obs.entity, related: [], time: obs.time },
          'spark.connect_unreachable',
          obs.healthy ? 'resolved' : 'firing',
          'critical',
          obs.healthy
            ? `Spark Connect ${endpoint} is reachable again`
            : `Spark Connect ${endpoint} is unreachable: every Spark SQL task will fail`,
          [{ kind: 'text', label: 'check', text: obs.reason }],
          'connect_unavailable',
        );
        return;
      }
      if (obs.type !== 'state') return;
      if (obs.entity.startsWith('spark:job:')) {
        if (obs.to === 'SUCCEEDED') {
          succeeded.push(obs.time);
          if (succeeded.length > MAX_SUCCEEDED) succeeded.shift();
          return;
        }
        if (obs.to === 'LOST') {
          emit(
            ctx,
            obs,
            'spark.job_lost',
            'firing',
            'high',
            `Spark job ${obs.entity.slice('spark:job:'.length)} lost: its application ended while it ran`,
            [
              {
                kind: 'text',
                label: 'reason',
                text: String(obs.details.failureReason ?? 'application ended'),
              },
            ],
          );
          return;
        }
        if (obs.to === 'FAILED') {
          const reason = obs.details.failureReason
            ? String(obs.details.failureReason)
            : 'no failed stage reported';
          const task = obs.details.airflowTask
            ? ` (Airflow task ${String(obs.details.airflowTask).slice('airflow:task:'.length)})`
            : '';
          const appId = obs.entity.slice('spark:job:'.length, obs.entity.lastIndexOf('/'));
          const failure = readFailureText(reason, appId);
          // Differential evidence: jobs that succeeded meanwhile ran their tasks across the
          // cluster's executors, so the machine this job's task failed on may be the cause.
          const elsewhere = succeededWithin(obs.time);
          // Where its task was lost: `(10.0.4.161 executor 22)` in the stage's failure reason.
          const lostOn = LOST_ON.exec(reason)?.[1];
          // Its application had no executor while others held the cluster's cores.
          const held = heldBy(obs.details);
          emit(
            ctx,
            {
              entity: obs.entity,
              related: [...new Set([...obs.related, ...failure.causes])],
              time: obs.time,
            },
            'spark.job_failed',
            'firing',
            'high',
            `Spark job ${obs.entity.slice('spark:job:'.length)} failed${task}`,
            [
              { kind: 'log', label: 'failed stage reason', lines: reason.split('\n').slice(0, 20) },
              ...(!failure.errorClass && failure.exception
                ? [{ kind: 'text' as const, label: EXCEPTION_LABEL, text: failure.exception }]
                : []),
              ...(lostOn ? [{ kind: 'text' as const, label: LOST_TASK_ON, text: lostOn }] : []),
              ...held.map((h) => ({ kind: 'text' as const, label: CORES_HELD_BY, text: coresHeldText(h) })),
              ...(elsewhere > 0
                ? [
                    {
                      kind: 'text' as const,
                      label: 'succeeding elsewhere',
                      text: `${elsewhere} Spark job${elsewhere === 1 ? '' : 's'} succeeded in the last 30 min`,
                    },
                  ]
                : []),
            ],
            failure.errorClass,
            [...(failure.names ?? []), ...held.map((h) => h.app)],
          );
        }
        return;
      }
      if (obs.entity.startsWith('spark:executor:') && obs.to === 'removed') {
        const cause = classifyExecutorRemoval(obs.details.removeReason as string | undefined);
        if (cause === 'killed_by_driver') return; // dynamic allocation scaling down: routine
        emit(
          ctx,
          obs,
          'spark.executor_lost',
          'firing',
          cause === 'other' ? 'low' : 'high',
          `Spark executor ${obs.entity.slice('spark:executor:'.length)} on ${String(obs.details.host)} lost: ${cause.replace('_', ' ')}`,
          [
            { kind: 'text', label: 'cause', text: cause },
            { kind: 'text', label: 'remove reason', text: String(obs.details.removeReason ?? 'none given') },
          ],
          EXECUTOR_LOSS_CLASS[cause],
        );
        return;
      }
      if (obs.entity.startsWith('spark:worker:')) {
        const dead = obs.to === 'DEAD' || obs.to === 'DECOMMISSIONED';
        if (!dead && obs.to !== 'ALIVE') return;
        emit(
          ctx,
          obs,
          'spark.worker_dead',
          dead ? 'firing' : 'resolved',
          'high',
          dead
            ? `Spark worker on ${String(obs.details.host)} is ${obs.to}`
            : `Spark worker on ${String(obs.details.host)} is alive again`,
          [{ kind: 'text', label: 'worker', text: obs.entity.slice('spark:worker:'.length) }],
          obs.to === 'DECOMMISSIONED' ? 'executor_decommission' : 'host_lost',
        );
      }
    },
    size: () => firing.size,
  };
}

/** The applications the source saw holding cores while the job's application had none (`coresHeldBy`). */
function heldBy(details: Record<string, unknown>): CoresHolder[] {
  const list = details.coresHeldBy;
  if (!Array.isArray(list)) return [];
  const of = typeof details.clusterCores === 'number' ? details.clusterCores : 0;
  return list.flatMap((h: { app?: unknown; cores?: unknown; since?: unknown }) =>
    typeof h.app === 'string' && typeof h.cores === 'number'
      ? [{ app: h.app, cores: h.cores, of, since: typeof h.since === 'number' ? h.since : Number.NaN }]
      : [],
  );
}
