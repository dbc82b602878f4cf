import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { createGuardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** `guardian keys …` as an operator runs it, on an embedded store in a fresh data folder. */
describe('guardian keys', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'guardian-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const guardian = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(ROOT, 'src/cli.ts'), 'keys', ...args], {
      env: { PATH: process.env.PATH, GUARDIAN_DATA_DIR: dir, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('creates a key shown once, lists it without its secret, revokes it; the running service honours it', async () => {
    const created = guardian(
      'create',
      '--name',
      'ci exporters',
      '--scope',
      'ingest',
      '--expires',
      '90d',
      '--json',
    );
    expect(created.status, created.stderr).toBe(0);
    const { id, key, scope, expiresAt } = JSON.parse(created.stdout) as Record<string, string>;
    expect(key).toMatch(new RegExp(`^gdn_${id}_[A-Za-z0-9_-]{43}$`));
    expect(scope).toBe('ingest');
    expect(Date.parse(expiresAt!) - Date.now()).toBeGreaterThan(89 * 86_400_000);

    const listed = guardian('list', '--json');
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        id,
        name: 'ci exporters',
        scope: 'ingest',
        state: 'active',
        revokedAt: null,
      }),
    ]);
    expect(listed.stdout).not.toContain(key!.slice(-43));

    // The service finds it in the same store: OTLP accepted with it, the API refused (scope).
    const service = await createGuardian(
      parseConfig({ port: 0, dataDir: dir, logLevel: 'silent', detection: { stateInterval: 0 } }),
      { logger: silentLogger() },
    );
    try {
      const auth = { authorization: `Bearer ${key}` };
      const push = await service.app.inject({
        method: 'POST',
        url: '/v1/metrics',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"resourceMetrics":[]}',
      });
      expect(push.statusCode).toBe(200);
      expect((await service.app.inject({ url: '/api/v1/incidents', headers: auth })).statusCode).toBe(403);
    } finally {
      await service.stop();
    }

    const revoked = guardian('revoke', id!);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toMatch(/^Revoked .* within 10 s/);
    expect(JSON.parse(guardian('list', '--json').stdout)[0]).toMatchObject({ id, state: 'revoked' });
    expect(guardian('revoke', 'nosuchkey0000000').status).toBe(1);
  }, 180_000);

  it('refuses bad input with exit status 2, naming the option', () => {
    for (const [args, message] of [
      [['create', '--scope', 'read'], /--name is required/],
      [['create', '--name', 'x', '--scope', 'root'], /--scope must be one of read, ingest, write, admin/],
      [['create', '--name', 'x', '--scope', 'read', '--expires', 'soon'], /--expires "soon"/],
      [['create', '--name', 'a;b', '--scope', 'read'], /--name: name must be/],
      [['rotate'], /unknown keys command "rotate"/],
      [['list', '--colour'], /Unknown option '--colour'/],
    ] as const) {
      const r = guardian(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  }, 180_000);
});
