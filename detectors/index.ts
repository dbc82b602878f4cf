import type { GuardianConfig } from '../src/config/schema.ts';
import type { Detector } from '../src/detection/engine.ts';
import { createAirflowDagLateDetector } from './airflow-dag-late.ts';
import { createAirflowDagRunFailedDetector } from './airflow-dagrun-failed.ts';
import { createAirflowHealthDetector } from './airflow-health.ts';
import { createAirflowRunStalledDetector } from './airflow-run-stalled.ts';
import { createAirflowTaskDurationDetector } from './airflow-task-duration.ts';
import { createAirflowTaskFailureDetector } from './airflow-task-failure.ts';
import { createLogBurstDetector } from './log-burst.ts';
import { createLogNewLineDetector } from './log-new-line.ts';
import { createLogNewTemplateDetector } from './log-new-template.ts';
import { createLogSignatureDetector } from './log-signature.ts';
import { createMetricAnomalyDetector } from './metric-anomaly.ts';
import { createMetricBeatStoppedDetector } from './metric-beat-stopped.ts';
import { createSilentTogetherDetector } from './metric-silent-together.ts';
import { createStalenessDetector } from './metric-staleness.ts';
import { createThresholdDetector } from './metric-threshold.ts';
import { createSourceDownDetector } from './source-down.ts';
import { createSparkDetector } from './spark.ts';

/**
 * The detector registry: one line per detector. A new detector is a file in this folder, its
 * test, and a line here.
 */
export const DETECTORS: readonly {
  readonly id: string;
  readonly create: (config: GuardianConfig) => Detector;
}[] = [
  {
    id: 'metric-threshold',
    create: (c) => createThresholdDetector(c.detection.thresholds, c.detection.series.ruleStates),
  },
  {
    id: 'metric-staleness',
    create: (c) => createStalenessDetector(c.detection.staleness, c.detection.series.ruleStates),
  },
  { id: 'source-down', create: () => createSourceDownDetector() },
  { id: 'metric-beat-stopped', create: (c) => createMetricBeatStoppedDetector(c.detection.series.total) },
  {
    id: 'metric-silent-together',
    create: (c) => createSilentTogetherDetector({ maxSeries: c.detection.series.total }),
  },
  { id: 'airflow-task-failure', create: () => createAirflowTaskFailureDetector() },
  { id: 'airflow-dagrun-failed', create: () => createAirflowDagRunFailedDetector() },
  { id: 'airflow-health', create: () => createAirflowHealthDetector() },
  { id: 'airflow-dag-late', create: () => createAirflowDagLateDetector() },
  { id: 'airflow-task-duration', create: () => createAirflowTaskDurationDetector() },
  {
    id: 'airflow-run-stalled',
    create: (c) => createAirflowRunStalledDetector({ pageAfterDags: c.correlation.pageAfterDags }),
  },
  { id: 'spark', create: () => createSparkDetector() },
  {
    id: 'metric-anomaly',
    // As many models as series admitted (one per series with the default quantile), so a new
    // series never evicts an established one's model.
    create: (c) =>
      createMetricAnomalyDetector({ rules: c.detection.anomalies, maxSeries: c.detection.series.total }),
  },
  { id: 'log-signature', create: () => createLogSignatureDetector() },
  { id: 'log-new-template', create: () => createLogNewTemplateDetector() },
  { id: 'log-burst', create: () => createLogBurstDetector() },
  {
    id: 'log-new-line',
    create: (c) => createLogNewLineDetector({ historyMs: c.detection.logStreamHistory }),
  },
];

export function createDetectors(config: GuardianConfig): Detector[] {
  return DETECTORS.map((d) => d.create(config));
}

/** What the detection stage needs of the metric anomaly detector: the series it has seen. */
export { METRIC_ANOMALY_DETECTOR_ID, type MetricAnomalyDetector } from './metric-anomaly.ts';
