import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { createGuardian, type Guardian } from '../../src/main.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startSlackStandIn } from '../fakes/slack-api.ts';
import { eventually } from '../support/eventually.ts';
import { faultScale, recordOutcome } from './scale.ts';
import {
  expectPostedExactlyOnce,
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  pushUntilTaken,
} from './support/pipeline.ts';

const TOKEN = 'xoxb-slack-faults';

/**
 * Slack misbehaving while incidents open: rate limited (429 with Retry-After) for a while, and
 * answering 5xx, or nothing at all, after it made the post. Expected: each incident posted once,
 * no sooner than Slack allowed, the post the store records.
 */
describe('fault matrix: Slack', () => {
  let guardian: Guardian | undefined;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>> | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await guardian?.stop();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function start() {
    dir = mkdtempSync(path.join(tmpdir(), 'guardian-slack-fault-'));
    slack = await startSlackStandIn({ token: TOKEN });
    guardian = await createGuardian(
      parseConfig({
        port: 0,
        host: '127.0.0.1',
        dataDir: dir,
        notify: { groupWait: 0 },
        slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
        detection: { tick: 200, thresholds: [MEMORY_RULE] },
      }),
      { logger: silentLogger() },
    );
    return { url: await guardian.listen(), slack };
  }

  it('429 with Retry-After: waits as told, then posts each incident once', async () => {
    const retryAfter = faultScale({ ci: 2, long: 60 });
    const refusals = faultScale({ ci: 3, long: 15 });
    const { url, slack } = await start();
    for (let i = 0; i < refusals; i++) slack.failNext('chat.postMessage', { status: 429, retryAfter });
    const started = Date.now();
    await pushUntilTaken(url, gaugeExport(['rl-0', 'rl-1'], 0.95));
    await eventually(
      async () => {
        const incidents = await listIncidents(url);
        expect(incidents.length).toBe(2);
        expect(incidents.every((i) => i.slack !== null)).toBe(true);
      },
      refusals * retryAfter * 1000 * 3 + 30_000,
      250,
    );
    const firstPost = slack.calls.find((c) => c.method === 'chat.postMessage' && c.status === 200);
    expect(firstPost!.at - started).toBeGreaterThanOrEqual(retryAfter * 1000);
    const outcome = await expectPostedExactlyOnce(url, slack);
    expect(outcome.posts).toBe(2);
    recordOutcome(`Slack 429 (Retry-After ${retryAfter} s) ×${refusals}`, {
      faults: refusals,
      ...outcome,
      signalsLost: 0,
    });
  }, 900_000);

  it.each([
    [
      '5xx after the post was made',
      (s: NonNullable<typeof slack>) => s.failNext('chat.postMessage', { status: 503, made: true }),
    ],
    [
      'the answer lost after the post was made',
      (s: NonNullable<typeof slack>) => s.loseNextResponse('chat.postMessage'),
    ],
  ])(
    '%s: the post is adopted, not made again',
    async (name, inject) => {
      const { url, slack } = await start();
      inject(slack);
      await pushUntilTaken(url, gaugeExport(['lost-0'], 0.95));
      await eventually(
        async () => {
          const incidents = await listIncidents(url);
          expect(incidents.length).toBe(1);
          expect(incidents.every((i) => i.slack !== null)).toBe(true);
        },
        60_000,
        250,
      );
      const outcome = await expectPostedExactlyOnce(url, slack);
      expect(outcome.posts).toBe(1);
      recordOutcome(`Slack ${name}`, { faults: 1, ...outcome, signalsLost: 0 });
    },
    120_000,
  );
});
