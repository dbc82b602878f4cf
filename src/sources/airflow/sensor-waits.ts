/**
 * What an Airflow sensor says it waited for, in the words Airflow's `ExternalTaskSensor` logs at
 * each poke: `Poking for tasks ['t'] in dag d on <date> ...`, `Poking for task_group 'g' in dag
 * 'd' on ...` and `Poking for DAG 'd' on ...`. A DAG id is letters, digits, `_`, `.` and `-`.
 */
const POKING_FOR =
  /Poking for (?:tasks? \[[^\]]*\] in dag|task_group '[^']*' in dag|DAG) '?([A-Za-z0-9_.-]+)'? on /g;

/** DAG ids a sensor waited for, at most. */
const MAX_WAITED = 8;

/**
 * The DAGs whose work a try's log says it waited for (each once, in order of first mention): a
 * sensor that times out failed because what it waited for did not happen there.
 */
export function dagsWaitedFor(log: string): string[] {
  const out = new Set<string>();
  for (const m of log.matchAll(POKING_FOR)) {
    out.add(m[1]!);
    if (out.size >= MAX_WAITED) break;
  }
  return [...out];
}
