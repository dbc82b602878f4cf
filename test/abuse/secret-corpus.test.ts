import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/core/index.ts';
import { replay } from '../../src/replay/runner.ts';
import { loadScenario, type Scenario } from '../../src/replay/scenario.ts';
import { type AnthropicStandIn, startAnthropicStandIn } from '../fakes/anthropic-api.ts';
import { type SlackStandIn, startSlackStandIn } from '../fakes/slack-api.ts';
import { LEAKS, SECRET_ATTRIBUTES, SECRET_CORPUS } from '../support/secret-corpus.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** A night with a spot loss and a broken SQL model: failed Airflow tries, failed Spark stages, logs. */
const SCENARIO = path.join(ROOT, '../shared/scenarios/open/open-08-spot-and-sql-broken.json');
const SLACK_TOKEN = 'xoxb-corpus-slack-token';
const LLM_KEY = 'sk-ant-corpus-key';

const secretAt = (i: number) => SECRET_CORPUS[i % SECRET_CORPUS.length]!.text;

/**
 * The scenario with the corpus seeded into every path a secret can come in by: OTLP resource and
 * point attributes, Loki lines and stream labels, Airflow task logs, Spark stage failure reasons
 * and executor removal reasons.
 */
function seeded(scenario: Scenario): Scenario {
  let n = 0;
  const loki = scenario.loki && {
    ...scenario.loki,
    streams: scenario.loki.streams.map((s) => ({
      ...s,
      labels: { ...s.labels, session_token: 'S3CR3T-label' },
      entries: s.entries.map(([at, line]) => [at, `${line} ${secretAt(n++)}`] as [string, string]),
    })),
  };
  const airflow = scenario.airflow && {
    ...scenario.airflow,
    task_instances: (scenario.airflow as { task_instances?: { log?: string[] }[] }).task_instances?.map(
      (t) =>
        t.log
          ? {
              ...t,
              // Before the last lines: in the tail Guardian reads, without changing the final error.
              log: [
                ...t.log.slice(0, -3),
                ...SECRET_CORPUS.map((s) => `[2026-01-12T02:00:00.000+0000] {task.py:1} INFO - ${s.text}`),
                ...t.log.slice(-3),
              ],
            }
          : t,
    ),
  };
  const spark = scenario.spark && {
    ...scenario.spark,
    applications: scenario.spark.applications?.map((a) => ({
      ...a,
      stages: a.stages?.map((s) => {
        const reason = (s as { failureReason?: unknown }).failureReason;
        return typeof reason === 'string' ? { ...s, failureReason: `${reason} ${secretAt(n++)}` } : s;
      }),
      executors: a.executors?.map((e) =>
        e.removeReason ? { ...e, removeReason: `${e.removeReason} ${secretAt(n++)}` } : e,
      ),
    })),
  };
  const metrics = scenario.metrics?.map((m, i) => ({
    ...m,
    resource: { ...m.resource, 'deployment.secret': `S3CR3T-resource-${i % 3}` },
    attributes: { ...m.attributes, ...SECRET_ATTRIBUTES },
  }));
  return {
    ...scenario,
    ...(loki ? { loki } : {}),
    ...(airflow ? { airflow } : {}),
    ...(spark ? { spark } : {}),
    ...(metrics ? { metrics } : {}),
  } as Scenario;
}

/**
 * The corpus of seeded secrets through Guardian's real pipeline (stand-in Airflow, Spark and Loki
 * polled over HTTP, metrics pushed to the OTLP receiver, the Slack and Anthropic stand-ins):
 * none reaches the incident store, Slack, the LLM or Guardian's own log, at debug level.
 */
describe('seeded secrets through every path', () => {
  let slack: SlackStandIn;
  let model: AnthropicStandIn;
  const logLines: string[] = [];
  let stored = '';
  const incidents: Incident[] = [];

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: SLACK_TOKEN });
    model = await startAnthropicStandIn({ apiKey: LLM_KEY });
    model.fallback = {
      kind: 'tool_use',
      input: () => ({
        title: 'Spot loss and a broken model',
        summary: 'A spot worker was reclaimed and a model failed.',
        probable_cause: { text: 'Spot interruption.', confidence: 0.6 },
        impact: 'Nightly tables are late.',
        next_steps: ['Check the worker.'],
        runbook_ids: [],
      }),
    };
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    await replay(seeded(loadScenario(SCENARIO)), {
      stepMs: 15_000,
      logger,
      config: {
        slack: { token: SLACK_TOKEN, apiUrl: slack.url, channel: '#data-platform-alerts' },
        llm: { apiKey: LLM_KEY, baseUrl: model.url },
      },
      afterReplay: async ({ guardian }) => {
        const dump: unknown[] = [];
        for (let cursor: string | undefined, first = true; first || cursor; first = false) {
          const page = await guardian.store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
          for (const i of page.incidents) {
            incidents.push(i);
            dump.push(
              await guardian.store.get(i.id),
              await guardian.store.timeline(i.id),
              await guardian.store.getNotificationState(i.id),
            );
          }
          cursor = page.nextCursor ?? undefined;
        }
        dump.push(await guardian.store.listSilences(0));
        stored = JSON.stringify(dump);
      },
    });
  }, 240_000);

  afterAll(async () => {
    await slack?.close();
    await model?.close();
  });

  const places = () => ({
    'incident store': stored,
    Slack: JSON.stringify([slack.calls, slack.messages()]),
    'LLM prompts': JSON.stringify(model.calls.map((c) => c.body)),
    "Guardian's log": logLines.join(''),
  });

  it('went through every path (the test is not vacuous)', () => {
    expect(incidents.length).toBeGreaterThan(0);
    expect(model.calls.length).toBeGreaterThan(0);
    expect(slack.messages().length).toBeGreaterThan(0);
    // Masked secrets of each path reached the store and Slack: they were seen and masked.
    expect(stored).toContain('db.password=\\"[REDACTED]\\"'); // OTLP attributes, as entity keys
    expect(stored).toContain('session_token=\\"[REDACTED]\\"'); // Loki stream labels
    for (const place of ['incident store', 'Slack', 'LLM prompts'] as const)
      expect(places()[place], place).toContain('[REDACTED');
  });

  it.each(['incident store', 'Slack', 'LLM prompts', "Guardian's log"] as const)(
    'leaves no seeded secret in the %s',
    (place) => {
      const text = places()[place];
      const found = LEAKS.filter((leak) => text.includes(leak));
      const context = found.map((leak) => {
        const at = text.indexOf(leak);
        return `${leak}: …${text.slice(Math.max(0, at - 120), at + 60)}…`;
      });
      expect(context, place).toEqual([]);
    },
  );
});
