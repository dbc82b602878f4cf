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
}

export function createQueueBackend(options: QueueBackendOptions): QueueBackend {
  const { redisUrl, clock, logger, onDeadLetter } = options;
  if (redisUrl)
    return createBullmqQueueBackend({ redisUrl, logger, ...(onDeadLetter ? { onDeadLetter } : {}) });
  return createInProcessQueueBackend({ clock, logger, ...(onDeadLetter ? { onDeadLetter } : {}) });
}
