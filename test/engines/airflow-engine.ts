import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../support/net.ts';
import { installPythonLock } from './python-venv.ts';

const here = import.meta.dirname;
const LOCK = path.join(here, 'airflow-requirements.lock');

/** Installs Airflow from the pinned lock into the engine cache (once). Returns the venv's bin folder. */
export function installAirflow(): Promise<string> {
  return installPythonLock('airflow', LOCK);
}

export interface AirflowUnderTest {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly home: string;
  /** Starts (or restarts) `airflow standalone`; resolves when the API answers. */
  start(): Promise<void>;
  /** Stops every Airflow process (SIGTERM to the process group, then SIGKILL). */
  stop(): Promise<void>;
  /** Output so far, for failure messages. */
  output(): string;
}

/**
 * `airflow standalone` in a temporary AIRFLOW_HOME on a free loopback port, with a known user
 * and the test DAGs. Airflow's task runner reaches the API server's Execution API, whose URL
 * must follow the port (it defaults to 8080).
 */
export async function airflowStandalone(
  bin: string,
  extraEnv: Record<string, string> = {},
): Promise<AirflowUnderTest> {
  const home = mkdtempSync(path.join(tmpdir(), 'guardian-airflow-'));
  const dags = path.join(home, 'dags');
  cpSync(path.join(here, 'dags'), dags, { recursive: true });
  const password = 'guardian-engine-test';
  writeFileSync(path.join(home, 'passwords.json'), JSON.stringify({ guardian: password }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let out = '';
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: dags,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False',
    AIRFLOW__API__PORT: String(port),
    AIRFLOW__API__HOST: '127.0.0.1',
    AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `${url}/execution/`,
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: 'guardian:admin',
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: path.join(home, 'passwords.json'),
    AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '5',
    AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL: '5',
    ...extraEnv,
  };

  async function start() {
    out = '';
    child = spawn(path.join(bin, 'airflow'), ['standalone'], {
      cwd: home,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
    child.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`airflow standalone exited (${child.exitCode}):\n${out.slice(-5000)}`);
      const ok = await fetch(`${url}/api/v2/monitor/health`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`airflow standalone did not answer on ${url}:\n${out.slice(-5000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async function stop() {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    try {
      process.kill(-c.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 20_000);
    await exited;
    clearTimeout(timer);
    // Children of the group (api-server, scheduler…) may outlive the parent briefly.
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // all gone
    }
  }

  return { url, username: 'guardian', password, home, start, stop, output: () => out };
}
