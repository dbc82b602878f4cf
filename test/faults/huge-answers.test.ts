import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AirflowClient } from '../../src/sources/airflow/client.ts';
import { startSlackStandIn } from '../fakes/slack-api.ts';
import { eventually } from '../support/eventually.ts';
import { faultScale, recordOutcome } from './scale.ts';
import { type FloodingPeer, startFloodingAirflow, startFloodingLoki } from './support/flooding-peers.ts';
import { type GuardianProcess, startGuardianProcess } from './support/guardian-process.ts';
import { expectPostedExactlyOnce, listIncidents, postsByIncident } from './support/pipeline.ts';

const TOKEN = 'xoxb-fault-matrix';
const MiB = 1024 * 1024;
/**
 * What answering too much may add to Guardian's resident memory: a source reads at most 32 MiB
 * of one answer, held a few times over while it is read, joined and parsed.
 */
const RSS_GROWTH_BUDGET = 192 * MiB;

/** The child's resident set, sampled every 50 ms; `peak()` is the most seen. */
function sampleRss(pid: number) {
  const read = () =>
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
  const baseline = read();
  let peak = baseline;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, read());
    } catch {
      // the process exited; the test fails elsewhere
    }
  }, 50);
  return { baseline, peak: () => peak, stop: () => clearInterval(timer) };
}

/**
 * Airflow and Loki answering a gigabyte, without end, or a million entries: Guardian reads at
 * most its limit, reports the source down (one `source.down` incident, posted once), keeps its
 * memory within a stated budget, and takes the source back by itself when it answers normally.
 */
describe('fault matrix: a source answers without end or a million entries', () => {
  let dataDir: string;
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let guardian: GuardianProcess | undefined;
  let peer: FloodingPeer | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-faults-'));
    slack = await startSlackStandIn({ token: TOKEN });
  });
  afterEach(async () => {
    await guardian?.kill('SIGKILL');
    guardian = undefined;
    await peer?.close();
    peer = undefined;
    await slack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const config = (sources: object) => ({
    dataDir,
    logLevel: 'info' as const,
    notify: { groupWait: 0, reconcileInterval: 5_000 },
    slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
    detection: { tick: 200 },
    sources,
  });

  /** The one source.down incident: posted once, then resolved when the source answers again. */
  async function downThenBack(url: string, name: string, recover: () => void) {
    await eventually(
      async () => {
        const incidents = await listIncidents(url);
        expect(incidents.map((i) => i.title)).toContain(`Guardian cannot reach ${name}`);
        expect(postsByIncident(slack).size).toBe(1);
      },
      45_000,
      250,
    );
    recover();
    await eventually(
      async () => {
        const [incident] = await listIncidents(url);
        expect(incident?.status).toBe('resolved');
      },
      45_000,
      250,
    );
  }

  it('Airflow answering without end, then a million task instances: down, bounded, back', async () => {
    peer = await startFloodingAirflow('endless');
    const airflow = peer;
    guardian = await startGuardianProcess(
      config({ airflow: { url: airflow.url, password: 'pw', interval: 1_000, overlap: 1_000 } }),
    );
    const rss = sampleRss(guardian.pid);
    try {
      const url = guardian.url;
      await eventually(
        async () => {
          expect(await listIncidents(url)).toHaveLength(1);
          expect(guardian?.output()).toMatch(/over the 33554432-byte limit/);
        },
        45_000,
        250,
      );
      airflow.mode = 'million';
      const listed = '/api/v2/dags/~/dagRuns/~/taskInstances';
      await eventually(
        () => expect(guardian?.output()).toMatch(/pages over the 33554432-byte limit in all/),
        45_000,
        250,
      );
      const pages = airflow.requests(listed);
      await downThenBack(url, 'airflow', () => {
        airflow.mode = 'healthy';
      });
      const outcome = await expectPostedExactlyOnce(url, slack);
      expect(outcome).toMatchObject({ incidents: 1, paged: 1, posts: 1 });
      const growth = rss.peak() - rss.baseline;
      console.info(
        `airflow flood: ${Math.round(airflow.bytesSent() / MiB)} MiB sent, ${pages} pages of task instances, RSS ${Math.round(rss.baseline / MiB)} → peak ${Math.round(rss.peak() / MiB)} MiB`,
      );
      expect(airflow.bytesSent()).toBeGreaterThan(64 * MiB);
      expect(growth).toBeLessThan(RSS_GROWTH_BUDGET);
      recordOutcome(
        `Airflow answering without end, then ${pages * 100} of a million task instances (RSS +${Math.round(growth / MiB)} MiB)`,
        { faults: 2, ...outcome, signalsLost: 0 },
      );
    } finally {
      rss.stop();
    }
  }, 120_000);

  it('an Airflow task log of a million lines, or without end: its last 4 MiB kept, or a clear error', async () => {
    peer = await startFloodingAirflow('healthy');
    const client = new AirflowClient({ baseUrl: peer.url, username: 'guardian', password: 'pw' });
    const ti = { dag_id: 'flood_dag', dag_run_id: 'scheduled__flood', task_id: 'spill', map_index: -1 };
    const lines = await client.taskLog(ti, 1);
    const chars = lines.reduce((n, l) => n + l.length, 0);
    expect(chars).toBeLessThanOrEqual(4 * MiB);
    expect(chars).toBeGreaterThan(3 * MiB);
    expect(lines.at(-1)).toMatch(/line 999999 .*ERROR the end$/);
    expect(peer.requests('/api/v2/dags/flood_dag/dagRuns/scheduled__flood/taskInstances/spill/logs/1')).toBe(
      20,
    );
    console.info(
      `airflow task log: ${Math.round(peer.bytesSent() / MiB)} MiB sent, ${lines.length} lines kept`,
    );

    peer.mode = 'endless';
    await expect(client.taskLog(ti, 1)).rejects.toThrow(/answer is over the 33554432-byte limit/);
  }, 60_000);

  it(
    'Loki answering a million entries at once, then a burst paged: down, bounded, back, none skipped',
    async () => {
      const burst = faultScale({ ci: 150_000, long: 1_000_000 });
      peer = await startFloodingLoki('million', burst);
      const loki = peer;
      guardian = await startGuardianProcess(
        config({ loki: { url: loki.url, queries: ['{service_name="orders"}'], interval: 1_000 } }),
      );
      const rss = sampleRss(guardian.pid);
      try {
        const url = guardian.url;
        await eventually(
          () => expect(guardian?.output()).toMatch(/over the 33554432-byte limit/),
          45_000,
          250,
        );
        await downThenBack(url, 'loki', () => {
          loki.mode = 'healthy';
        });
        // The whole burst taken, in polls of at most 50,000 entries each.
        await eventually(
          () => expect(loki.reached()).toBe(burst),
          faultScale({ ci: 60_000, long: 900_000 }),
          250,
        );
        expect(guardian.output()).toMatch(/the next poll goes on/);
        const outcome = await expectPostedExactlyOnce(url, slack);
        expect(outcome).toMatchObject({ incidents: 1, paged: 1, posts: 1 });
        const growth = rss.peak() - rss.baseline;
        console.info(
          `loki flood: ${Math.round(loki.bytesSent() / MiB)} MiB sent, ${loki.requests('/loki/api/v1/query_range')} requests, RSS ${Math.round(rss.baseline / MiB)} → peak ${Math.round(rss.peak() / MiB)} MiB`,
        );
        expect(growth).toBeLessThan(RSS_GROWTH_BUDGET);
        recordOutcome(
          `Loki answering a million entries at once, then ${burst} paged (RSS +${Math.round(growth / MiB)} MiB)`,
          { faults: 1, ...outcome, signalsLost: 0 },
        );
      } finally {
        rss.stop();
      }
    },
    faultScale({ ci: 120_000, long: 1_000_000 }),
  );
});
