import { type EntityKey, entityKey, parseTaskKey } from '../core/index.ts';
import type { TableWrite } from '../logs/table-lineage.ts';

/**
 * Actors: work that is itself doing fine (running, or done) while work of other DAGs that used
 * what it was changing fails. A maintenance run compacting or expiring a table, a DAG committing
 * to a table every few minutes: the failures of its readers and concurrent writers are symptoms,
 * the actor is the cause to consider. The edge from a failure to the work is lineage
 * (`SignalRole.writers`: the tasks that wrote, or were writing, a table the failure named or its
 * statements used); this module says which actor those edges single out and what it explains.
 */

/** A failure and the writes it is tied to. */
export interface FailureWrites {
  readonly entity: EntityKey;
  /** The DAG whose work failed. */
  readonly dag: string | undefined;
  readonly writers: readonly TableWrite[];
}

/** An actor singled out: the task or DAG whose work the failures used. */
export interface Actor {
  readonly entity: EntityKey;
  /** `upstream_write` (it had written), `contending_write` (it was writing while they failed). */
  readonly kind: 'upstream_write' | 'contending_write';
  /** When its work on what they used began (its earliest write that they name). */
  readonly first: number;
  readonly tables: readonly string[];
  /** DAGs, other than its own, whose failures it explains. */
  readonly dags: number;
  /** The failures it explains (entities). */
  readonly explains: ReadonlySet<EntityKey>;
  /** Found by grouping several tasks or runs of one DAG: the DAG is the actor, no one task is. */
  readonly byDag: boolean;
}

/**
 * The actors that failures of `minDags` or more other DAGs tie to through lineage, per writing DAG:
 * a DAG whose work (one task, or several tasks or runs) wrote or was writing what they used, and
 * whose own work is not among the failures. The actor is the task when one task did it all (a
 * writer), else its DAG (a maintenance run's several tasks, a micro-batch DAG's runs). It is `contending_write` when some of them failed while it was still
 * writing.
 */
export function actorsOf(failures: readonly FailureWrites[], minDags: number): Actor[] {
  const failing = new Set(failures.flatMap((f) => f.dag ?? []));
  const byDag = new Map<string, { f: FailureWrites; w: TableWrite }[]>();
  for (const f of failures)
    for (const w of f.writers) {
      const dag = parseTaskKey(w.task)?.dagId;
      if (!dag || dag === f.dag || failing.has(dag)) continue;
      const list = byDag.get(dag) ?? [];
      list.push({ f, w });
      byDag.set(dag, list);
    }
  const out: Actor[] = [];
  for (const [dag, edges] of byDag) {
    const dags = new Set(edges.flatMap(({ f }) => f.dag ?? []));
    if (dags.size < minDags) continue;
    const explains = new Set(edges.map(({ f }) => f.entity));
    // One task is the actor itself; the work of several (a maintenance run's tasks, a micro-batch
    // DAG's runs) is its DAG's.
    const tasks = new Set(edges.map(({ w }) => w.task));
    const single = tasks.size === 1 ? [...tasks][0] : undefined;
    out.push({
      entity: single ?? entityKey.dag(dag),
      kind: edges.some(({ w }) => w.running) ? 'contending_write' : 'upstream_write',
      first: Math.min(...edges.map(({ w }) => w.at)),
      tables: [...new Set(edges.map(({ w }) => w.table))],
      dags: dags.size,
      explains,
      byDag: single === undefined,
    });
  }
  return out;
}

/** The actor a write edge leads to, among those found: its task, else its DAG. */
export function actorOfWrite(w: TableWrite, actors: ReadonlyMap<EntityKey, Actor>): EntityKey | undefined {
  if (actors.has(w.task)) return w.task;
  const dag = parseTaskKey(w.task)?.dagId;
  const key = dag ? entityKey.dag(dag) : undefined;
  return key && actors.get(key)?.byDag ? key : undefined;
}

/**
 * The most an actor found by lineage alone may be trusted: it is a hypothesis (the work used what
 * it changed, at about that time), not a fault observed, so it stays below the 0.8 that says
 * "right as a rule".
 */
export const ACTOR_MAX_CONFIDENCE = 0.75;

/**
 * The writes each failure is tied to: its own (`SignalRole.writers`), or, for a Spark job an
 * Airflow task submitted, its task's: the job ran the statements that used those tables.
 */
export function writesOfFailures(
  failures: readonly { readonly entity: EntityKey; readonly related: readonly EntityKey[] }[],
  own: (entity: EntityKey) => readonly TableWrite[],
): Map<EntityKey, readonly TableWrite[]> {
  const out = new Map<EntityKey, readonly TableWrite[]>();
  for (const f of failures) {
    const writes = own(f.entity);
    if (writes.length > 0) out.set(f.entity, writes);
  }
  for (const f of failures) {
    if (out.has(f.entity) || !f.entity.startsWith('spark:job:')) continue;
    const task = f.related.find((r) => out.has(r) && r.startsWith('airflow:task:'));
    if (task) out.set(f.entity, out.get(task)!);
  }
  return out;
}
