import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { startRedis } from '../support/redis.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { startGuardianProcess } from './support/guardian-process.ts';
import {
  expectPostedExactlyOnce,
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  postsByIncident,
  pushUntilTaken,
} from './support/pipeline.ts';
import { useFaultWorkspace } from './support/workspace.ts';

const TOKEN = 'xoxb-fault-matrix';

/**
 * Redis restarted without persistence while the first posts of new incidents wait in Redis as
 * delayed notify jobs (their group wait): the jobs are gone with it, the incidents are in the
 * store. Expected without a restart of Guardian: the reconciler finds them (stored, due, not
 * posted) and each is posted exactly once.
 */
describe('fault matrix: Redis restarted empty while notify jobs wait (BullMQ)', () => {
  const ws = useFaultWorkspace(TOKEN);

  it('the reconciler posts what was stored and not yet posted, each once', async () => {
    const n = faultScale({ ci: 4, long: 25 });
    ws.redis = await startRedis();
    const { port } = ws.redis;
    ws.guardian = await startGuardianProcess({
      dataDir: ws.dataDir,
      logLevel: 'info',
      queue: { redisUrl: ws.redis.url },
      notify: { groupWait: 8_000, reconcileInterval: 3_000 },
      slack: { token: TOKEN, apiUrl: ws.slack.url, channel: '#alerts' },
      detection: { tick: 200, thresholds: [MEMORY_RULE] },
    });
    const url = ws.guardian.url;
    const hosts = Array.from({ length: n }, (_, i) => `wait-${i}`);
    await pushUntilTaken(url, gaugeExport(hosts, 0.95));
    await eventually(async () => expect(await listIncidents(url)).toHaveLength(n), 20_000, 100);
    expect(postsByIncident(ws.slack).size).toBe(0);

    // Within the group wait: Redis goes, and comes back on its port with nothing in it.
    await ws.redis.stop();
    ws.redis = await startRedis({ port });
    expect(postsByIncident(ws.slack).size).toBe(0);

    await eventually(
      async () => expect((await listIncidents(url)).every((i) => i.slack !== null)).toBe(true),
      60_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const outcome = await expectPostedExactlyOnce(url, ws.slack);
    expect(outcome).toMatchObject({ incidents: n, paged: n, posts: n });
    recordOutcome('Redis restarted empty while first posts wait in it as notify jobs (BullMQ)', {
      faults: 1,
      ...outcome,
      signalsLost: 0,
    });
  }, 120_000);
});
