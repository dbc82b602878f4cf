import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

function guardian(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('guardian CLI', { timeout: 120_000 }, () => {
  it('gives each command its own help', () => {
    const r = guardian(['replay', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: guardian replay FILE --out EXPORT\.json/);
    expect(r.stdout).toContain('--out-dir VALUE');
    expect(r.stdout).not.toContain('Commands:');
  });

  it('names an unknown option and shows that command’s usage', () => {
    const r = guardian(['replay', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('replay: unknown option --bogus');
    expect(r.stderr).toContain('Usage: guardian replay');
    expect(r.stderr).not.toContain('place it before or after');
  });

  it('names an unknown command and lists the others', () => {
    const r = guardian(['serv']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "serv" \(commands: serve, config,/);
  });

  it('reports every bad setting at once, with the variable that set it', () => {
    const r = guardian(['config'], { PORT: 'abc', LOG_LEVEL: 'loud', GUARDIAN_STORE: 'mysql' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('port:');
    expect(r.stderr).toContain('(set by PORT)');
    expect(r.stderr).toContain('(set by LOG_LEVEL)');
    expect(r.stderr).toContain('(set by GUARDIAN_STORE)');
  });
});
