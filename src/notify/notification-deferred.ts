import { GuardianError } from '../core/index.ts';

/** A notify job that has to wait (a batch window, a silence): the queue runs it again later. */
export class NotificationDeferredError extends GuardianError {
  constructor(message: string, retryAfterMs: number) {
    super('notification_deferred', message, { retryable: true, retryAfterMs: Math.max(1, retryAfterMs) });
  }
}
