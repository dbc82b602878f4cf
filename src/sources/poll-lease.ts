import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
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
  /**
   * A file where this replica notes who holds the lease (its holder id, host and pid). A process
   * restarted after a crash on the same host finds its predecessor there and, that process being
   * gone, takes its lease at once instead of waiting out the TTL. None: a restart waits.
   */
  restartMarker?: string;
  logger: Logger;
}

/**
 * Take the lease if it is free, or held by `ARGV[3]` (this host's dead predecessor); renew it if we
 * hold it. Returns 1 when held.
 */
const ACQUIRE = `
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not current or (ARGV[3] ~= '' and current == ARGV[3]) then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** A lease in Redis (`SET key holder NX PX ttl`), renewed while held. */
export function createRedisPollLease(options: RedisPollLeaseOptions): PollLease & { close(): Promise<void> } {
  const key = options.key ?? 'guardian:poll-lease';
  const ttlMs = options.ttlMs ?? 30_000;
  const holder = randomUUID();
  LIVE_HOLDERS.add(holder);
  const redis = new Redis(options.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
  redis.on('error', (err) => options.logger.warn({ err: err.message }, 'redis (poll lease) error'));
  let held = false;
  // The holder this process replaces, if it is this host's dead predecessor: taken over once.
  let predecessor = options.restartMarker ? deadPredecessor(options.restartMarker) : undefined;
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
      const now = (await redis.eval(ACQUIRE, 1, key, holder, String(ttlMs), predecessor ?? '')) === 1;
      if (now && !held && options.restartMarker) {
        if (predecessor)
          options.logger.info({ key, predecessor }, 'took over the lease of the process this one replaced');
        predecessor = undefined;
        noteHolder(options.restartMarker, holder);
      }
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
      LIVE_HOLDERS.delete(holder);
      if (held) await this.release();
      redis.disconnect();
    },
  };
}

/** Holders of leases of this process (several Guardians in one process, as tests run them). */
const LIVE_HOLDERS = new Set<string>();

/** Notes that this process holds the lease (best effort: without it a restart only waits). */
function noteHolder(file: string, holder: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ holder, host: hostname(), pid: process.pid }));
  } catch {
    // A read-only data folder: a restart waits out the TTL, as without a marker.
  }
}

/**
 * The holder noted in `file` if it was a process of this host that is gone: then no one can be
 * renewing its lease, and taking it cannot make two leaders. A pid that lives (reused or not)
 * is not taken over; this process's own pid is (a container restarted with the same pid), unless
 * the holder is a lease of this very process.
 */
function deadPredecessor(file: string): string | undefined {
  let noted: { holder?: unknown; host?: unknown; pid?: unknown };
  try {
    noted = JSON.parse(readFileSync(file, 'utf8')) as typeof noted;
  } catch {
    return undefined;
  }
  if (typeof noted.holder !== 'string' || noted.host !== hostname() || typeof noted.pid !== 'number')
    return undefined;
  if (noted.pid === process.pid) return LIVE_HOLDERS.has(noted.holder) ? undefined : noted.holder;
  try {
    process.kill(noted.pid, 0);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? noted.holder : undefined;
  }
}
