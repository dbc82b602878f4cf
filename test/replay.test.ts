import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Each test spawns `guardian replay` (a storm replays twice): generous for a loaded CI machine.
vi.setConfig({ testTimeout: 300_000 });

const ROOT = path.resolve(import.meta.dirname, '..');
const DEMO = path.join(ROOT, 'src/demo/nightly-spot-loss.json');
const work = mkdtempSync(path.join(tmpdir(), 'guardian-replay-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function guardian(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'src/cli.ts'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('guardian replay', () => {
  it('names a bad detection parameter set in the environment, and the variable', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'src/cli.ts'), 'replay', DEMO, '--out', path.join(work, 'bad.json')],
      { cwd: work, encoding: 'utf8', env: { ...process.env, GUARDIAN_LOG_STREAM_HISTORY: 'soon' } },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('detection.logStreamHistory');
    expect(r.stderr).toContain('GUARDIAN_LOG_STREAM_HISTORY');
  });

  it('writes the incidents export, and the same scenario replayed twice gives byte-identical exports', () => {
    const a = path.join(work, 'a.json');
    const b = path.join(work, 'b.json');
    const first = guardian('replay', DEMO, '--out', a);
    expect(first.stderr).toBe(''); // not a terminal: no progress bar
    expect(first.status).toBe(0);
    expect(guardian('replay', DEMO, '--out', b).status).toBe(0);
    const bytes = readFileSync(a);
    expect(readFileSync(b).equals(bytes)).toBe(true);

    const exported = JSON.parse(bytes.toString('utf8'));
    expect(exported.format).toBe('guardian-incidents/1');
    expect(exported.scenario).toBe('demo-nightly-spot-loss');
    expect(exported.incidents.length).toBeGreaterThan(0);
    const start = Date.parse('2026-09-14T01:50:00Z');
    const end = Date.parse('2026-09-14T03:20:00Z');
    for (const i of exported.incidents) {
      expect(i.id).toMatch(/^inc_/);
      // virtual time, inside the scenario
      expect(Date.parse(i.opened_at)).toBeGreaterThanOrEqual(start);
      expect(Date.parse(i.opened_at)).toBeLessThanOrEqual(end);
      for (const n of i.notifications) {
        expect(['post', 'thread', 'update']).toContain(n.kind);
        expect(Date.parse(n.at)).toBeLessThanOrEqual(end);
      }
      // canonical entity keys, sorted
      for (const e of i.entities) expect(e).toMatch(/^(airflow|spark|host|metric|log):/);
      expect([...i.entities].sort()).toEqual(i.entities);
    }
    // the lost worker's host is in what Guardian reported
    expect(
      exported.incidents.some((i: { entities: string[] }) => i.entities.includes('host:10.0.6.44')),
    ).toBe(true);
  });

  it('gives byte-identical exports for an outage with a storm of concurrent failures too', () => {
    // Many signals and notifications in one step: the order of the pipeline's work must not leak
    // into the export.
    const storm = path.resolve(ROOT, '../shared/scenarios/open/open-03-connect-server-down.json');
    const a = path.join(work, 'storm-a.json');
    const b = path.join(work, 'storm-b.json');
    expect(guardian('replay', storm, '--out', a).status).toBe(0);
    expect(guardian('replay', storm, '--out', b).status).toBe(0);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
  });

  it('rejects a scenario that breaks the format with exit status 2, naming the field and position', () => {
    const scenario = JSON.parse(readFileSync(DEMO, 'utf8'));
    scenario.metrics[1].values[7] = 'high';
    const bad = path.join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify(scenario));
    const r = guardian('replay', bad, '--out', path.join(work, 'never.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('metrics[1].values[7]');
    expect(r.stderr).toContain('bad.json');

    const notJson = path.join(work, 'broken.json');
    writeFileSync(notJson, '{"format": "guardian-scenario/1",');
    const r2 = guardian('replay', notJson, '--out', path.join(work, 'never.json'));
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/broken\.json/);

    const missing = guardian('replay', DEMO);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--out');
  });

  it('refuses a scenario whose end is not after its start', () => {
    const scenario = JSON.parse(readFileSync(DEMO, 'utf8'));
    scenario.end = scenario.start;
    const bad = path.join(work, 'backwards.json');
    writeFileSync(bad, JSON.stringify(scenario));
    const r = guardian('replay', bad, '--out', path.join(work, 'never.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('end');
  });
});

describe('guardian demo', () => {
  it('replays the shipped scenario and prints the Slack messages as text', () => {
    const r = guardian('demo', '--port', '0', '--exit');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('demo-nightly-spot-loss');
    expect(r.stdout).toMatch(/What Guardian posted to Slack \(\d+ messages\)/);
    expect(r.stdout).toContain('new message in #');
    expect(r.stdout).toContain('10.0.6.44');
    expect(r.stdout).toMatch(/The HTTP API is up: http:\/\/127\.0\.0\.1:\d+\/docs/);
  });

  it('replays the night --scenario names instead, and names a file it cannot read', () => {
    const night = path.resolve(ROOT, '../shared/scenarios/open/open-03-connect-server-down.json');
    const r = guardian('demo', '--scenario', night, '--port', '0', '--exit');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Replaying "open-03-connect-server-down"');
    expect(r.stdout).not.toContain('demo-nightly-spot-loss');
    expect(r.stdout).toMatch(/What Guardian posted to Slack \(\d+ messages\)/);
    expect(r.stdout).toContain('new message in #');

    const missing = guardian(
      'demo',
      '--scenario',
      path.join(work, 'no-such-night.json'),
      '--port',
      '0',
      '--exit',
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no-such-night.json');
  });
});
