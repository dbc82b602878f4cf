import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/core/index.ts';
import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { describeIncidentStoreContract } from './incident-store.contract.ts';

const logger = silentLogger();
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: Awaited<ReturnType<typeof startEmbeddedDynamo>>;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ port: 0, logger });
});
afterAll(async () => {
  await dynamo?.close();
});

describeIncidentStoreContract('DynamoDB store on embedded dynalite', async () => {
  const store = createDynamoIncidentStore({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    tableName: `t-${Math.random().toString(36).slice(2)}`,
    createTable: true,
    credentials,
    logger,
  });
  await store.start();
  return { store, cleanup: () => store.close() };
});

describe('embedded dynalite', () => {
  it('keeps incidents across restarts in its data directory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-dynalite-'));
    try {
      const open = async () => {
        const server = await startEmbeddedDynamo({ dataDir, logger });
        const store = createDynamoIncidentStore({
          endpoint: server.endpoint,
          region: 'us-east-1',
          tableName: 'guardian',
          createTable: true,
          credentials,
          logger,
        });
        await store.start();
        return { server, store };
      };
      const first = await open();
      const { incident } = await first.store.create({
        id: 'inc_persist',
        status: 'open',
        severity: 'low',
        title: 'kept',
        openedAt: 1,
        updatedAt: 1,
        resolvedAt: null,
        rootCause: null,
        entities: [],
        signals: [],
        version: 1,
      });
      await first.store.close();
      await first.server.close();

      const second = await open();
      expect(await second.store.get('inc_persist')).toEqual(incident);
      await second.store.close();
      await second.server.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads incidents stored with their delivery inline, before the ledger, and moves it there', async () => {
    const tableName = `legacy-${Math.random().toString(36).slice(2)}`;
    const store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName,
      createTable: true,
      credentials,
      logger,
    });
    await store.start();
    const raw = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials }),
    );
    try {
      const incident: Incident = {
        id: 'inc_legacy',
        status: 'open',
        severity: 'high',
        title: 'posted before the ledger',
        openedAt: 1000,
        updatedAt: 2000,
        resolvedAt: null,
        rootCause: null,
        entities: [],
        signals: [],
        version: 3,
      };
      const slack = { channel: 'C0ALERTS', ts: '1.000100', claimedAt: 1500, digest: 'abc' };
      const notifications = [
        { at: 1600, kind: 'post', channel: 'C0ALERTS', ts: '1.000100', version: 1 },
        { at: 1700, kind: 'thread', channel: 'C0ALERTS', ts: '1.000200', version: 2 },
      ] as const;
      // The item as the store wrote it before the delivery ledger existed.
      const legacyItem = (id: string) => ({
        ...incident,
        id,
        slack,
        notifications,
        PK: `INCIDENT#${id}`,
        SK: 'META',
        type: 'incident',
        GSI2PK: 'INCIDENTS',
        GSI2SK: `0000000001000#${id}`,
        GSI1PK: 'STATUS#open',
        GSI1SK: `0000000001000#${id}`,
      });
      await raw.send(new PutCommand({ TableName: tableName, Item: legacyItem('inc_legacy') }));
      await raw.send(new PutCommand({ TableName: tableName, Item: legacyItem('inc_legacy_listed') }));
      const meta = async (id: string) =>
        (await raw.send(new GetCommand({ TableName: tableName, Key: { PK: `INCIDENT#${id}`, SK: 'META' } })))
          .Item!;

      // Read by id: the incident without the inline fields, its delivery in the ledger.
      expect(await store.get('inc_legacy')).toEqual(incident);
      expect(await store.getDelivery('inc_legacy')).toEqual({
        incidentId: 'inc_legacy',
        version: 1,
        thread: slack,
      });
      expect(await store.sent('inc_legacy')).toEqual(notifications);
      expect(await meta('inc_legacy')).not.toHaveProperty('slack');
      expect((await meta('inc_legacy')).version).toBe(3);
      // The incident's writers go on from the version they read: the move cost them no race.
      await store.update({ ...incident, severity: 'critical', version: 4 });
      expect((await store.getDelivery('inc_legacy'))!.thread).toEqual(slack);
      // Read again: nothing is moved twice.
      await store.get('inc_legacy');
      expect(await store.sent('inc_legacy')).toEqual(notifications);

      // Read by a listing (the reconciler's, the correlator's warm-up): moved too.
      const page = await store.list({ status: 'open', limit: 10 });
      expect(page.incidents.find((i) => i.id === 'inc_legacy_listed')).toEqual({
        ...incident,
        id: 'inc_legacy_listed',
      });
      expect((await store.deliveries(['inc_legacy_listed'])).get('inc_legacy_listed')?.thread).toEqual(slack);
      expect(await meta('inc_legacy_listed')).not.toHaveProperty('notifications');
    } finally {
      raw.destroy();
      await store.close();
    }
  });

  it('refuses to start on a missing table unless told to create it', async () => {
    const store = createDynamoIncidentStore({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tableName: `missing-${Math.random().toString(36).slice(2)}`,
      credentials,
      logger,
    });
    await expect(store.start()).rejects.toThrow(/does not exist/);
    store.close();
  });
});
