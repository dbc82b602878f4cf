import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('GUARDIAN_ENV=production', () => {
  it('refuses to serve on the embedded store and the in-process queue, naming both', async () => {
    const result = await run(process.execPath, ['src/cli.ts', 'serve'], {
      cwd: root,
      env: { PATH: process.env.PATH, GUARDIAN_ENV: 'production', PORT: '0', NODE_ENV: 'production' },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration:\s+environment: GUARDIAN_ENV=production needs/);
    expect(result.stderr).toContain('GUARDIAN_STORE=dynamodb');
    expect(result.stderr).toContain('REDIS_URL');
  });
});
