import { type AnomalyScorerConfig, DEFAULT_ANOMALY_CONFIG } from '../../detectors/anomaly/core.ts';

/** Parameters that do not change which points rank above which: left as they are. */
const FIXED = new Set<keyof AnomalyScorerConfig>(['warmupPoints', 'halfScoreSurprise']);

/**
 * `base` (the defaults unless given) with every free numeric parameter moved at random by up to
 * ±`spread` (a share): how much of a figure is the model and how much one configuration's luck.
 */
export function perturbedConfig(
  next: () => number,
  spread: number,
  base: AnomalyScorerConfig = DEFAULT_ANOMALY_CONFIG,
): Partial<AnomalyScorerConfig> {
  const move = (v: number) => v * (1 + spread * (2 * next() - 1));
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) {
    if (FIXED.has(key as keyof AnomalyScorerConfig)) continue;
    config[key] = Array.isArray(value) ? value.map(move) : move(value as number);
  }
  return config as Partial<AnomalyScorerConfig>;
}
