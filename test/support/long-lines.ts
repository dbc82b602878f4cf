/**
 * Very long log lines for the redaction and classification benchmarks and the abuse suite: an
 * ordinary line repeated, a line dense with secrets, and shapes that make backtracking regular
 * expressions quadratic (`a.a.a…` once took 3.9 s to redact at 40 KB).
 */
export const LONG_LINE_SHAPES: Readonly<Record<string, string>> = {
  'spark line':
    '26/03/04 02:01:12 WARN TaskSetManager: Lost task 3.0 in stage 12.0 (TID 481) (10.0.3.17 executor 7): FetchFailed ',
  'dense secrets':
    'password=hunter2 token: ghp_abcdefghijklmnopqrstuvwxyz0123 url=postgres://etl:p@ss@db/x Cookie: a=b ops@example.com ',
  'a.': 'a.',
  'a@': 'a@',
  'x://a:b@': 'x://a:b@',
  'Spark Connect': 'Spark Connect ',
  'task instance heartbeat': 'task instance heartbeat ',
  'eyJ runs': 'eyJaaaaa-',
  '/a_token=': '/a_token=',
  'password (prose)': 'password ',
  Basic: 'Basic ',
};

/** `unit` repeated to exactly `bytes` characters. */
export function longLine(unit: string, bytes: number): string {
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/**
 * The fastest and the median of `runs` timings, ms. The fastest is the cost of the work itself;
 * the median adds what garbage collection and a shared machine add to it.
 */
export function timings(fn: () => void, runs = 9): { min: number; median: number } {
  for (let i = 0; i < 3; i++) fn(); // warm-up: the first runs on a new size compile and tier up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { min: times[0]!, median: times[Math.floor(runs / 2)]! };
}
