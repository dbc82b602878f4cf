import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// Spawns node on bench/correlate.ts, a few seconds on a loaded machine: generous.
vi.setConfig({ testTimeout: 120_000 });

const ROOT = path.resolve(import.meta.dirname, '..');

/** One figures line of the bench: workload, signals, seconds, signals/s, per CPU-s, incidents. */
const LINE =
  /^(?<name>.+?)\s+(?<signals>\d+) signals\s+(?<secs>\d+\.\d\d) s\s+(?<rate>[\d,]+) signals\/s\s+(?<cpu>[\d,]+) per CPU-s\s+(?<incidents>\d+) incidents$/;

function bench(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bench/correlate.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * bench/correlate.ts is not imported by anything else, and its in-memory store is cast to the
 * store's interface: a correlator change can break it without tsc noticing (it once did). Run
 * it at a tiny size and check it finishes with the figures and the incidents it should.
 */
describe('bench/correlate', () => {
  it('runs both workloads and prints their figures with one incident per DAG, one for the storm', () => {
    const r = bench('--signals', '120');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const rows = lines.map((l) => {
      const m = LINE.exec(l);
      expect(m, `a figures line: ${l}`).not.toBeNull();
      const g = m!.groups!;
      return {
        name: g.name!,
        signals: Number(g.signals),
        secs: Number(g.secs),
        rate: Number(g.rate!.replaceAll(',', '')),
        cpu: Number(g.cpu!.replaceAll(',', '')),
        incidents: Number(g.incidents),
      };
    });
    expect(rows.map((x) => x.name)).toEqual(['independent failures (+ downstream)', 'storm: one outage']);
    // 120 signals are 60 failures (a retry and its downstream task each), of 60 DAGs: 60 incidents.
    expect(rows[0]).toMatchObject({ signals: 120, incidents: 60 });
    // The storm is one Spark Connect outage failing 120 tasks: one incident.
    expect(rows[1]).toMatchObject({ signals: 120, incidents: 1 });
    for (const x of rows) {
      expect(x.rate).toBeGreaterThan(0);
      expect(x.cpu).toBeGreaterThan(0);
      expect(Number.isFinite(x.secs)).toBe(true);
    }
  });

  it('refuses a size that is not a whole number of signals, naming the option', () => {
    for (const bad of ['0', 'lots', '2.5']) {
      const r = bench('--signals', bad);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('--signals');
      expect(r.stderr).toContain(bad);
    }
  });
});
