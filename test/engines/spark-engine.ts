import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../support/net.ts';
import { installPythonLock } from './python-venv.ts';

const here = import.meta.dirname;

/** Installs pyspark (with the Connect client) from the pinned lock; Spark 4 runs on the machine's Java 17. */
export function installSpark(): Promise<string> {
  return installPythonLock('spark', path.join(here, 'spark-requirements.lock'));
}

/** A process started in its own group, so it and what it spawned (executors) die together. */
export class EngineProcess {
  readonly name: string;
  #child: ChildProcess | undefined;
  #out = '';
  readonly #start: () => ChildProcess;

  constructor(name: string, start: () => ChildProcess) {
    this.name = name;
    this.#start = start;
  }

  start(): this {
    this.#out = '';
    const child = this.#start();
    child.stdout?.on('data', (d) => (this.#out = (this.#out + d).slice(-100_000)));
    child.stderr?.on('data', (d) => (this.#out = (this.#out + d).slice(-100_000)));
    this.#child = child;
    return this;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  output(): string {
    return this.#out;
  }

  /** Kills the whole process group (SIGKILL: a host that vanishes does not shut down politely). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return;
    }
    await exited;
  }
}

export interface SparkCluster {
  readonly masterUi: string;
  readonly masterUrl: string;
  readonly driverUi: string;
  readonly connectEndpoint: string;
  readonly python: string;
  readonly master: EngineProcess;
  readonly worker: EngineProcess;
  readonly connect: EngineProcess;
  stopAll(): Promise<void>;
}

/**
 * A Spark standalone cluster on loopback, as on EC2 but small: a master, one worker, and a Spark
 * Connect server (the pip package has no start-*.sh scripts, so the classes are started directly).
 */
export async function startSparkCluster(bin: string): Promise<SparkCluster> {
  const sparkHome = path.join(path.dirname(bin), 'lib', 'python3.11', 'site-packages', 'pyspark');
  const work = mkdtempSync(path.join(tmpdir(), 'guardian-spark-'));
  const [masterPort, masterUiPort, workerUiPort, connectPort, driverUiPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const env = {
    ...process.env,
    SPARK_HOME: sparkHome,
    SPARK_LOCAL_IP: '127.0.0.1',
    SPARK_LOG_DIR: work,
    PATH: `${bin}:${process.env.PATH}`,
  };
  const sparkClass = path.join(sparkHome, 'bin', 'spark-class');
  const masterUrl = `spark://127.0.0.1:${masterPort}`;
  const run = (name: string, cmd: string, args: string[]) =>
    new EngineProcess(name, () =>
      spawn(cmd, args, { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }),
    );

  const master = run('master', sparkClass, [
    'org.apache.spark.deploy.master.Master',
    '--host',
    '127.0.0.1',
    '--port',
    String(masterPort),
    '--webui-port',
    String(masterUiPort),
  ]).start();
  const masterUi = `http://127.0.0.1:${masterUiPort}`;
  await until(
    () => fetch(`${masterUi}/json/`).then((r) => r.ok),
    60_000,
    () => master.output(),
    'Spark master',
  );

  const worker = run('worker', sparkClass, [
    'org.apache.spark.deploy.worker.Worker',
    masterUrl,
    '--webui-port',
    String(workerUiPort),
    '--cores',
    '2',
    '--memory',
    '2g',
    '--work-dir',
    path.join(work, 'worker'),
  ]).start();
  await until(
    async () =>
      ((await (await fetch(`${masterUi}/json/`)).json()) as { aliveworkers: number }).aliveworkers >= 1,
    60_000,
    () => worker.output(),
    'Spark worker',
  );

  const connect = run('connect', path.join(sparkHome, 'bin', 'spark-submit'), [
    '--class',
    'org.apache.spark.sql.connect.service.SparkConnectServer',
    '--name',
    'Spark Connect server',
    '--master',
    masterUrl,
    '--conf',
    `spark.connect.grpc.binding.port=${connectPort}`,
    '--conf',
    `spark.ui.port=${driverUiPort}`,
    '--conf',
    'spark.executor.cores=1',
    '--conf',
    'spark.executor.memory=512m',
    '--conf',
    'spark.cores.max=2',
    path.join(sparkHome, 'jars', 'spark-connect_2.13-4.0.1.jar'),
  ]).start();
  const driverUi = `http://127.0.0.1:${driverUiPort}`;
  await until(
    async () => {
      const apps = (await (await fetch(`${driverUi}/api/v1/applications`)).json()) as unknown[];
      const execs = (await (
        await fetch(`${driverUi}/api/v1/applications/${(apps[0] as { id: string }).id}/executors`)
      ).json()) as unknown[];
      return execs.length >= 2; // the driver and at least one executor
    },
    120_000,
    () => connect.output(),
    'Spark Connect server',
  );
  return {
    masterUi,
    masterUrl,
    driverUi,
    connectEndpoint: `sc://127.0.0.1:${connectPort}`,
    python: path.join(bin, 'python'),
    master,
    worker,
    connect,
    async stopAll() {
      await Promise.all([connect.kill(), worker.kill(), master.kill()]);
    },
  };
}

export async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  output: () => string,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
