import type { GuardianConfig } from '../config/schema.ts';
import type { Clock } from '../core/index.ts';
import { AirflowClient } from '../sources/airflow/client.ts';
import type { PeerConnections } from '../sources/clients.ts';
import { LokiClient } from '../sources/loki/client.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { DiagnosticsGatherer } from './diagnostic.ts';
import { createDiagnosticsGatherer } from './gather.ts';

/**
 * Diagnostics the matched playbooks declare, gathered from the configured peers with the short
 * `diagnostics.timeout`, when enabled. Not in deterministic replay (`stepped`): their time
 * limits are wall-clock.
 */
export function diagnosticsFromConfig(options: {
  config: Pick<GuardianConfig, 'diagnostics' | 'sources'>;
  peers: PeerConnections;
  clock: Clock;
  logger: Logger;
  stepped: boolean;
}): DiagnosticsGatherer | undefined {
  const { config, peers, clock, logger } = options;
  const { enabled, timeout, maxChars } = config.diagnostics;
  if (!enabled || options.stepped) return undefined;
  const spark = config.sources.spark;
  return createDiagnosticsGatherer({
    targets: {
      ...(peers.airflow ? { airflow: new AirflowClient({ ...peers.airflow, timeoutMs: timeout }) } : {}),
      spark: {
        ...(spark.driverUrl ? { driverUrl: spark.driverUrl } : {}),
        ...(spark.connectEndpoint ? { connectEndpoint: spark.connectEndpoint } : {}),
      },
      ...(peers.loki ? { loki: new LokiClient({ ...peers.loki, timeoutMs: timeout }) } : {}),
    },
    clock,
    logger,
    timeoutMs: timeout,
    maxChars,
  });
}
