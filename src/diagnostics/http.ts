/**
 * GET a JSON document for a diagnostic: bounded by `signal` (the diagnostic's timeout) and by
 * `maxBytes` (an answer larger than that is refused, not read to the end). Errors say what
 * failed in a line that is safe to show (no credentials: they travel in headers only).
 */
export async function getJson(
  url: string,
  options: { signal: AbortSignal; headers?: Record<string, string>; maxBytes?: number; what: string },
): Promise<unknown> {
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', ...options.headers },
      signal: options.signal,
      redirect: 'error',
    });
  } catch (err) {
    throw new Error(`${options.what}: ${connectionProblem(err)}`);
  }
  const text = await readCapped(res, maxBytes, options.what);
  if (!res.ok) {
    const detail = /^\s*</.test(text)
      ? ' (an HTML page)'
      : text.trim()
        ? `: ${text.trim().slice(0, 160)}`
        : '';
    throw new Error(`${options.what}: HTTP ${res.status}${detail}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${options.what}: answer is not JSON (${text.length} bytes)`);
  }
}

/** "no answer within the time limit" / "cannot connect (ECONNREFUSED)". */
export function connectionProblem(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  const name = e.cause?.name ?? e.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'no answer within the time limit';
  return `cannot connect (${e.cause?.code ?? name ?? 'error'})`;
}

async function readCapped(res: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`${what}: answer of ${declared} bytes is over the ${maxBytes}-byte limit`);
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
        throw new Error(`${what}: answer is over the ${maxBytes}-byte limit`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${what}:`)) throw err;
    throw new Error(`${what}: ${connectionProblem(err)}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
