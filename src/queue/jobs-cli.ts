import { parseArgs } from 'node:util';

const USAGE = `usage: guardian jobs list [--url URL] [--key KEY] [--queue signals|notify] [--limit N]
       guardian jobs replay QUEUE ID [--url URL] [--key KEY]
  Jobs that failed for good (dead letters) of a running Guardian, through its HTTP API:
  list them newest first, or queue one again once its cause is fixed.
  --url  Guardian's base URL (default: GUARDIAN_URL, else http://127.0.0.1:8080)
  --key  an API key (default: GUARDIAN_API_KEY): read scope to list, admin to replay; none
         needed from the same machine while no key exists`;

/** Where the command writes (process.stdout and process.stderr, or a test's capture). */
export interface Output {
  write(text: string): unknown;
}

/**
 * `guardian jobs …` (argv starts after `jobs`). Returns the exit code: 0 done, 1 the API failed
 * or has no such dead letter, 2 usage error.
 */
export async function jobsCommand(
  argv: string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    err.write(`guardian jobs: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  const base = (values.url ?? process.env.GUARDIAN_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const key = values.key ?? process.env.GUARDIAN_API_KEY;
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  try {
    if (sub === 'list' && rest.length === 0) {
      const query = new URLSearchParams();
      if (values.queue) query.set('queue', values.queue);
      if (values.limit) query.set('limit', values.limit);
      const res = await fetch(`${base}/api/v1/dead-letters?${query}`, { headers });
      const body = (await res.json()) as {
        deadLetters?: { queue: string; id: string; error: string; failedAt: string; attempts: number }[];
        message?: string;
      };
      if (!res.ok || !body.deadLetters) {
        err.write(`guardian jobs: ${res.status} ${body.message ?? ''}\n`);
        return 1;
      }
      if (body.deadLetters.length === 0) out.write('no dead letters\n');
      for (const d of body.deadLetters)
        out.write(`${d.failedAt}  ${d.queue}  ${d.id}  after ${d.attempts} attempt(s): ${d.error}\n`);
      return 0;
    }
    if (sub === 'replay' && rest.length === 2) {
      const [queue, id] = rest as [string, string];
      const res = await fetch(
        `${base}/api/v1/dead-letters/${encodeURIComponent(queue)}/${encodeURIComponent(id)}/replay`,
        { method: 'POST', headers },
      );
      if (res.status === 202) {
        out.write(`queued ${queue} ${id} again\n`);
        return 0;
      }
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      err.write(`guardian jobs: ${res.status} ${body.message ?? ''}\n`);
      return 1;
    }
  } catch (e) {
    err.write(`guardian jobs: cannot reach ${base}: ${(e as Error).message}\n`);
    return 1;
  }
  err.write(`${USAGE}\n`);
  return 2;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      queue: { type: 'string' },
      limit: { type: 'string' },
    },
  });
}
