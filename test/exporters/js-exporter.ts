/**
 * A service instrumented with the stock OpenTelemetry JS SDK, as a user would write it: a
 * MeterProvider with a resource (a fresh `service.instance.id` per process, as SDK resource
 * detectors and the Lambda layer give), two counters, and the OTLP/HTTP exporter (JSON) on a
 * short interval. Run as a child process by test/otlp-exporters.test.ts, which kills and restarts
 * it. Environment: OTLP_URL, ERRORS_PER_TICK.
 */
import { randomUUID } from 'node:crypto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const provider = new MeterProvider({
  resource: resourceFromAttributes({
    'service.name': 'lambda-ingestion',
    'service.instance.id': randomUUID(),
    'process.pid': process.pid,
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'cloud.region': 'eu-west-1',
  }),
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: process.env.OTLP_URL }),
      exportIntervalMillis: 200,
      exportTimeoutMillis: 150,
    }),
  ],
});
const meter = provider.getMeter('ingest');
const rows = meter.createCounter('ingest.rows', { unit: '{row}' });
const errors = meter.createCounter('ingest.errors', { unit: '{error}' });
const errorsPerTick = Number(process.env.ERRORS_PER_TICK ?? '0');
setInterval(() => {
  rows.add(100, { source: 'web-vitals-crm' });
  errors.add(errorsPerTick, { source: 'web-vitals-crm' });
}, 100);
process.stdout.write('ready\n');
