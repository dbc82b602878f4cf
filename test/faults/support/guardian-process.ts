import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GuardianConfigInput } from '../../../src/config/schema.ts';
import { eventually } from '../../support/eventually.ts';
import { needsExternal } from '../../support/external.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
/** The line `guardian serve` logs once it listens, with its address. */
const LISTENING = /Guardian is up: OTLP metrics at (http:\/\/127\.0\.0\.1:\d+)\/v1\/metrics/;

/** Guardian run as users run it, `node src/cli.ts serve`, in a child process a test can kill. */
export interface GuardianProcess {
  readonly url: string;
  readonly pid: number;
  /** Sends `signal` and waits for the exit; returns how long it took (ms). */
  kill(signal: NodeJS.Signals): Promise<number>;
  /** Stops it at once (SIGSTOP) or lets it go on (SIGCONT), without waiting. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** The first 32 KiB and the last 64 KiB of what it wrote (JSON log lines). */
  output(): string;
  /** Resolves with the signal that ended it (or its exit code) once it exits by itself or is killed. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

/**
 * Starts `guardian serve` with `config` (written to a file, given as GUARDIAN_CONFIG) on a port
 * the system picks (port 0: a port chosen here and handed over could be taken by another process
 * on a busy machine before Guardian binds it, and the test would then talk to that process), reads
 * the port from the line Guardian logs once it listens, and waits until `/readyz` answers. `dataDir` should be the test's own folder, kept from
 * one start to the next to restart "the same" Guardian.
 */
/** The process ended before it was ready: `how` is the signal that ended it, or its exit code. */
export class ExitedBeforeReady extends Error {
  readonly how: NodeJS.Signals | number | null;
  constructor(how: NodeJS.Signals | number | null, output: string) {
    super(`guardian exited (${how}) before it was ready:\n${output.slice(-4_000)}`);
    this.how = how;
  }
}

export async function startGuardianProcess(
  config: GuardianConfigInput & { dataDir: string },
  options: { waitReady?: boolean; env?: Record<string, string> } = {},
): Promise<GuardianProcess> {
  needsExternal('guardian serve');
  const file = path.join(config.dataDir, `config-${process.hrtime.bigint()}.json`);
  writeFileSync(file, JSON.stringify({ ...config, port: 0, host: '127.0.0.1' }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GUARDIAN_CONFIG: file,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  delete env.GUARDIAN_TEST_TIER;
  const child: ChildProcess = spawn(process.execPath, ['src/cli.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The start (where a process says what it became) and the latest.
  let head = '';
  let output = '';
  const keep = (d: Buffer) => {
    if (head.length < 32_768) head = (head + d.toString()).slice(0, 32_768);
    output = (output + d.toString()).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  let url = '';
  let ready = false;
  try {
    ready = await eventually(
      async () => {
        // Dead (an exit or a signal): no use waiting for it.
        if (child.exitCode !== null || child.signalCode !== null) return false;
        url ||= (LISTENING.exec(head) ?? LISTENING.exec(output))?.[1] ?? '';
        if (!url) throw new Error(`not listening yet; its output so far:\n${output.slice(-4_000)}`);
        const res = await fetch(`${url}/${options.waitReady === false ? 'healthz' : 'readyz'}`);
        if (res.status !== 200) throw new Error(`not ready: ${await res.text()}`);
        return true;
      },
      60_000,
      100,
    );
  } catch (err) {
    // A fetch refused because it died meanwhile says less than how it died.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      throw err;
    }
  }
  if (!ready) throw new ExitedBeforeReady(child.signalCode ?? child.exitCode, output);
  return {
    url,
    pid: child.pid!,
    async kill(signal) {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
      return Date.now() - started;
    },
    signal(signal) {
      child.kill(signal);
    },
    output: () => (output.length < 65_536 ? output : `${head}\n…\n${output}`),
    exited,
  };
}
