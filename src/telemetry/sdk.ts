import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface Telemetry {
  /** True when traces and metrics are exported. */
  readonly exporting: boolean;
  shutdown(): Promise<void>;
}

/**
 * Guardian's own traces and metrics, configured by the standard `OTEL_*` variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_SDK_DISABLED`). Nothing is exported unless an endpoint is
 * set: the exporters' default (localhost:4318) could be Guardian's own receiver.
 */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): Telemetry {
  const endpointSet =
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    Boolean(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  if (!endpointSet || env.OTEL_SDK_DISABLED === 'true') {
    return { exporting: false, shutdown: async () => {} };
  }
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'guardian' }),
    traceExporter: new OTLPTraceExporter(),
    metricReaders: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000),
      }),
    ],
    instrumentations: [],
  });
  sdk.start();
  return { exporting: true, shutdown: () => sdk.shutdown() };
}
