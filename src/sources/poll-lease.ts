import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';

/**
 * Who polls the sources. With several replicas exactly one polls at a time (each poll runs once),
 * and the same one keeps polling while it lives, so its in-memory watermarks and "already
 * reported" sets stay meaningful. If it dies, its lease lapses and another replica takes over;
 * that replica's first poll looks back over its lookback window, and what it reports again is
 * absorbed downstream (signal fingerprints and times are deterministic, so the correlator applies
 * a repeated signal as a no-op).
 */
export interface PollLease {
  /** True when this replica holds the lease now (acquired or renewed). Never throws. */
  hold(): Promise<boolean>;
  /** Gives the lease up (shutdown), so another replica takes over at once. */
  release(): Promise<void>;
  /** Whether some replica (this one or another) holds the lease now; false when unknown. */
  heldByAnyone?(): Promise<boolean>;
}

/** One process, no Redis: it always polls. */
export const soleReplica: PollLease = { hold: async () => true, release: async () => {} };

export interface RedisPollLeaseOptions {
  redisUrl: string;
  /** @defaultValue guardian:poll-lease */
  key?: string;
  /** How long a lease outlives its last renewal. @defaultValue 30000 */
  ttlMs?: number;
  /** What the holder does, for the log ("polls the sources"). */
  duty?: string;
  logger: Logger;
}

/** Renew only a lease we hold (compare-and-extend). */
const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** A lease in Redis (`SET key holder NX PX ttl`), renewed while held. */
export function createRedisPollLease(options: RedisPollLeaseOptions): PollLease & { close(): Promise<void> } {
  const key = options.key ?? 'guardian:poll-lease';
  const ttlMs = options.ttlMs ?? 30_000;
  const holder = randomUUID();
  const redis = new Redis(options.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
  redis.on('error', (err) => options.logger.warn({ err: err.message }, 'redis (poll lease) error'));
  let held = false;
  // Renew well inside the TTL, independently of poll intervals and their backoff.
  const renewal = setInterval(
    () => {
      if (held) void hold();
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  renewal.unref();

  async function connected(): Promise<void> {
    if (redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis not ready')), 2000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async function hold(): Promise<boolean> {
    try {
      await connected();
      const now =
        (await redis.set(key, holder, 'PX', ttlMs, 'NX')) === 'OK' ||
        (await redis.eval(RENEW, 1, key, holder, String(ttlMs))) === 1;
      const duty = options.duty ?? 'polls the sources';
      if (now !== held)
        options.logger.info({ key, holder }, now ? `this replica ${duty}` : `another replica ${duty}`);
      held = now;
    } catch (err) {
      // Without Redis we cannot know who polls: stand by rather than poll twice.
      if (held) options.logger.warn({ err: (err as Error).message, key }, 'lease unknown: standing by');
      held = false;
    }
    return held;
  }

  return {
    hold,
    async heldByAnyone() {
      if (held) return true;
      try {
        return (await redis.exists(key)) === 1;
      } catch {
        return false;
      }
    },
    async release() {
      held = false;
      await redis.eval(RELEASE, 1, key, holder).catch(() => {});
    },
    async close() {
      clearInterval(renewal);
      if (held) await this.release();
      redis.disconnect();
    },
  };
}
