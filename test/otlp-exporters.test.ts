import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { createGuardian, type Guardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { installPythonLock } from './engines/python-venv.ts';
import { eventually } from './support/eventually.ts';
import { needsExternal } from './support/external.ts';

const HERE = import.meta.dirname;
/** A series silent this long would be "stopped reporting": longer than a restart takes. */
const STALE_AFTER_MS = 5000;

type Sdk = 'js' | 'python';

interface IncidentDetail {
  id: string;
  status: string;
  title: string;
  signals: { kind: string; status: string; title: string; entity: string }[];
}

/**
 * The real OpenTelemetry SDKs (JS and Python, pinned) export to Guardian from a child process,
 * which the test kills and starts again, as a deploy or a crash would: the new process has a new
 * `service.instance.id`, a new pid and counters that start again from 0. It must continue the
 * same series: no "stopped reporting" incident, and the threshold incident the first process
 * opened (errors counted) clears once the new one reports no errors.
 */
describe.each(['js', 'python'] as const)('a restarted %s SDK exporter', (sdk: Sdk) => {
  let guardian: Guardian;
  let url: string;
  let dataDir: string;
  let python: string | undefined;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    needsExternal(sdk === 'python' ? 'Python (the OpenTelemetry SDK)' : 'a Node exporter process');
    if (sdk === 'python') {
      const bin = await installPythonLock(
        'otel-python',
        path.join(HERE, 'exporters/python-requirements.lock'),
      );
      python = path.join(bin, 'python');
    }
    dataDir = mkdtempSync(path.join(tmpdir(), `guardian-otel-${sdk}-`));
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      notify: { groupWait: 0 },
      detection: {
        tick: 200,
        stateInterval: 0,
        thresholds: [{ id: 'ingest-errors', metric: 'ingest.errors', op: '>', value: 0, severity: 'high' }],
        staleness: [{ id: 'ingest-rows', metric: 'ingest.rows', after: `${STALE_AFTER_MS}ms` }],
      },
    });
    guardian = await createGuardian(config, { logger: silentLogger() });
    url = await guardian.listen();
  }, 15 * 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await guardian?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function startExporter(errorsPerTick: number): Promise<ChildProcess> {
    const env = { ...process.env, OTLP_URL: `${url}/v1/metrics`, ERRORS_PER_TICK: String(errorsPerTick) };
    const child =
      sdk === 'js'
        ? spawn(process.execPath, [path.join(HERE, 'exporters/js-exporter.ts')], { env })
        : spawn(python!, [path.join(HERE, 'exporters/python-exporter.py')], { env });
    children.push(child);
    let output = '';
    child.stderr!.on('data', (d) => {
      output += String(d);
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        if (String(d).includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exporter exited with ${code}: ${output}`)));
    });
    return child;
  }

  async function stop(child: ChildProcess): Promise<void> {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async function incidents(): Promise<IncidentDetail[]> {
    const { incidents: list } = (await (await fetch(`${url}/api/v1/incidents`)).json()) as {
      incidents: { id: string }[];
    };
    return Promise.all(
      list.map(
        async (i) => (await (await fetch(`${url}/api/v1/incidents/${i.id}`)).json()) as IncidentDetail,
      ),
    );
  }

  async function seriesOf(name: string) {
    const { series } = (await (await fetch(`${url}/api/v1/series?limit=1000`)).json()) as {
      series: { series: string; name: string; label: string; lastValue: number; lastSeen: string }[];
    };
    return series.filter((s) => s.name === name);
  }

  it('continues its series: no silence incident, and the error incident clears', async () => {
    const first = await startExporter(1);
    const open = await eventually(async () => {
      const all = await incidents();
      expect(all).toHaveLength(1);
      expect(all[0]!.status).toBe('open');
      return all[0]!;
    }, 20_000);
    expect(open.title).toBe(open.title.slice(0, 100));
    expect(open.title).toMatch(/^ingest\.errors of lambda-ingestion on web-vitals-crm: rate [\d.]+\/s > 0$/);
    const [rowsBefore] = await eventually(async () => {
      const rows = await seriesOf('ingest.rows');
      expect(rows).toHaveLength(1);
      return rows;
    });

    await stop(first);
    const stoppedAt = Date.now();
    await startExporter(0);

    const cleared = await eventually(async () => {
      const all = await incidents();
      expect(all.map((i) => i.status)).toEqual(['resolved']);
      return all[0]!;
    }, 30_000);
    expect(cleared.id).toBe(open.id);
    // Past the point where the first process' series would have been "stopped reporting".
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + STALE_AFTER_MS + 1500 - Date.now())));
    await guardian.idle();

    const all = await incidents();
    expect(all).toHaveLength(1);
    // The errors' breach, and (when the young error rate's jump from 0 is one) its anomaly, about the
    // same series: never a silence or staleness signal for the restarted process' series.
    const signals = all.flatMap((i) => i.signals);
    expect(signals.map((s) => s.kind)).toContain('metric.threshold');
    expect(signals.filter((s) => s.kind !== 'metric.threshold' && s.kind !== 'metric.anomaly')).toEqual([]);
    expect(new Set(signals.map((s) => s.entity)).size).toBe(1);
    const rows = await seriesOf('ingest.rows');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.series).toBe(rowsBefore!.series);
    expect(rows[0]!.label).toBe('ingest.rows of lambda-ingestion on web-vitals-crm');
    expect(Date.parse(rows[0]!.lastSeen)).toBeGreaterThan(stoppedAt);
    expect(rows[0]!.series).not.toContain('service.instance.id');
  }, 90_000);
});
