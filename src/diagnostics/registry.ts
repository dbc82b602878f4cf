import { airflowHealth, airflowImportErrors, airflowTryLogTail } from './airflow.ts';
import type { Collector } from './collector.ts';
import type { DiagnosticKind } from './diagnostic.ts';
import { hostMetrics } from './host-metrics.ts';
import { lokiQuery } from './loki.ts';
import { sparkConnectProbe, sparkExecutorSummary, sparkFailedStageReason } from './spark.ts';

/** Every diagnostic kind a playbook may declare, and what gathers it. */
export const COLLECTORS: { readonly [K in DiagnosticKind]: Collector<K> } = {
  airflow_try_log_tail: airflowTryLogTail,
  spark_failed_stage_reason: sparkFailedStageReason,
  spark_executor_summary: sparkExecutorSummary,
  host_metrics: hostMetrics,
  loki_query: lokiQuery,
  airflow_import_errors: airflowImportErrors,
  airflow_health: airflowHealth,
  spark_connect_probe: sparkConnectProbe,
};
