import type { GuardianConfig } from '../config/schema.ts';
import type { AirflowClientOptions } from './airflow/client.ts';
import type { LokiClientOptions } from './loki/client.ts';

/**
 * How to reach each configured peer, mapped from the config once and reused by the sources, the
 * routing by DAG owner and the diagnostics. Each use adds its own timeout: a poll may wait longer
 * than a diagnostic gathered while a message waits.
 */
export interface PeerConnections {
  /** Airflow's API, when `sources.airflow.url` is set. */
  readonly airflow: Omit<AirflowClientOptions, 'timeoutMs' | 'pageSize'> | undefined;
  /** Loki, when `sources.loki.url` is set: tenant and basic or bearer auth. */
  readonly loki: Omit<LokiClientOptions, 'timeoutMs'> | undefined;
}

/** The connections to the peers `sources` configures. */
export function peerConnections(sources: GuardianConfig['sources']): PeerConnections {
  const { airflow, loki } = sources;
  return {
    airflow: airflow.url
      ? { baseUrl: airflow.url, username: airflow.username, password: airflow.password ?? '' }
      : undefined,
    loki: loki.url
      ? {
          baseUrl: loki.url,
          ...(loki.tenant ? { tenant: loki.tenant } : {}),
          // A bearer token wins over basic auth when both are set.
          ...(loki.bearerToken
            ? { auth: { bearer: loki.bearerToken } }
            : loki.user
              ? { auth: { user: loki.user, password: loki.password ?? '' } }
              : {}),
        }
      : undefined,
  };
}
