import { createDynamoIncidentStore } from '../../src/incidents/dynamo-store.ts';
import { startEmbeddedDynamo } from '../../src/incidents/embedded-dynamo.ts';
import type { IncidentStore } from '../../src/incidents/store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

/**
 * The real DynamoDB store on an embedded dynalite, in a fresh table named after `prefix`: what a
 * test of a stage above the store needs. `close` stops both.
 */
export async function startEmbeddedStore(prefix: string): Promise<{
  store: IncidentStore;
  /** The server and table, for a test that writes items as a process that died halfway left them. */
  endpoint: string;
  table: string;
  close(): Promise<void>;
}> {
  const logger = silentLogger();
  const dynamo = await startEmbeddedDynamo({ port: 0, logger });
  const table = `${prefix}-${Math.random().toString(36).slice(2)}`;
  const store = createDynamoIncidentStore({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    tableName: table,
    createTable: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    logger,
  });
  await store.start();
  return {
    store,
    endpoint: dynamo.endpoint,
    table,
    async close() {
      await store.close();
      await dynamo.close();
    },
  };
}
