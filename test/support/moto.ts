import { spawn } from 'node:child_process';
import { needsExternal } from './external.ts';
import { freePort } from './net.ts';

/**
 * moto's server app (what `python3 -m moto.server` runs), served one request at a time. moto's
 * own entry point serves requests on threads, and its DynamoDB backend checks a condition and
 * writes without a lock, so two concurrent conditional updates can both succeed there; DynamoDB
 * applies each conditional write atomically, which one request at a time reproduces.
 */
const SERVE = `
import os, sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
os.environ.setdefault("MOTO_PORT", sys.argv[2])
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)
`;

/**
 * Starts moto's DynamoDB-compatible server on a free loopback port. Throws, with the fix, if moto
 * is not installed: the test never skips itself.
 */
export async function startMoto(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  needsExternal('a moto server (Python)');
  const port = await freePort();
  const child = spawn('python3', ['-c', SERVE, '127.0.0.1', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `moto server exited (${child.exitCode}); install it: pip install 'moto[server]'\n${output}`,
      );
    }
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`moto server did not answer on ${endpoint}\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
