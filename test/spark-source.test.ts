import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createSparkSource } from '../src/sources/spark/source.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

/** The Spark source's handling of bad and partial answers (against real Spark: test/engines). */
describe('Spark source', () => {
  let server: Server;
  let url: string;
  let answer: (path: string, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => answer(req.url ?? '', res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const master = {
    url: 'spark://10.0.0.10:7077',
    workers: [{ id: 'worker-1', host: '10.0.3.17', state: 'ALIVE', cores: 16 }],
  };
  const source = (over: Record<string, string> = {}) =>
    createSparkSource({
      masterUrl: url,
      driverUrl: url,
      clock: new ManualClock(0),
      logger: silentLogger(),
      timeoutMs: 5_000, // the stand-in answers at once; 500 ms was flaky on a loaded machine
      ...over,
    });

  it('names an HTML error page and a non-JSON answer', async () => {
    answer = (_p, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>HTTP ERROR 404</body></html>');
    };
    await expect(source().poll()).rejects.toThrow(/json\/: HTTP 404 \(an HTML page\)/);
    answer = (_p, res) => {
      res.writeHead(200);
      res.end('{"workers": [');
    };
    await expect(source().poll()).rejects.toThrow(/not JSON/);
  });

  it('reports Spark Connect down (and keeps the master’s news) when the driver UI is gone with it', async () => {
    answer = (p, res) => {
      if (p === '/json/') return json(res, master);
      res.writeHead(502);
      res.end('bad gateway');
    };
    const obs = await source({ connectEndpoint: 'sc://127.0.0.1:9' }).poll();
    expect(
      obs.map((o) => [
        o.type,
        'entity' in o ? o.entity : '',
        o.type === 'health' ? o.healthy : o.type === 'state' ? o.to : '',
      ]),
    ).toEqual([
      ['state', 'spark:worker:worker-1', 'ALIVE'],
      ['health', 'spark:connect:sc://127.0.0.1:9', false],
    ]);
  });

  it('loses nothing when a poll fails half-way: the next poll reports it all', async () => {
    let driverUp = false;
    answer = (p, res) => {
      if (p === '/json/') return json(res, master);
      if (!driverUp) {
        res.writeHead(500);
        return res.end('boom');
      }
      if (p === '/api/v1/applications') return json(res, [{ id: 'app-1' }]);
      if (p.endsWith('/jobs'))
        return json(res, [
          { jobId: 3, status: 'FAILED', stageIds: [7], completionTime: '2026-03-02T02:11:05.120GMT' },
        ]);
      if (p.includes('/stages'))
        return json(res, [
          { stageId: 7, attemptId: 0, status: 'FAILED', failureReason: 'ExecutorLostFailure' },
        ]);
      if (p.endsWith('/allexecutors')) return json(res, [{ id: 'driver', hostPort: 'd:1', isActive: true }]);
      json(res, []);
    };
    const s = source();
    await expect(s.poll()).rejects.toThrow(/HTTP 500/);
    driverUp = true;
    const obs = await s.poll();
    expect(obs.map((o) => ('entity' in o ? o.entity : ''))).toEqual([
      'spark:worker:worker-1',
      'spark:job:app-1/3',
    ]);
    const job = obs[1]!;
    expect(job.type === 'state' && job.details.failureReason).toBe('ExecutorLostFailure');
    expect(job.time).toBe(Date.parse('2026-03-02T02:11:05.120Z'));
    expect(await s.poll()).toEqual([]);
  });
});
