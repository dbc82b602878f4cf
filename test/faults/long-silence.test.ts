import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { startGuardianProcess } from './support/guardian-process.ts';
import {
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  postsByIncident,
  pushUntilTaken,
} from './support/pipeline.ts';
import { useFaultWorkspace } from './support/workspace.ts';

const TOKEN = 'xoxb-fault-matrix';
/** How long the silenced incident is watched for hot retries: 10 s in CI, 2 min with `long`. */
const WATCH_MS = faultScale({ ci: 10_000, long: 120_000 });

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A 30-day silence in embedded mode (the in-process queue, whose delays once overflowed Node's
 * 24.8-day timer limit and ran at once), through `guardian serve`: the matching incident is
 * stored and not posted, the other one is posted once, and the deferred post neither fails nor
 * retries hot while the reconciler keeps running.
 */
describe('fault matrix: a 30-day silence (embedded)', () => {
  const ws = useFaultWorkspace(TOKEN);

  it(
    'stores the silenced incident unposted, posts the other once, nothing fails or spins',
    async () => {
      ws.guardian = await startGuardianProcess({
        dataDir: ws.dataDir,
        logLevel: 'info',
        notify: { groupWait: 0, reconcileInterval: 2_000 },
        slack: { token: TOKEN, apiUrl: ws.slack.url, channel: '#alerts' },
        detection: { tick: 200, thresholds: [MEMORY_RULE] },
      });
      const { url, pid } = ws.guardian;
      const silenced = await fetch(`${url}/api/v1/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          entity: 'host:quiet-0',
          duration: '30d',
          by: 'fault-matrix',
          reason: 'maintenance',
        }),
      });
      expect(silenced.status).toBe(201);

      await pushUntilTaken(url, gaugeExport(['quiet-0', 'loud-0'], 0.95));
      let quietId = '';
      await eventually(
        async () => {
          const incidents = await listIncidents(url);
          expect(incidents).toHaveLength(2);
          const quiet = incidents.find((i) => i.slack === null);
          expect(quiet).toBeDefined();
          const detail = (await (await fetch(`${url}/api/v1/incidents/${quiet!.id}`)).json()) as {
            timeline: { type: string }[];
          };
          expect(detail.timeline.map((e) => e.type)).toContain('silenced');
          quietId = quiet!.id;
        },
        30_000,
        250,
      );

      const cpuBefore = cpuSeconds(pid);
      const logBefore = ws.guardian.output().length;
      await new Promise((r) => setTimeout(r, WATCH_MS));
      const cpuShare = (cpuSeconds(pid) - cpuBefore) / (WATCH_MS / 1000);
      const logged = ws.guardian.output().slice(logBefore);

      const incidents = await listIncidents(url);
      expect(incidents.find((i) => i.id === quietId)?.slack).toBeNull();
      const dead = (await (await fetch(`${url}/api/v1/dead-letters?queue=notify`)).json()) as {
        deadLetters: unknown[];
      };
      expect(dead.deadLetters).toEqual([]);
      expect(ws.guardian.output()).not.toMatch(/TimeoutOverflowWarning/);
      // Idle but for the reconciler and the detector tick: far from a core spinning on retries.
      expect(cpuShare).toBeLessThan(0.3);
      expect(logged.split('\n').filter((l) => l.includes(quietId)).length).toBeLessThan(WATCH_MS / 1_000);

      // The silenced incident is unposted by design; the other one is posted exactly once.
      const posts = postsByIncident(ws.slack);
      expect([...posts.keys()]).toEqual(incidents.filter((i) => i.id !== quietId).map((i) => i.id));
      expect([...posts.values()].map((ts) => ts.length)).toEqual([1]);
      console.info(`30-day silence: CPU ${Math.round(cpuShare * 100)}% of a core over ${WATCH_MS / 1000} s`);
      recordOutcome(
        `a 30-day silence (embedded): 1 incident held, 1 posted; CPU ${Math.round(cpuShare * 100)}%`,
        {
          faults: 1,
          incidents: incidents.length,
          paged: 1,
          posts: posts.size,
          lost: 0,
          duplicated: 0,
          signalsLost: 2 - incidents.length,
        },
      );
    },
    60_000 + WATCH_MS,
  );
});
