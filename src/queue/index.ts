import type { Clock } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createBullmqQueueBackend } from './bullmq.ts';
import { createInProcessQueueBackend } from './in-process.ts';
import type { DeadLetterListener, QueueBackend } from './queue.ts';

export interface QueueBackendOptions {
  /** BullMQ on this Redis when set; the in-process queue otherwise. */
  redisUrl?: string;
  clock: Clock;
  logger: Logger;
  onDeadLetter?: DeadLetterListener;
  /** In-process only: jobs run in `drain()`, stage by stage (deterministic replay). */
  stepped?: boolean;
}

export function createQueueBackend(options: QueueBackendOptions): QueueBackend {
  const { redisUrl, clock, logger, onDeadLetter, stepped } = options;
  if (redisUrl) {
    if (stepped) throw new Error('a stepped queue is in-process only: do not set REDIS_URL for a replay');
    return createBullmqQueueBackend({ redisUrl, logger, ...(onDeadLetter ? { onDeadLetter } : {}) });
  }
  return createInProcessQueueBackend({
    clock,
    logger,
    ...(onDeadLetter ? { onDeadLetter } : {}),
    ...(stepped ? { stepped } : {}),
  });
}
