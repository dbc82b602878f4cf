import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { createGuardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startAnthropicStandIn } from './fakes/anthropic-api.ts';
import { spotLossIncident } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { eventually } from './support/eventually.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TOKEN = 'xoxb-shutdown-test';

/**
 * Shutdown (a deploy) while the notifier has work in the background: the first post went out
 * with the template (the draft missed its budget), the draft arrives later and edits it. Stop
 * waits for it, within the shutdown deadline, before the queues and the store close under it.
 */
describe('stop waits for the notifier and the Slack app', () => {
  it('a late draft still edits the message when stop begins before it arrives', async () => {
    const slack = await startSlackStandIn({ token: TOKEN });
    const model = await startAnthropicStandIn({ apiKey: 'sk-ant-shutdown' });
    model.fallback = {
      kind: 'tool_use',
      delayMs: 1_500,
      input: {
        title: 'Spot loss of 10.0.4.161 failed payments_daily (late draft)',
        summary: 'Worker 10.0.4.161 was reclaimed at 02:10 UTC.',
        probable_cause: { text: 'A spot interruption.', confidence: 0.8 },
        impact: 'payments_daily is late.',
        next_steps: ['Clear the failed tasks once the worker is back.'],
        runbook_ids: ['spot-loss'],
      },
    };
    const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-shutdown-'));
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts', signingSecret: SECRET },
      llm: { apiKey: 'sk-ant-shutdown', baseUrl: model.url, budget: '200ms' },
      notify: { groupWait: 0 },
    });
    try {
      const guardian = await createGuardian(config, { logger: silentLogger() });
      await guardian.store.create(spotLossIncident('inc_stop'));
      await guardian.queues.notify.add('inc_stop@1', {
        incidentId: 'inc_stop',
        version: 1,
        change: 'opened',
      });
      await eventually(() => expect(slack.messages().filter((m) => !m.threadTs)).toHaveLength(1), 10_000);
      const [posted] = slack.messages().filter((m) => !m.threadTs);
      expect(posted?.text).not.toContain('late draft');
      await guardian.stop();
      const edited = slack.messages().find((m) => m.ts === posted?.ts);
      expect(edited?.text).toContain('late draft');
    } finally {
      await model.close();
      await slack.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
