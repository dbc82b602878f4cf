import { afterAll, beforeAll } from 'vitest';
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
