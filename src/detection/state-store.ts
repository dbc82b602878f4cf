import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import type { DetectorStates } from './engine.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Where the detectors' learnt state is kept between runs: a restart or a deploy then picks up
 * each series' model instead of starting it over. Saved as gzipped JSON.
 */
export interface DetectorStateStore {
  /** What was saved last, or undefined when nothing was (or it cannot be read). */
  load(): Promise<DetectorStates | undefined>;
  save(states: DetectorStates): Promise<void>;
  close(): Promise<void>;
  /** Where it saves, for the log. */
  readonly where: string;
}

async function encode(states: DetectorStates): Promise<Buffer> {
  return gzipAsync(JSON.stringify({ savedAt: Date.now(), states }));
}

async function decode(bytes: Buffer): Promise<DetectorStates | undefined> {
  const doc = JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as { states?: unknown };
  const states = doc?.states;
  return states && typeof states === 'object' && !Array.isArray(states)
    ? (states as DetectorStates)
    : undefined;
}

/** One file, replaced atomically (written beside it, then renamed over it). */
export function createFileStateStore(file: string): DetectorStateStore {
  return {
    where: file,
    async load() {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      return decode(bytes);
    },
    async save(states) {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, await encode(states));
      await rename(tmp, file);
    },
    async close() {},
  };
}

export interface RedisStateStoreOptions {
  redisUrl: string;
  /** @defaultValue guardian:detector-state */
  key?: string;
  logger: Logger;
}

/**
 * One Redis key, shared by every replica: the last replica to save wins, and a replica that
 * starts takes that state over.
 */
export function createRedisStateStore(options: RedisStateStoreOptions): DetectorStateStore {
  const key = options.key ?? 'guardian:detector-state';
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', (err) => options.logger.warn({ err: err.message }, 'redis (detector state) error'));
  return {
    where: `redis key ${key}`,
    async load() {
      const bytes = await redis.getBuffer(key);
      return bytes ? decode(bytes) : undefined;
    },
    async save(states) {
      await redis.set(key, await encode(states));
    },
    async close() {
      redis.disconnect();
    },
  };
}
