import { ManualClock } from '../../src/core/index.ts';
import { createInProcessQueueBackend } from '../../src/queue/in-process.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { describeQueueContract } from './queue.contract.ts';

describeQueueContract('in-process (virtual clock)', async (onDeadLetter) => {
  const clock = new ManualClock(Date.parse('2026-03-02T00:00:00Z'));
  const backend = createInProcessQueueBackend({ clock, logger: silentLogger(), onDeadLetter });
  return { backend, advance: (ms) => clock.advanceBy(ms) };
});
