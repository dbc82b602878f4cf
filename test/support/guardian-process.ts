import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { GuardianConfigInput } from '../../src/config/schema.ts';

/** What the Guardian child process reports about itself (`stats`). */
export interface GuardianProcessStats {
  /** Resident set size now, bytes. */
  readonly rss: number;
  /** Peak resident set size since start, bytes. */
  readonly maxRss: number;
  readonly heapUsed: number;
  /** State held per detector. */
  readonly sizes: Readonly<Record<string, number>>;
  /** Anomaly models by series (base64), for the series asked about. */
  readonly models: Readonly<Record<string, readonly string[]>>;
}

/** A Guardian running in its own process, so that its memory is measured honestly. */
export interface GuardianProcess {
  readonly url: string;
  /** Its log lines (pino JSON on stderr) so far. */
  readonly logs: () => string;
  stats(series?: readonly string[]): Promise<GuardianProcessStats>;
  stop(): Promise<void>;
}

/**
 * Starts `guardian-child.ts` with `config` (on a free loopback port, in a fresh data directory
 * removed on stop) and waits until it listens. The child answers commands on stdin with one
 * JSON line each on stdout.
 */
export async function startGuardianProcess(config: GuardianConfigInput): Promise<GuardianProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-abuse-'));
  const full: GuardianConfigInput = { port: 0, host: '127.0.0.1', dataDir, ...config };
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', new URL('./guardian-child.ts', import.meta.url).pathname, JSON.stringify(full)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`Guardian child exited: ${stderr.slice(-2000)}`);
    return JSON.parse(value) as Record<string, unknown>;
  };
  const ready = await next();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: String(ready.url),
    logs: () => stderr,
    async stats(series = []) {
      child.stdin!.write(`${JSON.stringify({ command: 'stats', series })}\n`);
      return (await next()) as unknown as GuardianProcessStats;
    },
    async stop() {
      child.stdin!.write(`${JSON.stringify({ command: 'stop' })}\n`);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
