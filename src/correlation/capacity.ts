import { type EntityKey, type IncidentSignal, parseTaskKey } from '../core/index.ts';

/**
 * Contention for a capacity: work that is itself running fine holds what the failures needed. A
 * notebook application granted every core of the standalone cluster while the Spark Connect
 * application has no executor: the Connect application's jobs wait and are cancelled when their
 * tasks time out. The failures name nothing of it; the Spark source says, on a job that failed
 * while its application had no executor, which other applications the master had granted cores
 * (`CORES_HELD_BY` evidence). The application holding them is a candidate cause, inferred: the
 * failures waited for what it held, no fault of it is observed.
 */

/** The evidence label, on a failed job, of an application holding the cluster's cores meanwhile. */
export const CORES_HELD_BY = 'cores held by';

/** An application holding cores while a job of another, which had no executor, failed. */
export interface CoresHolder {
  readonly app: EntityKey;
  readonly cores: number;
  /** The cores of the cluster's alive workers. */
  readonly of: number;
  /** When it began holding them at the latest (it started), epoch ms; NaN when unknown. */
  readonly since: number;
}

/** The evidence text of a holder: `spark:app:app-1 held 64 of 64 cores since 2026-…Z`. */
export function coresHeldText(h: CoresHolder): string {
  const since = Number.isNaN(h.since) ? '' : ` since ${new Date(h.since).toISOString()}`;
  return `${h.app} held ${h.cores} of ${h.of} cores${since}`;
}

const HELD = /^(spark:app:\S+) held (\d+) of (\d+) cores(?: since (\S+))?$/;

/** Signals are immutable: the holders a signal names are read once. */
const read = new WeakMap<object, readonly CoresHolder[]>();
const NONE: readonly CoresHolder[] = [];

/** The holders a failure's evidence names (`CORES_HELD_BY`). */
export function holdersOf(s: Pick<IncidentSignal, 'evidence'>): readonly CoresHolder[] {
  let held = read.get(s);
  if (!held) {
    held = readHolders(s);
    read.set(s, held);
  }
  return held;
}

function readHolders(s: Pick<IncidentSignal, 'evidence'>): readonly CoresHolder[] {
  if (!s.evidence.some((e) => e.kind === 'text' && e.label === CORES_HELD_BY)) return NONE;
  const out: CoresHolder[] = [];
  for (const e of s.evidence) {
    if (e.kind !== 'text' || e.label !== CORES_HELD_BY) continue;
    const m = HELD.exec(e.text);
    if (m)
      out.push({
        app: m[1]!,
        cores: Number(m[2]),
        of: Number(m[3]),
        since: m[4] ? Date.parse(m[4]) : Number.NaN,
      });
  }
  return out;
}

/** How a failure that waited for cores another application held failed (`SignalRole.way`). */
export function waitedFor(app: EntityKey): string {
  return `${WAITED_FOR} ${app} held`;
}

/** The beginning of {@link waitedFor}'s text. */
export const WAITED_FOR = 'waited for cores';

/** A holder that failures of several DAGs waited on. */
export interface HeldCapacity {
  readonly holder: CoresHolder;
  /** DAGs whose failures waited for it. */
  readonly dags: number;
  /** The failures it explains: the jobs that waited, and the Airflow tasks that submitted them. */
  readonly explains: readonly EntityKey[];
}

/**
 * The applications that failures of `minDags` or more DAGs waited on (each failure's holder with
 * the most cores), with the failures each explains. A failed job's Airflow task (its `related`)
 * waited with it. An application whose own work failed first is not a holder: it is failing, not
 * holding.
 */
export function heldCapacity(
  failures: readonly Pick<IncidentSignal, 'entity' | 'related' | 'evidence' | 'firstSeen'>[],
  dagOf: (f: Pick<IncidentSignal, 'entity' | 'related'>) => string | undefined,
  minDags: number,
): HeldCapacity[] {
  const waited = failures.filter((f) => holdersOf(f).length > 0);
  if (waited.length === 0) return [];
  const byApp = new Map<
    EntityKey,
    { holder: CoresHolder; dags: Set<string>; explains: Set<EntityKey>; first: number }
  >();
  for (const f of waited) {
    const holder = holdersOf(f)[0]!;
    const had = byApp.get(holder.app) ?? {
      holder,
      dags: new Set<string>(),
      explains: new Set<EntityKey>(),
      first: f.firstSeen,
    };
    had.first = Math.min(had.first, f.firstSeen);
    const dag = dagOf(f);
    if (dag) had.dags.add(dag);
    had.explains.add(f.entity);
    for (const r of f.related) if (parseTaskKey(r)) had.explains.add(r);
    if (holder.since < had.holder.since) had.holder = holder;
    byApp.set(holder.app, had);
  }
  // When each application's own work first failed.
  const failing = new Map<EntityKey, number>();
  for (const f of failures)
    for (const r of f.related)
      if (r.startsWith('spark:app:')) failing.set(r, Math.min(failing.get(r) ?? f.firstSeen, f.firstSeen));
  const out: HeldCapacity[] = [];
  for (const [app, { holder, dags, explains, first }] of byApp) {
    if (dags.size < minDags || (failing.get(app) ?? Number.POSITIVE_INFINITY) <= first) continue;
    out.push({ holder, dags: dags.size, explains: [...explains] });
  }
  return out;
}
