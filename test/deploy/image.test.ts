import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/net.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/** What the runtime stage of the Dockerfile copies from the build context, and runs. */
function readDockerfile() {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;
  const deps = stages[0]!;
  const copies = [...runtime.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((m) =>
    m[1]!.split(/\s+/),
  );
  const depsCopies = [...deps.matchAll(/^COPY (?:--\S+ )*(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
  const healthcheck = JSON.parse(/HEALTHCHECK .*?CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
  const install = /^RUN (npm ci[^&\n]*)/m.exec(deps)![1]!.trim().split(/\s+/);
  const env = Object.fromEntries(
    [...(/^ENV (.+)$/m.exec(runtime)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
  );
  return { copies: [...new Set([...depsCopies, ...copies])], cmd, healthcheck, install, env };
}

/**
 * No Docker engine runs here, so this builds what the image holds by hand: a clean copy of what
 * the Dockerfile copies, `npm ci --omit=dev` as its deps stage runs it, then the image's CMD and
 * HEALTHCHECK on Node 24 (the image's Node), and SIGTERM as ECS sends it.
 */
describe('the Docker image would run', () => {
  const docker = readDockerfile();
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'guardian-image-'));
    for (const src of docker.copies) cpSync(path.join(root, src), path.join(dir, src), { recursive: true });
    const [npm, ...npmArgs] = docker.install;
    expect(npm).toBe('npm');
    await run('npm', npmArgs, {
      cwd: dir,
      env: { ...process.env, npm_config_prefer_offline: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 300_000);

  // Removing the copied node_modules took over three minutes on a busy machine.
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }, 600_000);

  it('installs production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    for (const dev of ['vitest', 'typescript', '@biomejs/biome', 'aws-cdk-lib', 'cdk-nag', 'constructs']) {
      expect(pkg.devDependencies[dev], dev).toBeDefined();
      expect(() => readFileSync(path.join(dir, 'node_modules', dev, 'package.json')), dev).toThrow();
    }
  });

  it('starts with the image command once a key exists, passes its health check, and exits cleanly on SIGTERM', async () => {
    port = await freePort();
    const [command, ...args] = docker.cmd;
    expect(command).toBe('node');
    // The image's environment (HOST=0.0.0.0 among it), with a free port and a fresh data folder.
    expect(docker.env.HOST).toBe('0.0.0.0');
    const env = {
      PATH: process.env.PATH,
      ...docker.env,
      PORT: String(port),
      GUARDIAN_DATA_DIR: path.join(dir, 'data'),
    };
    // Listening on 0.0.0.0 with no API key: refused, naming the setting and the way out.
    const refused = await run(process.execPath, args, { cwd: dir, env }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? '' }),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/invalid configuration:\s+host: .*guardian keys create/);
    // As an operator would: create a key with the image's CLI, then start.
    const created = await run(
      process.execPath,
      [args[0]!, 'keys', 'create', '--name', 'image-test', '--scope', 'read', '--json'],
      {
        cwd: dir,
        env,
      },
    );
    const { key } = JSON.parse(created.stdout) as { id: string; key: string };
    child = spawn(process.execPath, args, {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));

    await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(res.status).toBe(200);
      },
      60_000,
      200,
    );

    expect((await fetch(`http://127.0.0.1:${port}/api/v1/incidents`)).status).toBe(401);
    const listed = await fetch(`http://127.0.0.1:${port}/api/v1/incidents`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(listed.status).toBe(200);

    const [hcCommand, ...hcArgs] = docker.healthcheck;
    expect(hcCommand).toBe('node');
    const hc = await run(process.execPath, hcArgs, { env: { ...process.env, PORT: String(port) } }).then(
      () => 0,
      (err: { code?: number }) => err.code ?? 1,
    );
    expect(hc).toBe(0);

    // Logs are structured JSON, one object per line.
    const firstLine = output.split('\n').find((l) => l.trim().startsWith('{'));
    expect(JSON.parse(firstLine!)).toMatchObject({ level: 'info', service: 'guardian' });

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
  }, 120_000);
});
