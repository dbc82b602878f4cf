import { afterAll, beforeAll } from 'vitest';
import { createBullmqQueueBackend } from '../../src/queue/bullmq.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startRedis } from '../support/redis.ts';
import { describeQueueContract } from './queue.contract.ts';

let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describeQueueContract('BullMQ on a real redis-server', async (onDeadLetter) => {
  const backend = createBullmqQueueBackend({
    redisUrl: redis.url,
    prefix: `t${Math.random().toString(36).slice(2, 8)}`,
    logger: silentLogger(),
    onDeadLetter,
  });
  return { backend, advance: (ms) => new Promise((r) => setTimeout(r, ms)) };
});
