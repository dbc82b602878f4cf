import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
        notifications: [],
        slack: null,
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
