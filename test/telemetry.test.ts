import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMetricsRequest } from '../src/sources/otlp/decode-protobuf.ts';
import { eventually } from './support/eventually.ts';
import { freePort } from './support/net.ts';
import { gaugeRequest } from './support/protobuf-writer.ts';

const root = path.resolve(import.meta.dirname, '..');

/**
 * Guardian's own telemetry, as an operator turns it on: the standard OTEL_* variables point the
 * OpenTelemetry Node SDK at a collector (here a local capture server), and Guardian's metrics and
 * traces arrive there over OTLP/HTTP protobuf.
 */
describe('self-observability', () => {
  let collector: Server;
  const received: { path: string; body: Buffer }[] = [];
  let guardian: ChildProcess;
  let port: number;
  let dataDir: string;
  let logs = '';

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    port = await freePort();
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-telemetry-'));
    guardian = spawn(process.execPath, ['src/cli.ts', 'serve'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        GUARDIAN_DATA_DIR: dataDir,
        OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
        OTEL_METRIC_EXPORT_INTERVAL: '300',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_SERVICE_NAME: 'guardian-under-test',
        SLACK_BOT_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    guardian.stdout!.on('data', (d) => (logs += d));
    guardian.stderr!.on('data', (d) => (logs += d));
    await eventually(
      async () => expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200),
      // A cold start on a loaded two-core machine (the first import of the SDKs) can take a while.
      75_000,
      100,
    );
  }, 90_000);

  afterAll(async () => {
    if (guardian && guardian.exitCode === null) {
      const exited = new Promise((r) => guardian.once('exit', r));
      guardian.kill('SIGTERM');
      await exited;
    }
    collector?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports its ingest counters and its traces over OTLP when an endpoint is set', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(
        gaugeRequest('m', [
          { nanos: BigInt(Date.now()) * 1_000_000n, value: 1 },
          { nanos: 0n, value: 2 },
        ]),
      ),
    });
    expect(res.status).toBe(200);

    const names = await eventually(
      () => {
        const metricNames = new Set<string>();
        for (const r of received.filter((x) => x.path === '/v1/metrics')) {
          for (const rm of decodeMetricsRequest(r.body).resourceMetrics) {
            expect(rm.attributes['service.name']).toBe('guardian-under-test');
            for (const m of rm.metrics) metricNames.add(m.name);
          }
        }
        expect(metricNames).toContain('guardian.otlp.points.accepted');
        expect(metricNames).toContain('guardian.otlp.points.rejected');
        return metricNames;
      },
      15_000,
      100,
    );
    expect(names).toContain('guardian.queue.depth');
    await eventually(
      () => expect(received.some((r) => r.path === '/v1/traces' && r.body.length > 0)).toBe(true),
      15_000,
      100,
    );
    expect(JSON.parse(logs.split('\n').find((l) => l.includes('Guardian is up'))!)).toMatchObject({
      telemetry: true,
    });
  });
});
