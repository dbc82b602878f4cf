import { DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startMoto } from '../support/moto.ts';
import { describeIncidentStoreContract } from './incident-store.contract.ts';

let moto: Awaited<ReturnType<typeof startMoto>>;
beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

describeIncidentStoreContract('DynamoDB store on moto server', async () => {
  const store = createDynamoIncidentStore({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    tableName: `t-${Math.random().toString(36).slice(2)}`,
    createTable: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    logger: silentLogger(),
  });
  await store.start();
  return { store, cleanup: () => store.close() };
});

describe('DynamoDB store on moto server: table it manages', () => {
  it('turns TTL on for the ttl attribute (silences, usage counters), once, across restarts', async () => {
    const tableName = `t-${Math.random().toString(36).slice(2)}`;
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    for (let start = 0; start < 2; start++) {
      const store = createDynamoIncidentStore({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        tableName,
        createTable: true,
        credentials,
        logger: silentLogger(),
      });
      await store.start();
      await store.close();
    }
    const client = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    try {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    } finally {
      client.destroy();
    }
  });
});
