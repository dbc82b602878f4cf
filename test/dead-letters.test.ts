import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { createGuardian, type Guardian } from '../src/main.ts';
import { jobsCommand } from '../src/queue/jobs-cli.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { eventually } from './support/eventually.ts';

const TOKEN = 'xoxb-dead-letters';

function gauge(host: string, value: number): string {
  const timeUnixNano = `${BigInt(Date.now()) * 1_000_000n}`;
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] },
        scopeMetrics: [
          { metrics: [{ name: 'dl.memory', gauge: { dataPoints: [{ asDouble: value, timeUnixNano }] } }] },
        ],
      },
    ],
  });
}

/** Captures what a CLI command writes. */
function sink() {
  const parts: string[] = [];
  return {
    write: (s: string) => {
      parts.push(s);
    },
    text: () => parts.join(''),
  };
}

/**
 * A job that failed for good is kept, listed by `GET /api/v1/dead-letters` and `guardian jobs
 * list`, and queued again by `guardian jobs replay` once the cause is fixed: here Slack refusing
 * the post (`invalid_auth`, permanent) until the token is fixed.
 */
describe('dead letters', () => {
  let guardian: Guardian;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN });
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-dead-letters-'));
    guardian = await createGuardian(
      parseConfig({
        port: 0,
        host: '127.0.0.1',
        dataDir,
        notify: { groupWait: 0 },
        slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
        detection: {
          tick: 200,
          thresholds: [{ id: 'dl', metric: 'dl.memory', op: '>', value: 0.9, severity: 'high', title: 'DL' }],
        },
      }),
      { logger: silentLogger() },
    );
    url = await guardian.listen();
  });
  afterAll(async () => {
    await guardian?.stop();
    await slack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a notify job Slack refused for good, lists it, and posts once when replayed', async () => {
    slack.failNext('chat.postMessage', { error: 'invalid_auth' });
    const pushed = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: gauge('dl-1', 0.95),
    });
    expect(pushed.status).toBe(200);
    const [letter] = await eventually(async () => {
      const res = await fetch(`${url}/api/v1/dead-letters?queue=notify`);
      expect(res.status).toBe(200);
      const { deadLetters } = (await res.json()) as { deadLetters: { id: string; error: string }[] };
      expect(deadLetters).toHaveLength(1);
      return deadLetters;
    });
    expect(letter!.error).toMatch(/invalid_auth/);
    expect(JSON.stringify(letter)).not.toContain(TOKEN);

    const listed = sink();
    expect(await jobsCommand(['list', '--url', url], listed, sink())).toBe(0);
    expect(listed.text()).toContain(letter!.id);

    const missing = sink();
    expect(await jobsCommand(['replay', 'notify', 'no-such-job', '--url', url], sink(), missing)).toBe(1);
    expect(missing.text()).toMatch(/404/);

    expect(await jobsCommand(['replay', 'notify', letter!.id, '--url', url], sink(), sink())).toBe(0);
    await eventually(() => {
      const posts = slack.messages().filter((m) => !m.threadTs);
      expect(posts).toHaveLength(1);
    });
    const after = (await (await fetch(`${url}/api/v1/dead-letters`)).json()) as { deadLetters: unknown[] };
    expect(after.deadLetters).toEqual([]);
    expect(await jobsCommand(['replay', 'notify'], sink(), sink())).toBe(2);
  });
});
