/**
 * Test-only crash injection for the fault matrix. Environment variable `GUARDIAN_CRASH_AT`,
 * `<name>[:<n>]` (n defaults to 1): the process sends itself SIGKILL the n-th time it passes
 * {@link crashPoint}`(name)`. A kill -9 at a named step of the pipeline (after a fingerprint claim,
 * between two merge writes, after a Slack post and before its record) cannot be aimed from
 * outside: a delay lands anywhere. Unset in production; a passage then costs one comparison.
 */
const spec = parse(process.env.GUARDIAN_CRASH_AT);
let passages = 0;

/** The steps a crash can be aimed at: where a kill -9 leaves the store half-written. */
export type CrashPointName =
  /** The fingerprint claims of a new incident are written, the incident is not. */
  | 'claimed'
  /** The incident is written (created or updated); its timeline and notify job are not. */
  | 'incident-written'
  /** A merge wrote the absorbed incident, not yet the survivor. */
  | 'merge-absorbed'
  /** A notify job is taken from the queue, nothing done with it yet. */
  | 'notify-taken'
  /** Slack took the first post; Guardian has not recorded it. */
  | 'slack-posted';

/** Kills this process (SIGKILL) when `GUARDIAN_CRASH_AT` names this point and its passage count. */
export function crashPoint(name: CrashPointName): void {
  if (spec?.name !== name) return;
  passages++;
  if (passages === spec.n) process.kill(process.pid, 'SIGKILL');
}

function parse(value: string | undefined): { name: string; n: number } | undefined {
  if (!value) return undefined;
  const [name = '', count] = value.split(':');
  const n = count === undefined ? 1 : Number(count);
  if (!name || !Number.isInteger(n) || n < 1)
    throw new RangeError(`GUARDIAN_CRASH_AT must be <point>[:<n ≥ 1>], not "${value}"`);
  return { name, n };
}
