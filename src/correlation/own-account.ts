import type { EntityKey } from '../core/index.ts';
import { failureClass } from '../logs/failure-text.ts';

/**
 * A resource's own account of an outage: its series or log stream (a database's log refusing
 * connections, a store's throttling) reads as an outage's error class (`shared`: one outage fails
 * many unrelated jobs with it), and work fails with that class though its text names no resource
 * (a JDBC error relayed by Spark Connect carries the database's message, not its host). The
 * resource that says so itself, before the failures, explains them: it is where the class came
 * from. The work's own echo does not count: a stream of a machine the failure ran on repeats what
 * the work said, and one that began with the first failure (or after it) may be relaying it.
 */
export interface OwnAccount {
  readonly entity: EntityKey;
  /** What the series or stream is about (`SignalRole.resources`). */
  readonly resources: ReadonlySet<EntityKey>;
  /** When its evidence began. */
  readonly first: number;
}

/** What `accountsByClass` needs of a root-cause candidate. */
export interface AccountCandidate {
  readonly resources: ReadonlySet<EntityKey>;
  readonly classes: ReadonlySet<string>;
  readonly first: number;
  /** Only `info` lines: something new said, not a fault (`log.new_line`). */
  readonly hint?: boolean | undefined;
}

/**
 * Candidates that are a resource's own series or stream showing an outage's class, by class, that
 * began before the first failure of their class by more than `marginMs`: within that margin the
 * order in time is not known (a series is judged a point or two late: the ranking's precedence
 * window), and a stream that begins with the first failure is as likely its echo (a driver's log
 * relaying the error) as its cause. A hint is no account of a fault.
 */
export function accountsByClass(
  candidates: ReadonlyMap<EntityKey, AccountCandidate>,
  failures: readonly { readonly errorClass?: string | undefined; readonly firstSeen: number }[],
  marginMs: number,
): Map<string, OwnAccount[]> {
  const out = new Map<string, OwnAccount[]>();
  for (const [entity, c] of candidates) {
    if (c.resources.size === 0 || c.hint) continue;
    for (const k of c.classes) {
      if (!failureClass(k)?.shared) continue;
      const list = out.get(k) ?? [];
      list.push({ entity, resources: c.resources, first: c.first });
      out.set(k, list);
    }
  }
  // (most incidents hold no such account: the failures are read only when one does)
  if (out.size === 0) return out;
  const firstFailure = new Map<string, number>();
  for (const f of failures)
    if (f.errorClass && out.has(f.errorClass))
      firstFailure.set(f.errorClass, Math.min(firstFailure.get(f.errorClass) ?? f.firstSeen, f.firstSeen));
  for (const [k, list] of out) {
    const first = firstFailure.get(k);
    const kept = first === undefined ? [] : list.filter((a) => a.first + marginMs < first);
    if (kept.length > 0) out.set(k, kept);
    else out.delete(k);
  }
  return out;
}

/**
 * Whether a resource's account explains a failure of its class: not when it is about a machine
 * the failure ran on or a resource it is related to (then it is the work's own echo, or what the
 * failure names already ties them).
 */
export function accountExplains(a: OwnAccount, f: { readonly related: readonly EntityKey[] }): boolean {
  return !f.related.some((r) => a.resources.has(r));
}
