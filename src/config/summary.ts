import type { GuardianConfig } from './schema.ts';

/** What Guardian runs with, as logged at startup: the first thing to check on a first run. */
export interface ConfigSummary {
  /** The config file read, or null when there was none (defaults and environment only). */
  readonly file: string | null;
  readonly thresholdRules: number;
  readonly stalenessRules: number;
  readonly anomalyRules: number;
  /** Input sources that are active: OTLP push always, the pull sources whose URL is set. */
  readonly sources: readonly string[];
  readonly slack: 'slack' | 'log';
  /** One line for a human. */
  readonly message: string;
}

/**
 * Summarises a loaded config for the startup log: which file, how many rules of each kind, and
 * which sources are active. Anomaly detection watches every series whatever the rules say (rules
 * only tune or mute it), so a first run without a config file is never blind.
 */
export function summariseConfig(config: GuardianConfig, file: string | undefined): ConfigSummary {
  const d = config.detection;
  const sources = ['otlp'];
  if (config.sources.airflow.url) sources.push('airflow');
  if (config.sources.spark.masterUrl) sources.push('spark');
  if (config.sources.loki.url) sources.push('loki');
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const message =
    `${file ? `config ${file}` : 'no config file (defaults and environment)'}: ` +
    `${count(d.thresholds.length, 'threshold rule')}, ${count(d.staleness.length, 'staleness rule')}, ` +
    `${count(d.anomalies.length, 'anomaly rule')}; anomaly detection watches every metric series; ` +
    `sources: ${sources.join(', ')}; messages to ${config.slack.token ? `Slack ${config.slack.channel}` : 'the log and GET /api/v1/messages'}`;
  return {
    file: file ?? null,
    thresholdRules: d.thresholds.length,
    stalenessRules: d.staleness.length,
    anomalyRules: d.anomalies.length,
    sources,
    slack: config.slack.token ? 'slack' : 'log',
    message,
  };
}
