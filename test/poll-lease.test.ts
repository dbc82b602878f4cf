import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/index.ts';
import { leadCorrelation } from '../src/correlation/leadership.ts';
import { createBullmqQueueBackend } from '../src/queue/bullmq.ts';
import { createRedisPollLease } from '../src/sources/poll-lease.ts';
import { Poller } from '../src/sources/poller.ts';
import type { PollSource } from '../src/sources/source.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startRedis } from './support/redis.ts';

/** Several replicas, one Redis: exactly one replica polls, and another takes over when it goes. */
describe('poll lease on real Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('lets one replica poll, keeps it there while it renews, and hands over when it releases', async () => {
    const key = `lease-${Math.random()}`;
    const a = createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 400, logger: silentLogger() });
    const b = createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 400, logger: silentLogger() });
    try {
      expect(await a.hold()).toBe(true);
      expect(await b.hold()).toBe(false);
      // A keeps it by renewing, well past the TTL.
      await new Promise((r) => setTimeout(r, 900));
      expect(await b.hold()).toBe(false);
      expect(await a.hold()).toBe(true);
      await a.release();
      expect(await b.hold()).toBe(true);
      expect(await a.hold()).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a process restarted on the same host takes its dead predecessor's lease at once, a live one's never", async () => {
    const key = `lease-${Math.random()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'guardian-lease-'));
    const restartMarker = path.join(dir, 'lease.json');
    const logger = silentLogger();
    const open = () =>
      createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 60_000, restartMarker, logger });
    const note = (holder: string, pid: number) =>
      writeFileSync(restartMarker, JSON.stringify({ holder, host: hostname(), pid }));
    const raw = new Redis(redis.url);
    const sleeper = spawn('sleep', ['30']);
    const leases = [open()];
    try {
      expect(await leases[0]!.hold()).toBe(true);
      const noted = JSON.parse(readFileSync(restartMarker, 'utf8')) as { holder: string; pid: number };
      expect(noted).toMatchObject({ pid: process.pid, host: hostname() });
      // Its holder lives in this very process (two Guardians in one test process): waited out.
      leases.push(open());
      expect(await leases[1]!.hold()).toBe(false);

      // A crashed holder: its lease stays in Redis for 60 s.
      await raw.set(key, 'crashed-holder', 'PX', 60_000);
      // Noted with a pid that lives on this host (reused, or a replica sharing the folder): waited out.
      note('crashed-holder', sleeper.pid!);
      leases.push(open());
      expect(await leases[2]!.hold()).toBe(false);
      // Gone (in a container the new process often gets the old pid, its own): taken at once.
      note('crashed-holder', process.pid);
      leases.push(open());
      expect(await leases[3]!.hold()).toBe(true);
      expect(await leases[0]!.hold()).toBe(false);
    } finally {
      sleeper.kill();
      raw.disconnect();
      for (const l of leases) await l.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two pollers sharing a lease: each poll runs once', async () => {
    const key = `lease-${Math.random()}`;
    const clock = new ManualClock(0);
    const polls: string[] = [];
    const source = (who: string): PollSource => ({
      id: 'airflow',
      entity: 'source:airflow',
      intervalMs: 1000,
      poll: async () => {
        polls.push(who);
        return [];
      },
    });
    const leases = ['a', 'b'].map(() =>
      createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 5000, logger: silentLogger() }),
    );
    const pollers = ['a', 'b'].map(
      (who, i) =>
        new Poller({
          sources: [source(who)],
          clock,
          logger: silentLogger(),
          sink: () => {},
          lease: leases[i]!,
        }),
    );
    for (const p of pollers) p.start();
    await clock.advanceTo(5000);
    expect(polls).toHaveLength(6); // t = 0…5000, once each
    expect(new Set(polls).size).toBe(1);
    for (const p of pollers) await p.stop();
    for (const l of leases) await l.close();
  });
});

/** Several replicas, one signals queue: only the replica holding the correlator lease correlates. */
describe('correlator leadership on real Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('lets one replica take signal jobs, and hands over to another (which reloads first) when it stops', async () => {
    const key = `correlator-${Math.random()}`;
    const name = `signals-${Math.random().toString(36).slice(2)}`;
    const taken: string[] = [];
    const reloads: string[] = [];
    const replicas = ['a', 'b'].map((who) => {
      const backend = createBullmqQueueBackend({ redisUrl: redis.url, logger: silentLogger() });
      const queue = backend.queue<{ n: number }>(name);
      const lease = createRedisPollLease({ redisUrl: redis.url, key, ttlMs: 600, logger: silentLogger() });
      const leadership = leadCorrelation({
        lease,
        queue,
        onLead: () => {
          reloads.push(who);
        },
        intervalMs: 100,
        logger: silentLogger(),
      });
      queue.process(async (job) => {
        taken.push(`${who}:${job.data.n}`);
      });
      return { who, backend, queue, lease, leadership };
    });
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(what()).toBe(true);
    };
    try {
      await until(() => replicas.some((r) => r.leadership.leading()));
      const [leader, other] = replicas[0]!.leadership.leading() ? replicas : [replicas[1]!, replicas[0]!];
      expect(other!.leadership.leading()).toBe(false);
      for (let n = 0; n < 20; n++) await leader!.queue.add(`job-${n}`, { n });
      await until(() => taken.length === 20);
      expect(new Set(taken.map((t) => t.split(':')[0]))).toEqual(new Set([leader!.who]));

      // The leader goes away: the other replica reloads, then takes what comes next.
      await leader!.leadership.stop();
      await leader!.backend.close();
      await until(() => other!.leadership.leading());
      expect(reloads).toEqual([leader!.who, other!.who]);
      for (let n = 20; n < 30; n++) await other!.queue.add(`job-${n}`, { n });
      await until(() => taken.length === 30);
      expect(taken.slice(20).every((t) => t.startsWith(`${other!.who}:`))).toBe(true);
    } finally {
      for (const r of replicas) {
        await r.leadership.stop();
        await r.lease.close();
        await r.backend.close();
      }
    }
  });
});
