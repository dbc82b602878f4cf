import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { createDynamoIncidentStore } from '../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../src/incidents/embedded-dynamo.ts';
import { type IncidentStore, NO_USAGE } from '../src/incidents/store.ts';
import type { DraftRequest, IncidentDrafter } from '../src/llm/drafter.ts';
import { PROMPT_TIMELINE_EVENTS } from '../src/llm/prompt.ts';
import { createSlackChannel } from '../src/notify/channels/slack.ts';
import { Notifier } from '../src/notify/notifier.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { spotLossIncident, T0 } from './fakes/incidents.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { type FaultProxy, startFaultProxy } from './faults/support/fault-proxy.ts';

const TOKEN = 'xoxb-bounded-reads';
const logger = silentLogger();
const EVENTS = 50_000;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * What one notify job reads of an incident whose timeline holds 50,000 events (a series that
 * flapped for weeks): counted in items the DynamoDB server answered with, through a proxy in
 * front of dynalite, not in time.
 */
describe('the notifier reads a bounded part of a long timeline', () => {
  let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let proxy: FaultProxy;
  let store: IncidentStore;
  const tableName = 'bounded';

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ port: 0, logger });
    slack = await startSlackStandIn({ token: TOKEN });
    proxy = await startFaultProxy(dynamo.endpoint);
    store = createDynamoIncidentStore({
      endpoint: proxy.url,
      region: 'us-east-1',
      tableName,
      createTable: true,
      credentials,
      logger,
    });
    await store.start();
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await slack?.close();
    await dynamo?.close();
  });

  it('50,000 timeline events: a first post and its update read under 200 items, and still see the oldest notes', async () => {
    const incident = (await store.create(spotLossIncident('inc_long', { status: 'acknowledged' }))).incident;
    // Long ago, before the flapping: a person acknowledged it, and a chart was shared.
    await store.appendTimeline(incident.id, [
      {
        id: 'evt_ack',
        at: T0 + 10,
        type: 'acknowledged',
        text: 'acknowledged',
        actor: { id: 'U0ANA1', name: 'ana', via: 'slack' },
      },
    ]);
    const started = performance.now();
    await writeFlapping(dynamo.endpoint, tableName, incident.id, EVENTS);
    console.info(`wrote ${EVENTS} events in ${(performance.now() - started).toFixed(0)} ms`);

    const prompts: DraftRequest[] = [];
    const drafter: IncidentDrafter = {
      model: 'counting-drafter',
      async draft(request) {
        prompts.push(request);
        return { ok: false, reason: 'connection', message: 'no model in this test', usage: NO_USAGE };
      },
    };
    const notifier = new Notifier({
      store,
      channel: createSlackChannel({ token: TOKEN, apiUrl: slack.url, logger }),
      clock: new ManualClock(T0 + EVENTS * 1000 + 60_000),
      logger,
      slackChannel: '#alerts',
      drafting: { drafter, budgetMs: 2000 },
    });

    const read = countReads(proxy);
    await notifier.handle({ incidentId: incident.id, version: 1, change: 'opened' });
    const firstPost = read.items();
    const posts = slack.messages().filter((m) => !m.threadTs);
    expect(posts).toHaveLength(1);
    // The oldest note, 50,000 events back, is still in the message.
    expect(JSON.stringify(posts[0]!.blocks)).toMatch(/ACKNOWLEDGED\*\s+by\s+<@U0ANA1>/);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]!.timeline).toHaveLength(PROMPT_TIMELINE_EVENTS);
    expect(prompts[0]!.timeline.at(-1)?.id).toBe(`evt_flap_${EVENTS - 1}`);

    read.reset();
    const updated = await store.update({ ...incident, title: 'worse', version: 2 });
    await notifier.handle({ incidentId: incident.id, version: updated.version, change: 'signal_added' });
    const update = read.items();
    console.info(
      `${EVENTS.toLocaleString('en')} timeline events: items read by the first post ${firstPost}, by an update ${update}`,
    );
    // Everything the job reads, every item of every answer: far below the timeline's length.
    expect(firstPost).toBeLessThan(200);
    expect(update).toBeLessThan(200);
    read.stop();
  }, 300_000);
});

/** Items in the answers the proxy forwards from now on (Query: scanned; GetItem: 1; BatchGet: each). */
function countReads(proxy: FaultProxy) {
  let items = 0;
  proxy.onAnswer = (operation, body) => {
    if (!['Query', 'GetItem', 'BatchGetItem', 'Scan'].includes(operation)) return;
    const answer = JSON.parse(body.toString('utf8') || '{}') as {
      ScannedCount?: number;
      Count?: number;
      Item?: unknown;
      Responses?: Record<string, unknown[]>;
    };
    if (operation === 'GetItem') items += answer.Item ? 1 : 0;
    else if (operation === 'BatchGetItem')
      items += Object.values(answer.Responses ?? {}).reduce((n, r) => n + r.length, 0);
    else items += answer.ScannedCount ?? answer.Count ?? 0;
  };
  return {
    items: () => items,
    reset: () => {
      items = 0;
    },
    stop: () => {
      proxy.onAnswer = undefined;
    },
  };
}

/** `count` events of a series flapping, one a second after T0, written 25 to a batch as the store writes events. */
async function writeFlapping(endpoint: string, table: string, incidentId: string, count: number) {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const doc = DynamoDBDocumentClient.from(client);
  const item = (i: number) => {
    const at = T0 + 1000 + i * 1000;
    const id = `evt_flap_${i}`;
    return {
      PK: `INCIDENT#${incidentId}`,
      SK: `EVT#${String(at).padStart(13, '0')}#${id}`,
      id,
      at,
      eventType: i % 2 === 0 ? 'signal_resolved' : 'signal_firing',
      text: `fp_2 ${i % 2 === 0 ? 'cleared' : 'fired again'}`,
      fingerprint: 'fp_2',
    };
  };
  try {
    const batches = Array.from({ length: Math.ceil(count / 25) }, (_, b) => b);
    const lanes = 4;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let b = lane; b < batches.length; b += lanes) {
          const items = Array.from({ length: Math.min(25, count - b * 25) }, (_, k) => item(b * 25 + k));
          let pending: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = items.map(
            (Item) => ({
              PutRequest: { Item },
            }),
          );
          while (pending && pending.length > 0) {
            const res = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
            pending = res.UnprocessedItems?.[table] as typeof pending;
          }
        }
      }),
    );
  } finally {
    client.destroy();
  }
}
