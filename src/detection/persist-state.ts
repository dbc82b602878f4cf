import path from 'node:path';
import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, errorMessage, every, type TimerHandle } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { DetectionEngine } from './engine.ts';
import { createFileStateStore, createRedisStateStore } from './state-store.ts';

/**
 * What the detectors learnt survives restarts and deploys: taken back now (call it before the
 * first observation), saved every `detection.stateInterval` and by `close` on shutdown. In
 * Redis when one is configured (replicas share it), in the data directory otherwise. Nothing
 * when `stateInterval` is 0.
 */
export async function persistDetectorState(options: {
  config: Pick<GuardianConfig, 'detection' | 'queue' | 'dataDir'>;
  engine: DetectionEngine;
  clock: Clock;
  logger: Logger;
}): Promise<{ timer: TimerHandle; close(): Promise<void> } | undefined> {
  const { config, engine, clock, logger } = options;
  if (config.detection.stateInterval <= 0) return undefined;
  const stateStore = config.queue.redisUrl
    ? createRedisStateStore({ redisUrl: config.queue.redisUrl, logger })
    : createFileStateStore(path.resolve(config.dataDir, 'detector-state.json.gz'));
  try {
    const saved = await stateStore.load();
    if (saved) {
      const restored = engine.restore(saved);
      logger.info({ from: stateStore.where, restored }, 'detector state restored');
    }
  } catch (err) {
    logger.warn(
      { from: stateStore.where, error: errorMessage(err) },
      'saved detector state could not be read; detectors start afresh',
    );
  }
  const saveState = async () => {
    try {
      await stateStore.save(engine.snapshot());
    } catch (err) {
      logger.warn({ to: stateStore.where, error: errorMessage(err) }, 'detector state could not be saved');
    }
  };
  return {
    timer: every(clock, config.detection.stateInterval, saveState),
    async close() {
      await saveState();
      await stateStore.close();
    },
  };
}
