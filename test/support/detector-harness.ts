import { entityKey, ManualClock, type MetricObservation, type Signal } from '../../src/core/index.ts';
import { DetectionEngine, type Detector } from '../../src/detection/engine.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

/** A detection engine on a virtual clock that records what it emits. */
export function detectorHarness(detectors: Detector[], start = Date.parse('2026-03-02T02:00:00Z')) {
  const clock = new ManualClock(start);
  const signals: Signal[] = [];
  const engine = new DetectionEngine({
    detectors,
    clock,
    onSignal: (s) => signals.push(s),
    logger: silentLogger(),
    tickMs: 1000,
  });
  engine.start();
  return {
    clock,
    engine,
    signals,
    /** Pushes one point at the clock's current time. */
    point(name: string, value: number, attributes: Record<string, string> = {}) {
      engine.ingest([metricPoint(name, value, attributes, clock.now())]);
    },
  };
}

export function metricPoint(
  name: string,
  value: number,
  attributes: Record<string, string>,
  time: number,
): MetricObservation {
  return {
    type: 'metric',
    series: entityKey.metricSeries(name, attributes),
    name,
    attributes,
    time,
    value,
    metricType: 'gauge',
    unit: '1',
  };
}
