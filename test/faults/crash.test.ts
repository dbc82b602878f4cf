import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { startGuardianProcess } from './support/guardian-process.ts';
import {
  expectPostedExactlyOnce,
  gaugeExport,
  listIncidents,
  MEMORY_RULE,
  postsByIncident,
  pushUntilTaken,
  signalFingerprints,
} from './support/pipeline.ts';
import { useFaultWorkspace } from './support/workspace.ts';

const TOKEN = 'xoxb-fault-matrix';
const hosts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/**
 * Guardian killed (kill -9) or stopped (SIGTERM, a deploy) at the moments that used to lose
 * incidents, in embedded mode (in-process queue, dynalite), run as `guardian serve` in a child
 * process and started again on the same data folder. Expected: every paged incident posted
 * exactly once, its post the one the store records, no signal lost, nothing to do by hand.
 */
describe('fault matrix: the process stops at the wrong moment (embedded)', () => {
  const ws = useFaultWorkspace(TOKEN);

  const config = (groupWait: number, shutdownTimeout = 20_000) => ({
    dataDir: ws.dataDir,
    logLevel: 'info' as const,
    queue: { shutdownTimeout },
    notify: { groupWait, reconcileInterval: 5_000 },
    slack: { token: TOKEN, apiUrl: ws.slack.url, channel: '#alerts' },
    detection: { tick: 200, thresholds: [MEMORY_RULE] },
  });

  it.each([
    ['kill -9', 'SIGKILL'],
    ['SIGTERM', 'SIGTERM'],
  ] as const)(
    '%s while first posts wait in their group wait: posted once after the restart, nothing pushed again',
    async (name, signal) => {
      const n = faultScale({ ci: 4, long: 25 });
      ws.guardian = await startGuardianProcess(config(8_000));
      await pushUntilTaken(ws.guardian.url, gaugeExport(hosts('gw', n), 0.95));
      const url = ws.guardian.url;
      await eventually(async () => expect((await listIncidents(url)).length).toBeGreaterThan(0), 20_000);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(postsByIncident(ws.slack).size).toBe(0);
      await ws.guardian.kill(signal);

      ws.guardian = await startGuardianProcess(config(8_000));
      const again = ws.guardian.url;
      await eventually(
        async () => {
          const incidents = await listIncidents(again);
          expect(incidents.every((i) => i.slack !== null)).toBe(true);
        },
        45_000,
        250,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      const outcome = await expectPostedExactlyOnce(again, ws.slack);
      expect(outcome.posts).toBeGreaterThan(0);
      expect((await signalFingerprints(again)).size).toBe(n);
      recordOutcome(`${name} while first posts wait (embedded)`, { faults: 1, ...outcome, signalsLost: 0 });
    },
    180_000,
  );

  it('kill -9 after Slack took the post and before Guardian recorded it: adopted, not posted again', async () => {
    ws.guardian = await startGuardianProcess(config(0));
    const held = ws.slack.holdNextResponse('chat.postMessage');
    await pushUntilTaken(ws.guardian.url, gaugeExport(['adopt-0'], 0.95));
    const call = await held;
    await ws.guardian.kill('SIGKILL');
    call.release();

    ws.guardian = await startGuardianProcess(config(0));
    const again = ws.guardian.url;
    await eventually(
      async () => {
        const [incident] = await listIncidents(again);
        expect(incident?.slack).not.toBeNull();
      },
      45_000,
      250,
    );
    const outcome = await expectPostedExactlyOnce(again, ws.slack);
    expect(outcome).toMatchObject({ incidents: 1, posts: 1 });
    recordOutcome('kill -9 between the Slack post and its record (embedded)', {
      faults: 1,
      ...outcome,
      signalsLost: 0,
    });
  }, 180_000);

  // kill -9: the exporter was told 200 and pushes nothing again, so the signals exist only in the
  // queue's journal (before it, all 150 were lost).
  it.each([
    ['SIGTERM', 'correlated before the process exits', 20_000],
    ['SIGTERM', 'saved at the shutdown deadline and correlated after the restart', 300],
    ['kill -9', 'kept in the journal and correlated after the restart', 20_000],
  ] as const)(
    '%s with signals queued: each is %s',
    async (name, how, shutdownTimeout) => {
      const n = faultScale({ ci: 150, long: 1000 });
      ws.guardian = await startGuardianProcess(config(20_000, shutdownTimeout));
      const url = ws.guardian.url;
      // One push of n breaching series, then SIGTERM at once: their signals are still queued.
      const pushed = fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: gaugeExport(hosts('q', n), 0.95),
      });
      expect((await pushed).status).toBe(200);
      const took = await ws.guardian.kill(name === 'kill -9' ? 'SIGKILL' : 'SIGTERM');
      expect(took).toBeLessThan(shutdownTimeout + 10_000);

      ws.guardian = await startGuardianProcess(config(20_000));
      const again = ws.guardian.url;
      await eventually(async () => expect((await signalFingerprints(again)).size).toBe(n), 60_000, 500);
      recordOutcome(`${name} with ${n} signals queued, ${how} (embedded)`, {
        faults: 1,
        incidents: (await listIncidents(again)).length,
        paged: 0,
        posts: 0,
        lost: 0,
        duplicated: 0,
        signalsLost: n - (await signalFingerprints(again)).size,
      });
    },
    180_000,
  );
});
