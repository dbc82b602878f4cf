import { SourceError } from './source.ts';

/** The largest answer a source reads unless told otherwise: 32 MiB. */
export const DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export interface GetJsonOptions {
  /** Request headers (credentials travel here, never in the URL or in messages). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Time limit of the request. */
  readonly timeoutMs: number;
  /** Also aborts the request (a caller's own deadline). */
  readonly signal?: AbortSignal;
  /** An answer larger than this is refused, not read to the end. @defaultValue 32 MiB */
  readonly maxBytes?: number;
  /** What is asked, for messages (`query_range`, a URL). */
  readonly what: string;
}

/**
 * GETs a JSON document from a peer (Spark, Loki): within a time limit and a size limit, with
 * failures as a {@link SourceError} whose message says what failed in a line safe to show (a
 * connection problem, the HTTP status and the start of the peer's text, an answer that is not
 * JSON).
 */
export async function getJson<T>(source: string, url: string, options: GetJsonOptions): Promise<T> {
  const { what, timeoutMs } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', ...options.headers },
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      redirect: 'error',
    });
  } catch (err) {
    throw new SourceError(source, `${what}: ${connectionProblem(err, timeoutMs)}`);
  }
  const text = await readCapped(res, options.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES, source, what, timeoutMs);
  if (!res.ok) {
    const detail = /^\s*</.test(text)
      ? ' (an HTML page)'
      : text.trim()
        ? `: ${text.trim().slice(0, 300)}`
        : '';
    throw new SourceError(source, `${what}: HTTP ${res.status}${detail}`, res.status);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SourceError(source, `${what}: answer is not JSON (${text.length} bytes)`);
  }
}

/** "no answer in 3000 ms" / "cannot connect (ECONNREFUSED)". */
function connectionProblem(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  const name = e.cause?.name ?? e.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer in ${timeoutMs} ms`;
  return `cannot connect (${e.cause?.code ?? name ?? 'error'})`;
}

/**
 * Reads an answer's body as text, refusing (a {@link SourceError}, the rest not read) one that
 * declares or turns out to be larger than `maxBytes`: a peer answering a gigabyte, or without
 * end, costs at most `maxBytes` of memory.
 */
export async function readCapped(
  res: Response,
  maxBytes: number,
  source: string,
  what: string,
  timeoutMs: number,
): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new SourceError(source, `${what}: answer of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new SourceError(source, `${what}: answer is over the ${maxBytes}-byte limit`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(source, `${what}: ${connectionProblem(err, timeoutMs)}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
