import path from 'node:path';
import type { GuardianConfig } from '../config/schema.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createDynamoIncidentStore } from './dynamo-store.ts';
import { startEmbeddedDynamo } from './embedded-dynamo.ts';
import type { IncidentStore } from './store.ts';

/**
 * The configured incident store, started: DynamoDB (or a compatible endpoint), or dynalite
 * in-process on the data directory (embedded). `close` stops both.
 */
export async function openIncidentStore(
  config: GuardianConfig,
  logger: Logger,
): Promise<{ store: IncidentStore; close(): Promise<void> }> {
  let endpoint = config.store.endpoint;
  let embedded: Awaited<ReturnType<typeof startEmbeddedDynamo>> | undefined;
  if (config.store.kind === 'embedded') {
    embedded = await startEmbeddedDynamo({
      dataDir: path.resolve(config.dataDir, 'dynamodb'),
      port: 0,
      logger,
    });
    endpoint = embedded.endpoint;
  }
  const store = createDynamoIncidentStore({
    ...(endpoint ? { endpoint } : {}),
    region: config.store.region,
    tableName: config.store.table,
    createTable: config.store.createTable ?? config.store.kind === 'embedded',
    logger,
    ...(config.store.kind === 'embedded'
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  const close = async () => {
    await store.close();
    await embedded?.close();
  };
  try {
    await store.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { store, close };
}
