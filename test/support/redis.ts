import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { needsExternal } from './external.ts';
import { freePort } from './net.ts';

export interface StartRedisOptions {
  /** Listen on this port (a restart on the port a client knows). @defaultValue a free port */
  port?: number;
  /**
   * Keep data in an append-only file in this folder, so a restart finds it again.
   * @defaultValue nothing saved to disk
   */
  appendOnlyDir?: string;
}

/** A running throwaway redis-server. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it (SIGTERM, then waits for the exit). */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` on a loopback port (by default a free one, nothing saved to
 * disk). Throws, with the fix, if redis-server is not installed: a test that needs Redis never
 * skips itself.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  needsExternal('redis-server');
  const port = options.port ?? (await freePort());
  const persistence = options.appendOnlyDir
    ? ['--dir', options.appendOnlyDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', ...persistence, '--maxmemory-policy', 'noeviction'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(
        new Error(`cannot start redis-server (${err.message}); install it: apt-get install redis-server`),
      ),
    ),
  );
  const deadline = Date.now() + 10_000;
  await Promise.race([
    spawnError,
    (async () => {
      while (!(await ping(port))) {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
  ]);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}
