import type { GuardianConfig } from '../src/config/schema.ts';
import type { Detector } from '../src/detection/engine.ts';
import { createStalenessDetector } from './metric-staleness.ts';
import { createThresholdDetector } from './metric-threshold.ts';

/**
 * The detector registry: one line per detector. A new detector is a file in this folder, its
 * test, and a line here.
 */
export const DETECTORS: readonly {
  readonly id: string;
  readonly create: (config: GuardianConfig) => Detector;
}[] = [
  { id: 'metric-threshold', create: (c) => createThresholdDetector(c.detection.thresholds) },
  { id: 'metric-staleness', create: (c) => createStalenessDetector(c.detection.staleness) },
];

export function createDetectors(config: GuardianConfig): Detector[] {
  return DETECTORS.map((d) => d.create(config));
}
