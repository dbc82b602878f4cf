import { type Counter, type Meter, metrics } from '@opentelemetry/api';

/**
 * Guardian's own metrics. Instruments come from the global meter provider, which the telemetry
 * bootstrap (`telemetry/sdk.ts`) installs when `OTEL_*` says so; otherwise they are no-ops.
 */
export interface GuardianMetrics {
  /** Signals that joined an existing incident because open incidents were at their cap, by `kind`. */
  readonly correlationCapped: Counter;
  /** OTLP data points accepted, by `metric_type`. */
  readonly ingestedPoints: Counter;
  /** OTLP data points rejected, by `reason`. */
  readonly rejectedPoints: Counter;
  /** OTLP requests refused as a whole, by `status`. */
  readonly rejectedRequests: Counter;
  /** Signals emitted by detectors, by `kind` and `status`. */
  readonly signals: Counter;
  /** Incidents opened / resolved, by `event`. */
  readonly incidents: Counter;
  /** Slack Web API calls, by `method` and `outcome` (ok or the error code). */
  readonly slackCalls: Counter;
  /** Queue jobs finished, by `queue` and `outcome`. */
  readonly jobs: Counter;
  readonly meter: Meter;
}

export function createGuardianMetrics(meter: Meter = metrics.getMeter('guardian')): GuardianMetrics {
  return {
    meter,
    ingestedPoints: meter.createCounter('guardian.otlp.points.accepted', { unit: '{point}' }),
    rejectedPoints: meter.createCounter('guardian.otlp.points.rejected', { unit: '{point}' }),
    rejectedRequests: meter.createCounter('guardian.otlp.requests.rejected', { unit: '{request}' }),
    signals: meter.createCounter('guardian.signals', { unit: '{signal}' }),
    incidents: meter.createCounter('guardian.incidents', { unit: '{incident}' }),
    correlationCapped: meter.createCounter('guardian.correlation.capped', {
      unit: '{signal}',
      description:
        'Signals that joined the newest open incident of their kind because open incidents were at their cap',
    }),
    slackCalls: meter.createCounter('guardian.slack.calls', { unit: '{call}' }),
    jobs: meter.createCounter('guardian.queue.jobs', { unit: '{job}' }),
  };
}
