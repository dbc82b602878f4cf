import type { GuardianConfig } from '../config/schema.ts';
import type { Clock, Observation } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createAirflowSource } from './airflow/source.ts';
import type { PeerConnections } from './clients.ts';
import { createLokiSource } from './loki/source.ts';
import { createRedisPollLease } from './poll-lease.ts';
import { Poller } from './poller.ts';
import type { PollSource } from './source.ts';
import { createSparkSource } from './spark/source.ts';

export interface SourcesOptions {
  config: Pick<GuardianConfig, 'sources' | 'queue'>;
  peers: PeerConnections;
  clock: Clock;
  logger: Logger;
  /** Where the polled observations go (detection). */
  sink: (observations: Observation[]) => void;
}

/**
 * Pull sources: each configured system polled on its interval, started. With several replicas
 * (Redis configured) one of them polls: a lease in Redis says which. The closers run in order.
 */
export function createSources(options: SourcesOptions): { closers: (() => Promise<void>)[] } {
  const { config, peers, clock, logger } = options;
  const sources: PollSource[] = [];
  const { airflow, spark, loki } = config.sources;
  if (peers.airflow) {
    sources.push(
      createAirflowSource({
        ...peers.airflow,
        intervalMs: airflow.interval,
        overlapMs: airflow.overlap,
        clock,
        logger,
      }),
    );
  }
  if (spark.masterUrl) {
    sources.push(
      createSparkSource({
        masterUrl: spark.masterUrl,
        ...(spark.driverUrl ? { driverUrl: spark.driverUrl } : {}),
        ...(spark.connectEndpoint ? { connectEndpoint: spark.connectEndpoint } : {}),
        ...(spark.connectName ? { connectName: spark.connectName } : {}),
        intervalMs: spark.interval,
        clock,
        logger,
      }),
    );
  }
  if (peers.loki) {
    sources.push(
      createLokiSource({
        ...peers.loki,
        queries: loki.queries,
        budgetQueries: loki.budgetQueries,
        linesPerPoll: loki.linesPerPoll,
        intervalMs: loki.interval,
        overlapMs: loki.overlap,
        clock,
        logger,
      }),
    );
  }
  const lease =
    sources.length > 0 && config.queue.redisUrl
      ? createRedisPollLease({ redisUrl: config.queue.redisUrl, logger })
      : undefined;
  const poller = new Poller({ sources, clock, logger, sink: options.sink, ...(lease ? { lease } : {}) });
  poller.start();
  return { closers: [() => poller.stop(), ...(lease ? [() => lease.close()] : [])] };
}
