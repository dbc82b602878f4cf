import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { Logger } from '../telemetry/logger.ts';

export interface EmbeddedDynamoOptions {
  /** Where LevelDB keeps the data; in memory when omitted. */
  dataDir?: string;
  /**
   * Loopback port; 0 picks a free one.
   * @defaultValue 0
   */
  port?: number;
  logger: Logger;
}

export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>`, for the DynamoDB client's `endpoint`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Guardian's embedded incident store: `dynalite`, a DynamoDB-compatible server, in-process on a
 * loopback port. The store code talks DynamoDB to it exactly as it does to AWS, so the embedded
 * default and production share one code path.
 */
export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions): Promise<EmbeddedDynamo> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  options.logger.info(
    { endpoint, dataDir: options.dataDir ?? '(memory)' },
    'embedded DynamoDB (dynalite) started',
  );
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      return closing;
    },
  };
}
